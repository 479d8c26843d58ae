"""Answer quality over an eval set: gold quotes, refusals, and follow-ups with and without history.

For each question of an eval set (see :mod:`articleqa.evaluation.evalset`) the answerer is
asked once as the question stands and, for a follow-up, once more with the conversation before
it (the earlier questions and the answers given to them). A reply *quotes gold* when one of its
quotes holds one of the question's ``relevant_text`` snippets (or, for a question without
snippets, one of its ``answers``).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from articleqa.answering import Answer
from articleqa.evaluation.evalset import EvalQuestion
from articleqa.readers.article import normalise_text

#: ``ask(question, history) -> Answer``; history in Gradio's messages format, or None.
Ask = Callable[[str, Sequence[Mapping[str, str]] | None], Answer]

#: Refusal thresholds over which the trade-off is reported.
THRESHOLDS: tuple[float, ...] = tuple(round(1.2 + 0.4 * i, 1) for i in range(9))


@dataclass(frozen=True)
class AnswerRow:
    """One reply to one eval question."""

    id: str
    question: str
    style: str | None
    answerable: bool
    follow_up: bool
    with_history: bool
    answered: bool
    quotes_gold: bool
    evidence: float
    resolved_question: str
    lacking: bool = False  # refused for a detail its quotes did not give, whatever the evidence


@dataclass(frozen=True)
class AnswerReport:
    """Rows and the shares that summarise them (None where a group is empty).

    Attributes:
        rows: One row per reply.
        gold: Answerable single-turn questions whose reply quotes gold.
        answered: Answerable single-turn questions that got an answer (not a refusal).
        refused: Unanswerable questions that were refused.
        follow_gold_alone: Follow-ups asked without their conversation that quote gold.
        follow_gold_history: Follow-ups asked with their conversation that quote gold.
        follow_answered_history: Follow-ups asked with their conversation that got an answer.
        trade_off: For each threshold, (share of answerable single-turn questions that
            would be refused, share of unanswerable ones that would be answered).
    """

    rows: tuple[AnswerRow, ...]
    gold: float | None
    answered: float | None
    refused: float | None
    follow_gold_alone: float | None
    follow_gold_history: float | None
    follow_answered_history: float | None
    trade_off: Mapping[float, tuple[float | None, float | None]]


def quotes_gold(answer: Answer, question: EvalQuestion) -> bool:
    """Whether a quote of the answer holds a gold snippet (or, without snippets, an answer)."""
    gold = [normalise_text(s) for s in (question.relevant_text or question.answers)]
    quotes = [normalise_text(c.quote) for c in answer.citations]
    return any(g in q for g in gold for q in quotes)


def evaluate_answers(questions: Iterable[EvalQuestion], ask: Ask, *,
                     progress: bool | None = None) -> AnswerReport:
    """Asks every question (follow-ups also with their conversation) and scores the replies.

    Args:
        questions: The eval set.
        ask: ``ask(question, history)``, e.g. ``ArticleIndex.ask``.
        progress: Show a progress bar on stderr; by default only when stderr is a terminal.
    """
    questions = list(questions)
    by_id = {q.id: q for q in questions}
    replies: dict[str, Answer] = {}  # the answer each question got in its conversation
    rows = []
    if progress is None:
        progress = sys.stderr.isatty()
    for question in tqdm(questions, desc="answers", unit="question", disable=not progress):
        alone = ask(question.question, None)
        rows.append(_row(question, alone, with_history=False))
        replies[question.id] = alone
        if question.follow_up_of is not None:
            history = _conversation(question.follow_up_of, by_id, replies)
            followed = ask(question.question, history)
            rows.append(_row(question, followed, with_history=True))
            replies[question.id] = followed
    return _report(tuple(rows))


def _conversation(parent_id: str, by_id: Mapping[str, EvalQuestion],
                  replies: Mapping[str, Answer]) -> list[dict[str, object]]:
    chain = []
    current: str | None = parent_id
    while current is not None:
        chain.append(current)
        current = by_id[current].follow_up_of
    messages = []
    for question_id in reversed(chain):
        messages.append({"role": "user", "content": by_id[question_id].question})
        messages.append({"role": "assistant", "content": replies[question_id].text,
                         "answer": replies[question_id]})
    return messages


def _row(question: EvalQuestion, answer: Answer, *, with_history: bool) -> AnswerRow:
    return AnswerRow(
        id=question.id,
        question=question.question,
        style=question.style,
        answerable=question.answerable,
        follow_up=question.follow_up_of is not None,
        with_history=with_history,
        answered=answer.answered,
        quotes_gold=question.answerable and quotes_gold(answer, question),
        evidence=answer.evidence,
        resolved_question=answer.resolved_question,
        lacking=answer.lacking is not None,
    )


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _report(rows: tuple[AnswerRow, ...]) -> AnswerReport:
    single = [r for r in rows if not r.follow_up]
    answerable = [r for r in single if r.answerable]
    unanswerable = [r for r in single if not r.answerable]
    follow_alone = [r for r in rows if r.follow_up and not r.with_history and r.answerable]
    follow_history = [r for r in rows if r.follow_up and r.with_history and r.answerable]
    trade_off = {
        t: (_share([r.evidence < t or r.lacking for r in answerable]),
            _share([r.evidence >= t and not r.lacking for r in unanswerable]))
        for t in THRESHOLDS
    }
    return AnswerReport(
        rows=rows,
        gold=_share([r.quotes_gold for r in answerable]),
        answered=_share([r.answered for r in answerable]),
        refused=_share([not r.answered for r in unanswerable]),
        follow_gold_alone=_share([r.quotes_gold for r in follow_alone]),
        follow_gold_history=_share([r.quotes_gold for r in follow_history]),
        follow_answered_history=_share([r.answered for r in follow_history]),
        trade_off=trade_off,
    )


def format_answer_report(report: AnswerReport) -> str:
    """The report as a terminal table."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:5.1f}%"

    single = [r for r in report.rows if not r.follow_up]
    counts = {
        "answerable": sum(r.answerable for r in single),
        "unanswerable": sum(not r.answerable for r in single),
        "follow-ups": sum(r.follow_up and r.with_history and r.answerable for r in report.rows),
    }
    lines = [
        "Answers",
        f"  answerable single-turn (n={counts['answerable']}): reply quotes gold "
        f"{pct(report.gold)}, answered {pct(report.answered)}",
        f"  unanswerable (n={counts['unanswerable']}): refused {pct(report.refused)}",
        f"  follow-ups (n={counts['follow-ups']}): quote gold without history "
        f"{pct(report.follow_gold_alone)}, with history {pct(report.follow_gold_history)} "
        f"(answered with history {pct(report.follow_answered_history)})",
        "",
        "Refusal threshold trade-off (evidence: see articleqa.answering.build_answer)",
        "  threshold  answerable refused  unanswerable answered",
    ]
    for threshold, (refused, answered) in report.trade_off.items():
        lines.append(f"  {threshold:9.2f}  {pct(refused):>18}  {pct(answered):>21}")
    evidence = [r.evidence for r in single]
    if evidence:
        lines.append(f"  (median evidence {statistics.median(evidence):.3f})")
    return "\n".join(lines) + "\n"


def answer_report_json(report: AnswerReport) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "gold": report.gold,
        "answered": report.answered,
        "refused": report.refused,
        "follow_gold_alone": report.follow_gold_alone,
        "follow_gold_history": report.follow_gold_history,
        "follow_answered_history": report.follow_answered_history,
        "trade_off": [{"threshold": t, "answerable_refused": a, "unanswerable_answered": u}
                      for t, (a, u) in report.trade_off.items()],
        "rows": [row.__dict__ for row in report.rows],
    }
