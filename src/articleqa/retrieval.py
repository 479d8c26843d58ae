"""Retrieval: search results, the hybrid search over a store and an encoder, and its maths.

:func:`search` is what ``ArticleIndex.search`` runs: each question is encoded and looked up in
the store's vectors (dense) and its full-text index (BM25 in the folder store; "bm25" names
that ranking whichever the store), the candidates of both are ranked by their cosine
similarity plus :data:`BM25_WEIGHT` times their BM25 score relative to the question's best
(:func:`fuse_scores`), at most ``per_article`` passages of one article are kept, and every
hit is scored by its cosine similarity to the question whatever the mode. Fusion and diversity
are pure functions, tested by hand.

Time (:mod:`articleqa.timewindow`): the time words of a question ("this week") set a date
window that narrows its filters, and are left out of the text that is scored (a window that
no article is dated in is dropped, and the question searched whole, time words included); a
question without them ranks recent articles a little higher (dense and hybrid modes), never
filters.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from articleqa.embedding import Encoder
from articleqa.filters import Filters
from articleqa.readers.article import Article, check_unicode
from articleqa.store import ChunkRecord
from articleqa.timewindow import as_of_date, narrow, parse_time, recency_prior

if TYPE_CHECKING:
    from articleqa.storage import Store

#: Questions encoded and searched together.
QUERY_BATCH = 256
#: Candidates each retriever proposes per question (at least; 4 k when k is larger).
CANDIDATES = 50
DEFAULT_MODE = "hybrid"
DEFAULT_PER_ARTICLE = 3


@dataclass(frozen=True)
class Hit:
    """One retrieved passage.

    Attributes:
        chunk_id: The passage's stable id.
        text: The passage, in the article's own words: ``article.body[start:end]``.
        score: Cosine similarity of question and passage (headline included), in [-1, 1];
            higher is better.
        start: Offset of the passage in ``article.body``.
        end: End offset (exclusive) of the passage in ``article.body``.
        article: The article the passage comes from.
    """

    chunk_id: str
    text: str
    score: float
    start: int
    end: int
    article: Article


MODES = ("dense", "bm25", "hybrid")
#: Weight of a passage's BM25 score, divided by the best BM25 score of the question, added to
#: its cosine similarity in hybrid search. Chosen on the dev split (docs/quality.md): 0.4-0.6
#: score alike there; reciprocal rank fusion scored below all of them.
BM25_WEIGHT = 0.5


def fuse_scores(cosine: Mapping[int, float], bm25: Mapping[int, float],
                weight: float = BM25_WEIGHT, prior: Mapping[int, float] | None = None
                ) -> list[int]:
    """Ranks the ids of either mapping by ``cosine + weight * bm25 / max(bm25) + prior`` (an id
    missing from ``bm25`` or ``prior`` adds 0; one missing from ``cosine`` counts as cosine 0).
    Returns the ids, best first; ties keep first-seen order, ``cosine`` before ``bm25``."""
    best = max(bm25.values(), default=0.0)
    scale = weight / best if best > 0 else 0.0
    ids = list(dict.fromkeys([*cosine, *bm25]))
    prior = prior or {}
    fused = {i: cosine.get(i, 0.0) + scale * bm25.get(i, 0.0) + prior.get(i, 0.0) for i in ids}
    return sorted(ids, key=lambda i: -fused[i])


def limit_per_article(
    ranked: Iterable[int], article_of: Mapping[int, str], per_article: int | None, k: int
) -> list[int]:
    """The first ``k`` ids of ``ranked`` with at most ``per_article`` from one article
    (None: no limit). Ids missing from ``article_of`` are skipped."""
    taken: list[int] = []
    counts: dict[str, int] = {}
    for item in ranked:
        article = article_of.get(item)
        if article is None:
            continue
        if per_article is not None and counts.get(article, 0) >= per_article:
            continue
        counts[article] = counts.get(article, 0) + 1
        taken.append(item)
        if len(taken) == k:
            break
    return taken


def hit_to_json(hit: Hit) -> dict[str, object]:
    """A hit as JSON-ready data, the one shape the command line and the web API give.

    The article's file path is left out: on the web API it would show the server's folders
    (and Gradio takes any object with a ``"path"`` for a file to send).
    """
    article = hit.article
    return {
        "score": round(hit.score, 6),
        "chunk_id": hit.chunk_id,
        "text": hit.text,
        "start": hit.start,
        "end": hit.end,
        "article": {
            "id": article.id,
            "title": article.title,
            "source": article.source,
            "country": article.country,
            "published": article.published.isoformat() if article.published else None,
            "url": article.url,
        },
    }


def search(
    store: Store,
    encoder: Encoder,
    questions: Iterable[str],
    k: int,
    *,
    filters: Filters | None = None,
    mode: str = DEFAULT_MODE,
    per_article: int | None = DEFAULT_PER_ARTICLE,
    as_of: object = None,
) -> list[list[Hit]]:
    """The ``k`` best passages of ``store`` for each question, best first (see the module
    docstring); questions are encoded and searched in batches of :data:`QUERY_BATCH`.
    ``as_of`` is the day the questions are asked (a date or ISO string; today when None).

    Raises:
        ValueError: If ``questions`` is a string, a question is empty or not a string, ``k`` <
            1, ``mode`` or ``per_article`` is invalid, or ``as_of`` is not a date.
    """
    if isinstance(questions, str):
        raise ValueError("search() takes a list of questions; use search_one() for one")
    check_k(k)
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not a retrieval mode; use one of {MODES}")
    if per_article is not None:
        check_k(per_article, "per_article")
    filters = filters or Filters()
    today = as_of_date(as_of)
    results: list[list[Hit]] = []
    numbered = enumerate(questions, start=1)
    while batch := list(itertools.islice(numbered, QUERY_BATCH)):
        queries = [parse_time(check_question(question, number), today)
                   for number, question in batch]
        # Questions with the same window are searched together, within it.
        groups: dict[tuple[Filters, bool], list[int]] = {}
        for row, query in enumerate(queries):
            key = (narrow(filters, query.window), query.window is not None)
            groups.setdefault(key, []).append(row)
        found: list[list[Hit]] = [[] for _ in queries]
        for (within, windowed), rows in groups.items():
            recent = None if windowed else today  # no time words: prefer recent articles
            texts = [queries[r].text for r in rows]
            hits = _search_batch(store, encoder, texts, k, mode, per_article, within, recent)
            if windowed and not any(hits) and _window_is_empty(store, encoder, within):
                # No article is dated in the window (an archive without dates, or none from
                # then): rather than nothing, articles of any date are searched, with the time
                # words as words of the question ("in December 2004"); the answer says so.
                hits = _search_batch(store, encoder, [batch[r][1] for r in rows], k, mode,
                                     per_article, filters, today)
            for row, row_hits in zip(rows, hits):
                found[row] = row_hits
        results.extend(found)
    return results


def _window_is_empty(store: Store, encoder: Encoder, within: Filters) -> bool:
    """Whether no passage matches ``within`` (filters narrowed to a question's window)."""
    probe = np.zeros((1, encoder.dimension), dtype=np.float32)
    probe[0, 0] = 1.0  # any unit vector: only whether something is found matters
    return not (store.dense_search(probe, 1, within)[1] >= 0).any()


def _search_batch(store: Store, encoder: Encoder, texts: list[str], k: int, mode: str,
                  per_article: int | None, filters: Filters,
                  recent: dt.date | None = None) -> list[list[Hit]]:
    # Each retriever proposes a pool of candidates (fewer when fewer passages match).
    depth = max(CANDIDATES, 4 * k)
    queries = encoder.encode(texts)
    cosine: list[dict[int, float]] = [{} for _ in texts]
    bm25: list[dict[int, float]] = [{} for _ in texts]
    if mode in ("dense", "hybrid"):
        scores, ids = store.dense_search(queries, depth, filters)
        for row, (row_scores, row_ids) in enumerate(zip(scores, ids)):
            valid = row_ids >= 0
            cosine[row].update(zip(row_ids[valid].tolist(), row_scores[valid].tolist()))
    if mode in ("bm25", "hybrid"):
        for row, text in enumerate(texts):
            row_scores, row_ids = store.lexical_search(text, depth, filters)
            bm25[row].update(zip(row_ids.tolist(), row_scores.tolist()))
    if mode == "hybrid":  # BM25's own candidates need their cosine to be fused
        _add_cosine(store, queries, cosine, bm25)
    prior: dict[int, float] = {}
    if recent is not None and mode != "bm25":
        prior = recency_prior(store.published_of({i for c in cosine for i in c}), recent)
    ranked = [sorted(c, key=lambda i: -(c[i] + prior.get(i, 0.0))) if mode == "dense"
              else list(b) if mode == "bm25" else fuse_scores(c, b, prior=prior)
              for c, b in zip(cosine, bm25)]
    article_of = store.article_ids_of({i for order in ranked for i in order})
    chosen = [limit_per_article(order, article_of, per_article, k) for order in ranked]
    if mode == "bm25":
        _add_cosine(store, queries, cosine, chosen)
    records = store.records(sorted({i for ids in chosen for i in ids}))
    return [[_hit(records[i], known[i]) for i in ids if i in records]
            for known, ids in zip(cosine, chosen)]


def _add_cosine(store: Store, queries: np.ndarray, cosine: list[dict[int, float]],
                wanted: Sequence[Iterable[int]]) -> None:
    """Adds to each question's ``cosine`` the similarity of the ids it lacks in ``wanted``."""
    for query, known, ids in zip(queries, cosine, wanted):
        unscored = [i for i in ids if i not in known]
        if unscored:
            known.update(zip(unscored, (store.vectors(unscored) @ query).tolist()))


def _hit(record: ChunkRecord, score: float) -> Hit:
    chunk = record.chunk
    return Hit(chunk.id, chunk.text, score, chunk.start, chunk.end, record.article)


def check_k(k: object, name: str = "k") -> None:
    """Raises ValueError unless ``k`` is a whole number of passages, 1 or more."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name}={k!r}: {name} must be a whole number of passages, 1 or more")


#: The longest question taken, in characters: the model reads about 1,000 of them, and reading
#: what a question asks for takes time that grows with its length.
MAX_QUESTION_CHARS = 2_000


def check_question(question: object, number: int | None = None) -> str:
    """The question, stripped.

    Raises:
        ValueError: If it is not text, empty or longer than :data:`MAX_QUESTION_CHARS`
            (``number`` says which of several it was).
    """
    which = f"question {number}" if number is not None else "the question"
    if not isinstance(question, str):
        raise ValueError(f"{which} is {type(question).__name__}, not text")
    if not question.strip():
        raise ValueError(f"{which} is empty; ask something")
    check_unicode(question, which)
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"{which} is {len(question):,} characters long; ask it in at most "
                         f"{MAX_QUESTION_CHARS:,}")
    return question



