"""Search results and the pure retrieval maths over arrays."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from articleqa.readers.article import Article


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
#: The constant of reciprocal rank fusion: a document at rank r adds 1 / (RRF_K + r). Lower
#: than the customary 60 because each list holds only ~50 candidates; chosen on the eval set.
RRF_K = 20


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Fuses ranked lists of ids: each id scores the sum of ``1 / (k + rank)`` (rank from 1)
    over the lists it appears in. Returns the ids, best first; ties keep first-seen order."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])


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
