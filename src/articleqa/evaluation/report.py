"""Reports of evaluation results: a terminal table, JSON, and a recall@k plot."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from articleqa.evaluation.metrics import METRICS
from articleqa.evaluation.run import FOLLOW_UPS, HEADLINE, EvalResult, QuestionRow


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
