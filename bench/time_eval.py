"""Time handling on the eval set: does the recency preference, or a window read from a
question's words, cost recall? (Run by hand, over an index of the eval set's articles.)

The eval set's BBC articles are undated and the Overview article is dated 24 November 2025.
Hybrid retrieval is run for the questions of a split:

- **before**: time handling switched off (time words kept in the text, no window, no recency
  preference), i.e. retrieval as it was;
- **as of today**: the default (``as_of`` is today: the Overview article is a year old or more,
  so its recency bonus is nil);
- **as of 2025-11-24**: the Overview article's own day, the worst case: its passages get the
  whole recency bonus for every question;
- **recency only, as of 2025-11-24**: the same without windows, to tell the two apart; and
  with a recency weight 3 and 10 times the default, to see where it starts to cost.

It then lists the questions whose words set a window (as of today), which leave out every
undated article.

Usage::

    .venv/bin/python bench/time_eval.py --index DIR [--split dev|test]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

from articleqa import ArticleIndex, evaluation, retrieval
from articleqa.timewindow import RECENCY_WEIGHT, TimeQuery, parse_time

EVALSET = Path(__file__).resolve().parents[1] / "tests" / "data" / "evalset.jsonl"
OVERVIEW_DAY = "2025-11-24"


@contextlib.contextmanager
def patched(windows: bool, weight: float) -> Iterator[None]:
    """Retrieval with windows on or off, and the recency preference of ``weight``."""
    parse, prior = retrieval.parse_time, retrieval.recency_prior
    if not windows:
        retrieval.parse_time = lambda question, as_of: TimeQuery(question, None)
    retrieval.recency_prior = functools.partial(prior, weight=weight)
    try:
        yield
    finally:
        retrieval.parse_time, retrieval.recency_prior = parse, prior


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="an index of the eval set's articles")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    args = parser.parse_args()
    questions = evaluation.select_split(evaluation.load_evalset(EVALSET), args.split)
    variants = {
        "before": (False, 0.0, None),
        "as of today": (True, RECENCY_WEIGHT, None),
        f"as of {OVERVIEW_DAY}": (True, RECENCY_WEIGHT, OVERVIEW_DAY),
        f"recency only, as of {OVERVIEW_DAY}": (False, RECENCY_WEIGHT, OVERVIEW_DAY),
        **{f"recency only x{times}, as of {OVERVIEW_DAY}": (False, times * RECENCY_WEIGHT,
                                                              OVERVIEW_DAY) for times in (3, 10)},
    }
    with ArticleIndex.open(args.index, create=False, llm=None) as index:
        results = {}
        for name, (windows, weight, as_of) in variants.items():
            with patched(windows, weight):
                results[name] = evaluation.evaluate(
                    questions, lambda texts, k, as_of=as_of: index.search(texts, k, as_of=as_of),
                    paths_of=lambda article: index.article_paths(article.id))
    print(f"{args.split}: hybrid, answerable single-turn questions")
    print(f"{'':<40} {'recall@1':>9} {'recall@5':>9} {'recall@10':>9} {'mrr@10':>7}")
    for name, result in results.items():
        m = result.headline.metrics
        print(f"{name:<40} {m['recall@1']:>9.3f} {m['recall@5']:>9.3f} {m['recall@10']:>9.3f} "
              f"{m['mrr@10']:>7.3f}")
    before = {row.id: row for row in results["before"].rows}
    windowed = [row for row in results["as of today"].rows
                if parse_time(row.question).window is not None]
    print(f"\n{len(windowed)} questions set a window (as of today); first relevant rank "
          f"before -> now:")
    for row in windowed:
        print(f"  {row.id}: {before[row.id].first_relevant_rank} -> {row.first_relevant_rank}"
              f"  {parse_time(row.question).window.phrase!r}: {row.question}")


if __name__ == "__main__":
    main()
