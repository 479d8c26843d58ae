"""Other outlets' takes and questions in time, measured on ``tests/data/takes`` (run by hand).

Ingests the 40 articles of ``tests/data/takes/articles.jsonl`` (our own words: six events told
by three or four outlets of different countries; stories of other events on the same topics,
six of them published within two days of an event; two undated explainers; three weeks of
November 2025 and two October stories) into a temporary index with the real model, then
prints:

- **coverage**: for every article of a labelled event, ``coverage(id, k=3)``: precision@3 (of
  the takes returned in the first three, the share that tell the same event; no take returned
  counts as precision 1 and recall 0) and recall@3 (of the other outlets' articles on the
  event, up to three, the share returned), for the default constants and a sweep of the date
  window, the names' weight and the threshold;
- **time windows**: for the labelled questions of ``tests/data/takes/questions.jsonl``,
  recall@1 and recall@3 (a relevant article first, among the first three hits) and the share
  of the first three hits published outside the labelled window, with the questions' windows
  and for the same questions searched without time handling (time words in the text, no
  window, no recency preference).

Usage::

    .venv/bin/python bench/takes.py [--sweep]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from pathlib import Path

from articleqa import ArticleIndex, retrieval
from articleqa.coverage import COVERAGE_DAYS, NAME_WEIGHT, SAME_EVENT, coverage
from articleqa.readers import read_articles
from articleqa.timewindow import TimeQuery

TAKES = Path(__file__).resolve().parents[1] / "tests" / "data" / "takes"


def coverage_scores(index: ArticleIndex, event_of: dict[str, str | None],
                    **options: float) -> tuple[float, float, float]:
    """Mean precision@3, recall@3 and takes returned per article, over the event articles."""
    precisions, recalls, returned = [], [], []
    ids_by_event: dict[str, list[str]] = {}
    for article_id, event in event_of.items():
        if event:
            ids_by_event.setdefault(event, []).append(article_id)
    for event, ids in ids_by_event.items():
        for article_id in ids:
            takes = coverage(index._store, article_id, 3, **options)  # noqa: SLF001 (bench)
            right = sum(event_of[take.article.id] == event for take in takes)
            precisions.append(right / len(takes) if takes else 1.0)
            recalls.append(right / min(3, len(ids) - 1))
            returned.append(len(takes))
    n = len(precisions)
    return sum(precisions) / n, sum(recalls) / n, sum(returned) / n


def window_scores(index: ArticleIndex, rows: list[dict], url_of: dict[str, str]
                  ) -> tuple[float, float, float]:
    """recall@1, recall@3 (a relevant article first, among the first three) and the share of
    the first three hits published outside the question's labelled window."""
    first = three = outside = shown = 0
    for row in rows:
        hits = index.search_one(row["question"], k=3, as_of=row["as_of"])
        relevant = [url_of[hit.article.id] in row["relevant"] for hit in hits]
        first += bool(relevant[:1] and relevant[0])
        three += any(relevant)
        for hit in hits:
            day = hit.article.published
            outside += day is None or not row["since"] <= day.isoformat() <= row["until"]
        shown += len(hits)
    return first / len(rows), three / len(rows), outside / max(shown, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="also sweep the constants")
    args = parser.parse_args()
    records = [json.loads(line) for line in
               (TAKES / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [json.loads(line) for line in
            (TAKES / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as folder, \
            ArticleIndex.open(Path(folder) / "index", llm=None) as index:
        index.ingest([TAKES / "articles.jsonl"], progress=False)
        articles, _ = read_articles(TAKES / "articles.jsonl")
        url_of = {article.id: article.url for article in articles}
        event_of = {article.id: {r["url"]: r["event"] for r in records}[article.url]
                    for article in articles}

        precision, recall, returned = coverage_scores(index, event_of)
        print(f"coverage (days={COVERAGE_DAYS}, name weight={NAME_WEIGHT}, "
              f"threshold={SAME_EVENT}), {sum(1 for e in event_of.values() if e)} articles: "
              f"precision@3 {precision:.3f}, recall@3 {recall:.3f}, "
              f"{returned:.2f} takes an article")
        if args.sweep:
            print("days  weight  threshold  precision@3  recall@3  takes")
            for days, weight, threshold in itertools.product(
                    (1, 3, 7, 30), (0.0, 0.2, 0.4, 0.6), (0.4, 0.5, 0.6, 0.7, 0.8)):
                p, r, n = coverage_scores(index, event_of, days=days, name_weight=weight,
                                          threshold=threshold)
                print(f"{days:>4}  {weight:>6}  {threshold:>9}  {p:>11.3f}  {r:>8.3f}  {n:.2f}")

        with_windows = window_scores(index, rows, url_of)
        # The same questions with time handling switched off: time words kept, no window.
        parse, prior = retrieval.parse_time, retrieval.recency_prior
        retrieval.parse_time = lambda question, as_of: TimeQuery(question, None)
        retrieval.recency_prior = lambda published, as_of: {}
        try:
            without = window_scores(index, rows, url_of)
        finally:
            retrieval.parse_time, retrieval.recency_prior = parse, prior
        print(f"time-window questions ({len(rows)}): recall@1, recall@3, hits outside the "
              f"window")
        for name, (r1, r3, out) in (("with their windows", with_windows),
                                    ("without time handling", without)):
            print(f"  {name:<22} {r1:.3f}  {r3:.3f}  {out:.3f}")


if __name__ == "__main__":
    main()
