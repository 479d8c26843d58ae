"""Search latency by retrieval mode, run by hand (not by CI).

Measures, over an existing index (build one with
``articleqa ingest --index DIR ../shared/corpus/overview ../shared/corpus/bbc``), the latency of
one question at a time for dense, bm25 and hybrid retrieval, interleaved question by question
so that all modes see the same machine load, the throughput of one batch per mode, and the
latency of ``ask`` (the quoted answer, no language model). The
questions are the eval set's (tests/data/evalset.jsonl), repeated to the count asked.

Usage::

    .venv/bin/python bench/search.py --index /tmp/full-ix [--questions 200] [--batch 1000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path

from articleqa import ArticleIndex
from articleqa.retrieval import MODES

EVALSET = Path(__file__).resolve().parents[1] / "tests" / "data" / "evalset.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="an index folder to search")
    parser.add_argument("--questions", type=int, default=200, help="one-at-a-time questions")
    parser.add_argument("--batch", type=int, default=1000, help="questions in the batch")
    parser.add_argument("--asks", type=int, default=50, help="questions answered with ask()")
    args = parser.parse_args()
    pool = [json.loads(line)["question"] for line in EVALSET.read_text().splitlines() if line]
    questions = list(itertools.islice(itertools.cycle(pool), args.questions))
    batch = list(itertools.islice(itertools.cycle(pool), args.batch))
    with ArticleIndex.open(args.index, create=False, llm=None) as index:
        for mode in MODES:  # warm up: model, segments, SQLite pages
            index.search(pool[:20], 5, mode=mode)
        latencies: dict[str, list[float]] = {mode: [] for mode in MODES}
        for question in questions:
            for mode in MODES:
                started = time.perf_counter()
                index.search_one(question, 5, mode=mode)
                latencies[mode].append(time.perf_counter() - started)
        rates: dict[str, float] = {mode: 0.0 for mode in MODES}
        for _ in range(3):  # rounds of all modes; the best round of each counts
            for mode in MODES:
                started = time.perf_counter()
                index.search(batch, 5, mode=mode)
                rates[mode] = max(rates[mode], len(batch) / (time.perf_counter() - started))
        asks = []
        for question in questions[: args.asks]:
            started = time.perf_counter()
            index.ask(question)
            asks.append(time.perf_counter() - started)
        info = index.info()
    print(f"index: {info['passages']} passages, {info['articles']} articles; "
          f"{len(questions)} questions one at a time, interleaved; batch of {len(batch)}")
    print(f"{'mode':8} {'median ms':>10} {'p95 ms':>8} {'vs dense':>9} {'batch q/s':>10}")
    dense_median = statistics.median(latencies["dense"])
    for mode in MODES:
        values = sorted(latencies[mode])
        median = statistics.median(values)
        p95 = values[int(0.95 * (len(values) - 1))]
        print(f"{mode:8} {1000 * median:10.1f} {1000 * p95:8.1f} {median / dense_median:8.2f}x "
              f"{rates[mode]:10.1f}")
    if asks:
        asks.sort()
        median, p95 = statistics.median(asks), asks[int(0.95 * (len(asks) - 1))]
        print(f"ask (quoted answer, {len(asks)} questions): median {1000 * median:.0f} ms, "
              f"p95 {1000 * p95:.0f} ms")


if __name__ == "__main__":
    main()
