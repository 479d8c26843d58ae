"""Relevance judgements and the metrics of one question.

Relevance is judged per passage. A question's *items* are its distinct ``relevant_text``
snippets (each found by the first hit, from a relevant article, that contains it) or, without
snippets, its relevant articles (each found by the first hit from it). The metrics are computed
from the rank at which each item is first found (:func:`recall_at`, :func:`mrr_at`,
:func:`ndcg_at`, :func:`hit_at`), by pure functions that the tests check by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from articleqa.evaluation.evalset import EvalQuestion
from articleqa.readers.article import Article, normalise_text
from articleqa.retrieval import Hit

#: Metric names, in report order; a value is reported as ``f"{name}@{k}"``.
METRICS: tuple[str, ...] = ("recall", "mrr", "ndcg", "hit", "answer_recall")
#: The file paths an article was read from.
PathsOf = Callable[[Article], Iterable[str]]


def article_paths(article: Article) -> list[str]:
    """The default ``paths_of``: the one path the article records, if any."""
    return [article.path] if article.path else []


def article_matches(entry: str, article: Article, paths: Iterable[str]) -> bool:
    """Whether a ``relevant_articles`` entry names this article.

    It does when it equals the article's id or is a suffix, on ``/`` boundaries, of one of the
    file paths the article was read from: ``"bbc/tech/001.txt"`` matches
    ``"/data/corpus/bbc/tech/001.txt"`` but not ``"/data/corpus/bbc/tech/1001.txt"``.
    """
    entry = _clean_path(entry)
    if entry == article.id:
        return True
    for path in paths:
        path = _clean_path(path)
        if path == entry or path.endswith("/" + entry):
            return True
    return False


def _clean_path(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


@dataclass(frozen=True)
class Judgement:
    """Which relevant items of a question each hit finds.

    Attributes:
        items: How many relevant items the question has.
        found: For each hit, best first, the items (numbered from 0) that it contains.
    """

    items: int
    found: tuple[frozenset[int], ...]

    @property
    def ranks(self) -> tuple[int | None, ...]:
        """For each item, the rank (from 1) of the first hit that finds it; None if none does."""
        first: list[int | None] = [None] * self.items
        for rank, items in enumerate(self.found, start=1):
            for item in items:
                if first[item] is None:
                    first[item] = rank
        return tuple(first)


def judge(question: EvalQuestion, hits: Sequence[Hit],
          paths_of: PathsOf = article_paths) -> Judgement:
    """Judges each hit against a question's labels.

    With ``relevant_text``, each distinct snippet (whitespace-normalised) is one item, found by
    a hit from a relevant article whose text contains it (any article when the question names
    none). Without it, each relevant article is one item, found by any hit from it; entries
    that turn out to name the same stored article (the same text under two file names) are one
    item. Such duplicates are only recognised when a hit from the article is among ``hits``.

    Args:
        question: The labelled question.
        hits: Its retrieved passages, best first.
        paths_of: The file paths an article was read from.

    Returns:
        The number of items, and the items each hit finds.
    """
    entries = list(dict.fromkeys(_clean_path(e) for e in question.relevant_articles))
    matched: dict[str, frozenset[int]] = {}

    def matches(article: Article) -> frozenset[int]:
        if article.id not in matched:
            paths = list(paths_of(article))
            matched[article.id] = frozenset(
                i for i, entry in enumerate(entries) if article_matches(entry, article, paths))
        return matched[article.id]

    if question.relevant_text:
        snippets = list(dict.fromkeys(normalise_text(s) for s in question.relevant_text))
        found = []
        for hit in hits:
            if entries and not matches(hit.article):
                found.append(frozenset())
                continue
            text = normalise_text(hit.text)
            found.append(frozenset(i for i, s in enumerate(snippets) if s in text))
        return Judgement(len(snippets), tuple(found))

    # One item per stored article: merge the entries that one article matches.
    parent = list(range(len(entries)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    per_hit = [matches(hit.article) for hit in hits]
    for group in per_hit:
        ordered = sorted(group)
        for other in ordered[1:]:
            parent[root(other)] = root(ordered[0])
    item_of = {r: n for n, r in enumerate(dict.fromkeys(root(i) for i in range(len(entries))))}
    found = tuple(frozenset(item_of[root(i)] for i in group) for group in per_hit)
    return Judgement(len(item_of), found)


def answer_rank(hits: Sequence[Hit], answers: Iterable[str]) -> int | None:
    """The rank (from 1) of the first hit containing a gold answer (whitespace-normalised)."""
    wanted = [normalise_text(a) for a in answers]
    for rank, hit in enumerate(hits, start=1):
        text = normalise_text(hit.text)
        if any(answer in text for answer in wanted):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of the items found within the first ``k`` hits.

    Args:
        ranks: For each item, the rank of the first hit that finds it (None: not found).
        k: The cut-off.

    Raises:
        ValueError: If there are no items.
    """
    _check_items(ranks)
    return sum(r is not None and r <= k for r in ranks) / len(ranks)


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    """1.0 if any item is found within the first ``k`` hits, else 0.0.

    Raises:
        ValueError: If there are no items.
    """
    _check_items(ranks)
    return float(any(r is not None and r <= k for r in ranks))


def mrr_at(ranks: Sequence[int | None], k: int) -> float:
    """Reciprocal rank of the first relevant hit (one that finds any item), 0.0 beyond ``k``.

    Raises:
        ValueError: If there are no items.
    """
    _check_items(ranks)
    first = min((r for r in ranks if r is not None), default=None)
    return 1.0 / first if first is not None and first <= k else 0.0


def ndcg_at(ranks: Sequence[int | None], k: int) -> float:
    """Normalised discounted cumulative gain with binary gains, each item counted once.

    A hit has gain 1 when it is the first to find some item; so the gains sit at the distinct
    ranks in ``ranks``. The ideal DCG puts one item at each of the first ``min(k, items)``
    ranks, so a passage holding two items earns one gain and caps the score below 1.

    Raises:
        ValueError: If there are no items.
    """
    _check_items(ranks)
    gains = {r for r in ranks if r is not None and r <= k}
    dcg = sum(1.0 / math.log2(r + 1) for r in gains)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, len(ranks)) + 1))
    return dcg / ideal


def _check_items(ranks: Sequence[int | None]) -> None:
    if not ranks:
        raise ValueError("the question has no relevant items; its metrics are undefined")


_RANKED = {"recall": recall_at, "mrr": mrr_at, "ndcg": ndcg_at, "hit": hit_at}


def question_metrics(ranks: Sequence[int | None], answer: int | None, has_answers: bool,
                     ks: Sequence[int]) -> dict[str, float]:
    """Every metric of one question at each cut-off, keyed ``"recall@5"``.

    Args:
        ranks: First rank of each item; empty for a question without relevance labels (then
            only answer recall is given).
        answer: Rank of the first hit containing a gold answer, or None.
        has_answers: Whether the question has gold answers (otherwise no answer recall).
        ks: The cut-offs.
    """
    values: dict[str, float] = {}
    for name in METRICS:
        for k in ks:
            if name == "answer_recall":
                if has_answers:
                    values[f"{name}@{k}"] = float(answer is not None and answer <= k)
            elif ranks:
                values[f"{name}@{k}"] = _RANKED[name](ranks, k)
    return values
