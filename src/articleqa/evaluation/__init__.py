"""Evaluation: how well retrieval and answers do on a labelled eval set.

- :mod:`.evalset`: the eval-set format (JSON Lines) and its dev/test splits;
- :mod:`.metrics`: relevance judgements and the metrics of one question;
- :mod:`.run`: a search run over an eval set, with group means;
- :mod:`.report`: a table, JSON and a plot of the results;
- :mod:`.answers`: the quality of the answers (gold quotes, refusals, follow-ups).

The names below are the ones to use: ``from articleqa import evaluation`` then
``evaluation.compare(evaluation.load_evalset(path), {...})``.
"""

from __future__ import annotations

from articleqa.evaluation.answers import (
    AnswerReport,
    AnswerRow,
    answer_report_json,
    evaluate_answers,
    format_answer_report,
    quotes_gold,
)
from articleqa.evaluation.evalset import SPLITS, EvalQuestion, load_evalset, select_split
from articleqa.evaluation.metrics import (
    METRICS,
    Judgement,
    PathsOf,
    answer_rank,
    article_matches,
    article_paths,
    hit_at,
    judge,
    mrr_at,
    ndcg_at,
    question_metrics,
    recall_at,
)
from articleqa.evaluation.report import format_table, plot_recall, results_to_json
from articleqa.evaluation.run import (
    DEFAULT_KS,
    FOLLOW_UPS,
    HEADLINE,
    EvalResult,
    GroupMetrics,
    QuestionRow,
    ScoreStats,
    Search,
    compare,
    evaluate,
    misses,
)

__all__ = [
    "DEFAULT_KS",
    "FOLLOW_UPS",
    "HEADLINE",
    "METRICS",
    "SPLITS",
    "AnswerReport",
    "AnswerRow",
    "EvalQuestion",
    "EvalResult",
    "GroupMetrics",
    "Judgement",
    "PathsOf",
    "QuestionRow",
    "ScoreStats",
    "Search",
    "answer_rank",
    "answer_report_json",
    "article_matches",
    "article_paths",
    "compare",
    "evaluate",
    "evaluate_answers",
    "format_answer_report",
    "format_table",
    "hit_at",
    "judge",
    "load_evalset",
    "misses",
    "mrr_at",
    "ndcg_at",
    "plot_recall",
    "question_metrics",
    "quotes_gold",
    "recall_at",
    "results_to_json",
    "select_split",
]
