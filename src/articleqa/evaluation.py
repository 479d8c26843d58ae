"""Retrieval evaluation: the eval-set format, relevance judgements, metrics and reports.

An eval set is JSON Lines, one question a line::

    {"id": "q1", "question": "Where was the assembly held?",
     "relevant_articles": ["overview/000_9f3ee334bca204eb.txt"],
     "relevant_text": ["the Interpol General Assembly on Monday in Marrakech"],
     "answers": ["Marrakech"], "answerable": true, "style": "fact", "tags": ["place"]}

Relevance is judged per passage. A question's *items* are its distinct ``relevant_text``
snippets (each found by the first hit, from a relevant article, that contains it) or, without
snippets, its relevant articles (each found by the first hit from it). The metrics are computed
from the rank at which each item is first found (:func:`recall_at`, :func:`mrr_at`,
:func:`ndcg_at`, :func:`hit_at`), by pure functions that the tests check by hand.

:func:`evaluate` runs one search callable over an eval set; :func:`compare` runs several side by
side; :func:`format_table`, :func:`results_to_json`, :func:`plot_recall` and :func:`misses`
report the results.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from articleqa.articles import Article, normalise_text
from articleqa.retrieval import Hit

#: Cut-offs reported by default.
DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10, 20)
#: Metric names, in report order; a value is reported as ``f"{name}@{k}"``.
METRICS: tuple[str, ...] = ("recall", "mrr", "ndcg", "hit", "answer_recall")
#: The headline group: answerable questions that are not follow-ups.
HEADLINE = "all"
#: Follow-up questions, asked as written (without the conversation before them).
FOLLOW_UPS = "follow-ups"

#: ``search(questions, k) -> one list of hits per question``, best first.
Search = Callable[[list[str], int], Sequence[Sequence[Hit]]]
#: The file paths an article was read from.
PathsOf = Callable[[Article], Iterable[str]]

_KEYS = ("id", "question", "relevant_articles", "relevant_text", "answers", "answerable",
         "style", "tags", "follow_up_of", "split")
#: The parts of an eval set: constants are chosen on ``dev`` and reported on ``test``; no
#: article is in both.
SPLITS = ("dev", "test")


# --------------------------------------------------------------------------------------------
# The eval set
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalQuestion:
    """One labelled question of an eval set.

    Attributes:
        id: Unique within the eval set.
        question: The question as a user would ask it.
        relevant_articles: Article ids, or file paths matched by suffix
            (``"bbc/tech/001.txt"``), of the articles that answer it.
        relevant_text: Short snippets that a relevant passage contains.
        answers: Gold answer strings.
        answerable: False for questions the corpus cannot answer.
        style: The kind of question (``"fact"``, ``"what_said"``, ...), if labelled.
        tags: Free labels used to break the results down.
        follow_up_of: Id of the earlier question this one follows, if any.
        split: ``"dev"`` (constants are tuned on it) or ``"test"`` (reported only), if set.
    """

    id: str
    question: str
    relevant_articles: tuple[str, ...] = ()
    relevant_text: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    answerable: bool = True
    style: str | None = None
    tags: tuple[str, ...] = ()
    follow_up_of: str | None = None
    split: str | None = None


def select_split(questions: Iterable[EvalQuestion], split: str | None) -> list[EvalQuestion]:
    """The questions of one split (None: all of them).

    Raises:
        ValueError: If ``split`` is not one of :data:`SPLITS`, or no question belongs to it.
    """
    questions = list(questions)
    if split is None:
        return questions
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {SPLITS}")
    chosen = [q for q in questions if q.split == split]
    if not chosen:
        raise ValueError(f"no question of the eval set is in the {split!r} split; label "
                         f"questions with \"split\": \"{split}\"")
    return chosen


def load_evalset(path: str | os.PathLike[str]) -> list[EvalQuestion]:
    """Reads an eval set (JSON Lines, one question a line; blank lines are skipped).

    Args:
        path: The ``.jsonl`` file.

    Returns:
        The questions, in file order.

    Raises:
        ValueError: Naming the file and line, if the file cannot be read, a line is not a JSON
            object, a key is unknown or has the wrong type, ``id`` or ``question`` is missing,
            an id is used twice, ``follow_up_of`` names no earlier question, an unanswerable
            question carries relevance labels, or the file holds no question.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read the eval set {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start}); "
                         "save the eval set as UTF-8") from None
    questions: list[tuple[EvalQuestion, int]] = []
    line_of: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: not valid JSON ({error.msg} at column {error.colno}); "
                             "write one JSON object a line") from None
        question = _parse_question(record, where)
        if question.id in line_of:
            raise ValueError(f"{where}: duplicate id {question.id!r} "
                             f"(first used on line {line_of[question.id]}); ids must be unique")
        line_of[question.id] = number
        questions.append((question, number))
    if not questions:
        raise ValueError(f"{path} holds no questions; write one JSON object a line")
    for question, number in questions:
        parent = question.follow_up_of
        if parent is None:
            continue
        if parent not in line_of:
            raise ValueError(f"{path}:{number}: follow_up_of {parent!r} is not the id of any "
                             "question in the file")
        if line_of[parent] >= number:
            raise ValueError(f"{path}:{number}: follow_up_of {parent!r} is on line "
                             f"{line_of[parent]}; a follow-up must come after the question "
                             "it follows")
    return [question for question, _ in questions]


def _parse_question(record: object, where: str) -> EvalQuestion:
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - set(_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; the keys are {list(_KEYS)}")
    for key in ("id", "question"):
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: {key!r} is missing or not a non-empty string")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise ValueError(f"{where}: 'answerable' must be true or false, not {answerable!r}")
    question = EvalQuestion(
        id=record["id"],
        question=record["question"],
        relevant_articles=_strings(record, "relevant_articles", where),
        relevant_text=_strings(record, "relevant_text", where),
        answers=_strings(record, "answers", where),
        answerable=answerable,
        style=_optional_string(record, "style", where),
        tags=_strings(record, "tags", where),
        follow_up_of=_optional_string(record, "follow_up_of", where),
        split=_optional_string(record, "split", where),
    )
    if question.split is not None and question.split not in SPLITS:
        raise ValueError(f"{where}: 'split' must be one of {list(SPLITS)}, not {question.split!r}")
    if not answerable and (question.relevant_articles or question.relevant_text
                           or question.answers):
        raise ValueError(f"{where}: question {question.id!r} is marked unanswerable but has "
                         "relevant_articles, relevant_text or answers; remove one or the other")
    return question


def _strings(record: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = record.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
        raise ValueError(f"{where}: {key!r} must be a list of non-empty strings, "
                         f"not {value!r}")
    return tuple(value)


def _optional_string(record: Mapping[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{where}: {key!r} must be a non-empty string, not {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# Judging hits
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Metrics of one question, from the first rank of each item
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Evaluating a search over an eval set
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------------


def format_table(results: Mapping[str, EvalResult], *, style_k: int = 5,
                 mrr_k: int = 10) -> str:
    """A plain-text report comparing searches (columns) on the same eval set.

    First every metric at every cut-off for the headline group (answerable single-turn
    questions); then recall@``style_k`` and MRR@``mrr_k`` per style (with the follow-ups as
    one more row) and per tag; then the top-1 score distributions. A cut-off that was not
    evaluated is replaced by the nearest evaluated one below it (or the smallest).

    Raises:
        ValueError: If ``results`` is empty or its results used different cut-offs.
    """
    ks = _same_ks(results)
    modes = list(results)
    style_k, mrr_k = _nearest(ks, style_k), _nearest(ks, mrr_k)
    width = max(8, *(len(m) for m in modes))
    lines: list[str] = []

    first = next(iter(results.values()))
    headline = first.headline
    lines.append(f"Answerable single-turn questions (n={headline.questions if headline else 0})")
    lines.append(f"{'metric':<18}" + "".join(f" {m:>{width}}" for m in modes))
    for metric in METRICS:
        for k in ks:
            key = f"{metric}@{k}"
            cells = [_cell(r.headline.metrics.get(key) if r.headline else None, width)
                     for r in results.values()]
            if any(cell.strip() != "-" for cell in cells):
                lines.append(f"{key:<18}" + "".join(" " + c for c in cells))
    if headline and headline.with_answers < headline.questions:
        lines.append(f"(answer_recall over the {headline.with_answers} questions with answers)")

    row_names = [n for n in first.groups if n.startswith("style:")]
    if FOLLOW_UPS in first.groups:
        row_names.append(FOLLOW_UPS)
    for title, names in (("style", row_names),
                         ("tag", [n for n in first.groups if n.startswith("tag:")])):
        if names:
            lines.append("")
            lines.extend(_breakdown(results, title, names, f"recall@{style_k}",
                                    f"mrr@{mrr_k}", width))
    if FOLLOW_UPS in first.groups:
        lines.append("(follow-ups: asked as written, without the conversation before them)")

    lines.append("")
    lines.append(f"{'top-1 score':<{width + 14}} {'n':>4} {'mean':>6} {'median':>6} "
                 f"{'min':>6} {'max':>6}")
    for mode, result in results.items():
        for kind, stats in result.top_scores.items():
            label = f"{mode} {kind}"
            if stats is None:
                lines.append(f"{label:<{width + 14}} {0:>4}")
            else:
                lines.append(f"{label:<{width + 14}} {stats.count:>4} {stats.mean:>6.3f} "
                             f"{stats.median:>6.3f} {stats.min:>6.3f} {stats.max:>6.3f}")
    unjudged = sum(r.answerable and r.items == 0 for r in first.rows)
    if unjudged:
        lines.append(f"({unjudged} answerable questions have no relevant_articles or "
                     "relevant_text and are left out of the retrieval metrics)")
    return "\n".join(lines) + "\n"


def _breakdown(results: Mapping[str, EvalResult], title: str, names: Sequence[str],
               left: str, right: str, width: int) -> list[str]:
    modes = list(results)
    label_width = max(len(title), *(len(_short(n)) for n in names)) + 1
    span = (width + 1) * len(modes)
    lines = [f"{'':<{label_width}} {'':>4}  {left:<{span}}  {right}",
             f"{title:<{label_width}} {'n':>4}  " + "".join(f"{m:>{width}} " for m in modes)
             + " " + "".join(f"{m:>{width}} " for m in modes).rstrip()]
    first = next(iter(results.values()))
    for name in names:
        cells = []
        for key in (left, right):
            for result in results.values():
                group = result.groups.get(name)
                cells.append(_cell(group.metrics.get(key) if group else None, width) + " ")
            cells.append(" ")
        lines.append(f"{_short(name):<{label_width}} {first.groups[name].questions:>4}  "
                     + "".join(cells).rstrip())
    return lines


def _short(name: str) -> str:
    return name.split(":", 1)[1] if ":" in name else name


def _cell(value: float | None, width: int) -> str:
    return f"{'-' if value is None else f'{value:.3f}':>{width}}"


def _nearest(ks: Sequence[int], k: int) -> int:
    below = [x for x in ks if x <= k]
    return max(below) if below else min(ks)


def _same_ks(results: Mapping[str, EvalResult]) -> tuple[int, ...]:
    if not results:
        raise ValueError("no results to report")
    ks = {result.ks for result in results.values()}
    if len(ks) > 1:
        raise ValueError(f"the results used different cut-offs {sorted(ks)}; evaluate them "
                         "with the same ks")
    return ks.pop()


def results_to_json(results: Mapping[str, EvalResult]) -> dict[str, Any]:
    """The results as plain JSON-ready data: ``{"ks": [...], "modes": {name: {...}}}``.

    Each mode holds ``groups`` (name -> ``questions``, ``with_answers``, ``metrics``),
    ``top_scores`` (``answerable`` / ``unanswerable`` -> count, mean, median, min, max, or
    null) and ``questions`` (one row per question: id, style, tags, follow_up_of, answerable,
    items, item_ranks, first_relevant_rank, answer_rank, hits, top_score, metrics).

    Raises:
        ValueError: If ``results`` is empty or its results used different cut-offs.
    """
    ks = _same_ks(results)
    return {
        "ks": list(ks),
        "modes": {
            mode: {
                "groups": {name: {"questions": g.questions, "with_answers": g.with_answers,
                                  "metrics": dict(g.metrics)}
                           for name, g in result.groups.items()},
                "top_scores": {kind: None if s is None else {
                    "count": s.count, "mean": s.mean, "median": s.median, "min": s.min,
                    "max": s.max} for kind, s in result.top_scores.items()},
                "questions": [_row_json(row) for row in result.rows],
            }
            for mode, result in results.items()
        },
    }


def _row_json(row: QuestionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "question": row.question,
        "style": row.style,
        "tags": list(row.tags),
        "follow_up_of": row.follow_up_of,
        "answerable": row.answerable,
        "items": row.items,
        "item_ranks": list(row.item_ranks),
        "first_relevant_rank": row.first_relevant_rank,
        "answer_rank": row.answer_rank,
        "hits": row.hits,
        "top_score": row.top_score,
        "metrics": dict(row.metrics),
    }


def plot_recall(results: Mapping[str, EvalResult], path: str | os.PathLike[str], *,
                group: str = HEADLINE) -> Path:
    """Draws recall@k against k, one curve per search, for one group, into an image file.

    Args:
        results: ``{name: result}`` from :func:`compare`.
        path: The image file; its extension chooses the format (``.png``, ``.svg``, ``.pdf``).
        group: The group to draw (default: answerable single-turn questions).

    Returns:
        The path written.

    Raises:
        ImportError: If matplotlib is not installed.
        ValueError: If ``results`` is empty, used different cut-offs, or has no such group.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("plotting needs matplotlib: pip install 'articleqa[plot]'") from error
    ks = _same_ks(results)
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    axes = figure.add_subplot()
    questions = 0
    for mode, result in results.items():
        metrics = result.groups.get(group)
        if metrics is None:
            raise ValueError(f"no question of {mode!r} is in the group {group!r}")
        questions = metrics.questions
        axes.plot(ks, [metrics.metrics[f"recall@{k}"] for k in ks], marker="o", label=mode)
    axes.set_xscale("log")
    axes.set_xticks(ks, [str(k) for k in ks])
    axes.minorticks_off()
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("k (passages retrieved)")
    axes.set_ylabel("recall@k")
    what = "answerable single-turn questions" if group == HEADLINE else group
    axes.set_title(f"Recall@k, {what} (n={questions})")
    axes.grid(True, alpha=0.3)
    axes.legend()
    path = Path(path)
    figure.savefig(path, dpi=120)
    return path
