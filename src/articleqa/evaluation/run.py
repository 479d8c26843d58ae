"""Running searches over an eval set: per-question rows, group means and top-score spreads.

:func:`evaluate` runs one search callable over an eval set; :func:`compare` runs several side by
side; :func:`misses` lists the questions whose passages were not all found.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from articleqa.evaluation.evalset import EvalQuestion
from articleqa.evaluation.metrics import (
    METRICS,
    PathsOf,
    answer_rank,
    article_paths,
    judge,
    question_metrics,
)
from articleqa.readers.article import Article
from articleqa.retrieval import Hit

#: Cut-offs reported by default.
DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10, 20)
#: The headline group: answerable questions that are not follow-ups.
HEADLINE = "all"
#: Follow-up questions, asked as written (without the conversation before them).
FOLLOW_UPS = "follow-ups"

#: ``search(questions, k) -> one list of hits per question``, best first.
Search = Callable[[list[str], int], Sequence[Sequence[Hit]]]


@dataclass(frozen=True)
class QuestionRow:
    """The outcome for one question.

    Attributes:
        id, question, style, tags, follow_up_of, answerable: From the eval set.
        items: Relevant items (0 for unanswerable or unlabelled questions).
        item_ranks: First rank at which each item was found (None: not within the hits).
        answer_rank: First rank of a hit containing a gold answer (None: none did, or no
            answers).
        has_answers: Whether the question has gold answers.
        hits: How many hits the search returned.
        top_score: Score of the best hit, None without hits.
        metrics: ``{"recall@5": ..., ...}`` (empty for unanswerable questions).
    """

    id: str
    question: str
    style: str | None
    tags: tuple[str, ...]
    follow_up_of: str | None
    answerable: bool
    items: int
    item_ranks: tuple[int | None, ...]
    answer_rank: int | None
    has_answers: bool
    hits: int
    top_score: float | None
    metrics: Mapping[str, float]

    @property
    def first_relevant_rank(self) -> int | None:
        """Rank of the first hit that finds any item."""
        return min((r for r in self.item_ranks if r is not None), default=None)

    @property
    def judged(self) -> bool:
        """Answerable and labelled with relevant items."""
        return self.answerable and self.items > 0

    def found_by(self, k: int) -> int:
        """How many items were found within the first ``k`` hits."""
        return sum(r is not None and r <= k for r in self.item_ranks)


@dataclass(frozen=True)
class GroupMetrics:
    """Mean metrics over a group of questions.

    Attributes:
        name: ``"all"``, ``"follow-ups"``, ``"style:<style>"`` or ``"tag:<tag>"``.
        questions: Questions in the group (answerable, with relevance labels).
        with_answers: Those of them with gold answers (answer recall is averaged over these).
        metrics: Means, keyed ``"recall@5"``; no ``answer_recall`` keys without answers.
    """

    name: str
    questions: int
    with_answers: int
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class ScoreStats:
    """The distribution of top-1 scores of some questions."""

    count: int
    mean: float
    median: float
    min: float
    max: float


@dataclass(frozen=True)
class EvalResult:
    """The outcome of one search over an eval set.

    Attributes:
        ks: The cut-offs.
        rows: One row per question, in eval-set order.
        groups: Mean metrics: ``"all"`` (answerable single-turn questions, the headline),
            ``"follow-ups"`` (asked as written), and per ``"style:..."`` and ``"tag:..."``
            (both within the headline group).
        top_scores: Top-1 score distribution of ``"answerable"`` (the headline group) and
            ``"unanswerable"`` questions; None where no such question got a hit.
    """

    ks: tuple[int, ...]
    rows: tuple[QuestionRow, ...]
    groups: Mapping[str, GroupMetrics]
    top_scores: Mapping[str, ScoreStats | None]

    @property
    def headline(self) -> GroupMetrics | None:
        """The ``"all"`` group; None when the eval set has no judged single-turn question."""
        return self.groups.get(HEADLINE)


def evaluate(
    questions: Iterable[EvalQuestion],
    search: Search,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    paths_of: PathsOf = article_paths,
) -> EvalResult:
    """Searches every question once (one batch, ``k = max(ks)``) and scores the hits.

    Args:
        questions: The eval set (see :func:`load_evalset`).
        search: ``search(questions, k)`` returning one list of hits per question, best first.
        ks: Cut-offs to report.
        paths_of: The file paths an article was read from, to match ``relevant_articles``
            (default: ``article.path``). Called once per distinct article.

    Returns:
        Per-question rows, group means and top-score distributions.

    Raises:
        ValueError: If there are no questions, ``ks`` is empty or holds a value below 1, or
            ``search`` returns a different number of result lists than questions.
    """
    questions = list(questions)
    ks = _check_ks(ks)
    if not questions:
        raise ValueError("no questions to evaluate")
    results = list(search([q.question for q in questions], max(ks)))
    if len(results) != len(questions):
        raise ValueError(f"search returned {len(results)} result lists for "
                         f"{len(questions)} questions")
    paths_of = _cached(paths_of)
    rows = tuple(_row(q, list(hits)[:max(ks)], paths_of, ks)
                 for q, hits in zip(questions, results))
    return EvalResult(ks, rows, _groups(rows, ks), _top_scores(rows))


def compare(
    questions: Iterable[EvalQuestion],
    searches: Mapping[str, Search],
    *,
    ks: Sequence[int] = DEFAULT_KS,
    paths_of: PathsOf = article_paths,
) -> dict[str, EvalResult]:
    """Evaluates several searches (e.g. retrieval modes) over the same questions.

    Returns:
        ``{name: result}`` in the order of ``searches``.

    Raises:
        ValueError: As :func:`evaluate`, or if ``searches`` is empty.
    """
    if not searches:
        raise ValueError("no searches to compare")
    questions = list(questions)
    paths_of = _cached(paths_of)
    return {name: evaluate(questions, search, ks=ks, paths_of=paths_of)
            for name, search in searches.items()}


def misses(result: EvalResult, k: int = 5) -> list[QuestionRow]:
    """The judged questions whose relevant items were not all found within ``k`` hits.

    Raises:
        ValueError: If ``k`` is below 1 or deeper than the evaluation searched.
    """
    if k < 1 or k > max(result.ks):
        raise ValueError(f"k={k}: choose a cut-off from 1 to {max(result.ks)} (the depth "
                         "searched)")
    return [row for row in result.rows if row.judged and row.found_by(k) < row.items]


def _check_ks(ks: Sequence[int]) -> tuple[int, ...]:
    ks = tuple(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ValueError(f"ks={ks!r}: give one or more cut-offs, whole numbers of 1 or more")
    return tuple(sorted(set(ks)))


def _cached(paths_of: PathsOf) -> PathsOf:
    cache: dict[str, list[str]] = {}

    def cached(article: Article) -> list[str]:
        if article.id not in cache:
            cache[article.id] = list(paths_of(article))
        return cache[article.id]

    return cached


def _row(question: EvalQuestion, hits: list[Hit], paths_of: PathsOf,
         ks: Sequence[int]) -> QuestionRow:
    if question.answerable:
        ranks = judge(question, hits, paths_of).ranks
        answer = answer_rank(hits, question.answers) if question.answers else None
        values = question_metrics(ranks, answer, bool(question.answers), ks)
    else:
        ranks, answer, values = (), None, {}
    return QuestionRow(
        id=question.id,
        question=question.question,
        style=question.style,
        tags=question.tags,
        follow_up_of=question.follow_up_of,
        answerable=question.answerable,
        items=len(ranks),
        item_ranks=ranks,
        answer_rank=answer,
        has_answers=bool(question.answers),
        hits=len(hits),
        top_score=float(hits[0].score) if hits else None,
        metrics=values,
    )


def _groups(rows: Sequence[QuestionRow], ks: Sequence[int]) -> dict[str, GroupMetrics]:
    headline = [r for r in rows if r.judged and r.follow_up_of is None]
    members: dict[str, list[QuestionRow]] = {
        HEADLINE: headline,
        FOLLOW_UPS: [r for r in rows if r.judged and r.follow_up_of is not None],
    }
    for style in sorted({r.style for r in headline if r.style}):
        members[f"style:{style}"] = [r for r in headline if r.style == style]
    for tag in sorted({t for r in headline for t in r.tags}):
        members[f"tag:{tag}"] = [r for r in headline if tag in r.tags]
    return {name: _mean(name, group, ks) for name, group in members.items() if group}


def _mean(name: str, rows: Sequence[QuestionRow], ks: Sequence[int]) -> GroupMetrics:
    answered = [r for r in rows if r.has_answers]
    means: dict[str, float] = {}
    for metric in METRICS:
        over = answered if metric == "answer_recall" else rows
        if over:
            for k in ks:
                key = f"{metric}@{k}"
                means[key] = statistics.fmean(r.metrics[key] for r in over)
    return GroupMetrics(name, len(rows), len(answered), means)


def _top_scores(rows: Sequence[QuestionRow]) -> dict[str, ScoreStats | None]:
    answerable = [r.top_score for r in rows if r.judged and r.follow_up_of is None
                  and r.top_score is not None]
    unanswerable = [r.top_score for r in rows if not r.answerable and r.top_score is not None]
    return {"answerable": _stats(answerable), "unanswerable": _stats(unanswerable)}


def _stats(scores: Sequence[float]) -> ScoreStats | None:
    if not scores:
        return None
    return ScoreStats(len(scores), statistics.fmean(scores), statistics.median(scores),
                      min(scores), max(scores))
