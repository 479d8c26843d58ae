"""A million passages: build time, disk, memory, latency and recall by index size, run by hand.

Builds one index folder up to each of ``--sizes`` passages in turn (100,000 then 1,000,000 by
default; the index grows, it is not rebuilt) through the store's own ``add`` and ``compact``
(embedding nothing), and at each size prints:

- build time (to reach that size from empty) and the folder's size on disk;
- the resident memory of a new process that opened the index and searched it;
- one-question latency (p50, p95) of dense, BM25 and hybrid search, and questions/s of one
  batch, for the index as built (IVF segments above ``flat_up_to``) and, side by side in the
  same process, for the same segments each made exact (flat): recall@10 of each against
  exact search, with and without filters, and the memory the flat segment takes;
- BM25 alone, as the store runs it (the commonest terms left out past
  ``store.BM25_POSTINGS`` passages scored) and with every question term in the MATCH.

What the data is (also printed):

- vectors: the 6,160 real MiniLM passage vectors of ``--source`` (/work/idx/final), each copy
  plus Gaussian noise of norm about 0.75 and renormalised (a copy has cosine about 0.8 with
  its original);
- text: synthetic passages as long as the real passage their vector copies, each word drawn
  half from that passage's words and half from the words of all real passages (so BM25 sees
  the real vocabulary and word frequencies); five passages an article, 20 outlets, dates over
  2025;
- questions: the real eval questions (tests/data/evalset.jsonl), encoded once by the source
  index's encoder. Latencies exclude encoding the question (a lookup gives its vector).

Usage (on the 2-core machine the build to 1,000,000 took about 14 minutes; at 1,000,000 BM25
takes about 0.2 s a question, so measuring 200 questions there took over 10 minutes and
``--questions 30`` about 4; ``--sizes 20000 60000`` for a try)::

    flock /work/scratch/bench.lock .venv/bin/python bench/scale.py \\
        --folder /work/scratch/scale/index [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import queue
import re
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from articleqa import ann
from articleqa.chunking import Chunk, chunk_id
from articleqa.filters import Filters
from articleqa.lexical import fts_query
from articleqa.readers.article import Article, article_id
from articleqa.retrieval import search
from articleqa.store import IndexStore, Manifest
from articleqa.timewindow import parse_time

EVALSET = Path(__file__).resolve().parents[1] / "tests" / "data" / "evalset.jsonl"
NOISE = 0.75  # norm of the noise added to a unit vector
PASSAGES_PER_ARTICLE = 5
OUTLETS = [f"Outlet {n:02d}" for n in range(20)]
ADD_BATCH = 25_000  # passages per add (one segment each), then compact, as an ingest does
SINGLE = 200  # questions timed one at a time
BATCH = 1000  # questions in one dense search call
HYBRID_BATCH = 200  # questions in one hybrid search call (BM25 runs question by question)
K = 10


class LookupEncoder:
    """The vectors of the eval questions, encoded beforehand (latencies exclude encoding)."""

    backend = "lookup"

    def __init__(self, vectors: dict[str, np.ndarray], name: str, dimension: int) -> None:
        self.vectors, self.name, self.dimension, self.max_tokens = vectors, name, dimension, 256

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[text] for text in texts])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]


# -- data ---------------------------------------------------------------------------------------


def real_data(source: Path) -> tuple[Manifest, np.ndarray, list[str], list[str], np.ndarray]:
    """The source index's manifest, passage vectors and texts, the eval questions and their
    vectors (encoded by the source index's encoder)."""
    from articleqa import ArticleIndex

    store = IndexStore.open(source)
    try:
        ids = sorted(store.matching_vector_ids(Filters()).tolist())
        records = store.records(ids)
        vectors = store.vectors(ids)
        texts = [records[i].chunk.text for i in ids]
        manifest = store.manifest
    finally:
        store.close()
    questions = [json.loads(line)["question"] for line in EVALSET.read_text().splitlines() if line]
    with ArticleIndex.open(source, create=False, llm=None) as index:
        question_vectors = index.encoder.encode(questions)
    return manifest, vectors, texts, questions, question_vectors


def synthetic_batch(rng: np.random.Generator, first: int, count: int, base: np.ndarray,
                    words: list[list[str]], pool: np.ndarray) -> tuple[list[Article],
                                                                       list[Chunk], np.ndarray]:
    """``count`` passages (``first`` onwards), in articles of five, with their vectors."""
    originals = rng.integers(0, len(base), count)
    noise = rng.standard_normal((count, base.shape[1]), dtype=np.float32)
    noise *= np.float32(NOISE / np.sqrt(base.shape[1]))
    vectors = base[originals] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = []
    for original in originals.tolist():
        own = words[original]
        n = len(own)
        mine = rng.integers(0, n, n)
        theirs = pool[rng.integers(0, len(pool), n)]
        take_own = rng.random(n) < 0.5
        texts.append(" ".join(own[m] if t else str(w)
                              for m, w, t in zip(mine.tolist(), theirs.tolist(),
                                                 take_own.tolist())) + ".")
    articles, chunks = [], []
    for start in range(0, count, PASSAGES_PER_ARTICLE):
        passages = texts[start : start + PASSAGES_PER_ARTICLE]
        number = (first + start) // PASSAGES_PER_ARTICLE
        title = " ".join(str(w) for w in pool[rng.integers(0, len(pool), 8)]).capitalize()
        body = "\n\n".join(passages)
        article = Article(article_id(title, body), title, body,
                          source=OUTLETS[number % len(OUTLETS)], country="Nowhere",
                          published=dt.date(2025, 1, 1) + dt.timedelta(days=number % 365))
        articles.append(article)
        offset = 0
        for passage in passages:
            chunks.append(Chunk(chunk_id(article.id, passage), article.id, passage, offset,
                                offset + len(passage)))
            offset += len(passage) + 2
    return articles, chunks, vectors.astype(np.float32)


# -- measuring (in a new process: its memory is the searching process's) -----------------------


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    return (statistics.median(ordered) * 1e3, ordered[int(0.95 * (len(ordered) - 1))] * 1e3)


def memory() -> dict[str, float]:
    """Resident memory of this process, MB: all, anonymous, and file pages (memory-mapped
    segments, shared with every process that maps them)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a[a >= 0].tolist()) & set(b[b >= 0].tolist()))
                          / max(1, (b >= 0).sum()) for a, b in zip(found, exact)]))


def old_lexical_search(store: IndexStore, question: str, k: int) -> None:
    """BM25 with every question term in the MATCH (as the store ran it before it left the
    commonest out)."""
    query = fts_query(question)
    if query is not None:
        store._db.execute("SELECT rowid, -bm25(passage_terms) FROM passage_terms WHERE"
                          " passage_terms MATCH ? ORDER BY bm25(passage_terms) LIMIT ?",
                          (query, k)).fetchall()


def timed(calls: list, repeat: int = 1) -> list[float]:
    out = []
    for call in calls:
        started = time.perf_counter()
        for _ in range(repeat):
            call()
        out.append(time.perf_counter() - started)
    return out


def measure(folder: str, questions: list[str], vectors: np.ndarray, out: multiprocessing.Queue,
            timed_questions: int = SINGLE) -> None:
    """Opens the index, times it as built and with one flat segment; puts the figures on
    ``out``."""
    store = IndexStore.open(folder)
    today = dt.date.today()  # the text retrieval encodes has the question's time words cut
    lookup = {**{parse_time(q, today).text: v for q, v in zip(questions, vectors)},
              **dict(zip(questions, vectors))}
    encoder = LookupEncoder(lookup, store.manifest.model, store.manifest.dimension)
    figures: dict[str, object] = {"timed questions": timed_questions}
    cold = IndexStore.open(folder)  # BM25 with no term counted yet in this process
    figures["bm25 cold"] = percentiles(timed([lambda q=q: cold.lexical_search(q, 50)
                                              for q in questions[:timed_questions]]))
    cold.close()
    store.refresh()
    figures["segments"] = sorted(
        ("ivf" if ann.is_approximate(i) else "flat", int(i.ntotal))
        for i in store._current().segments.values())
    single = [questions[i % len(questions)] for i in range(timed_questions)]
    batch = [questions[i % len(questions)] for i in range(BATCH)]
    filters = {"none": None, "one outlet (5%)": Filters(source=OUTLETS[3]),
               "one week (2%)": Filters(since=dt.date(2025, 3, 3), until=dt.date(2025, 3, 9))}

    hybrid_batch = min(HYBRID_BATCH, timed_questions)

    def run(kind: str) -> None:
        for question in single[:20]:  # warm up: SQLite pages, segment pages
            for mode in ("dense", "hybrid"):
                search(store, encoder, [question], K, mode=mode)
        row: dict[str, object] = {}
        for mode in ("dense", "hybrid"):
            seconds = timed([lambda q=q, m=mode: search(store, encoder, [q], K, mode=m)
                             for q in single])
            row[f"{mode} p50"], row[f"{mode} p95"] = percentiles(seconds)
            questions_in_batch = batch if mode == "dense" else batch[:hybrid_batch]
            started = time.perf_counter()
            search(store, encoder, questions_in_batch, K, mode=mode)
            row[f"{mode} batch q/s"] = len(questions_in_batch) / (time.perf_counter() - started)
        seconds = timed([lambda q=q: store.dense_search(encoder.encode([q]), K) for q in single])
        row["vectors only p50"], row["vectors only p95"] = percentiles(seconds)
        for name, chosen in filters.items():
            results = store.dense_search(vectors, K, chosen)[1]
            row[f"ids {name}"] = results
            seconds = timed([lambda v=v, f=chosen: store.dense_search(v[None], K, f)
                             for v in vectors[:timed_questions]])
            row[f"filtered {name} p50"] = percentiles(seconds)[0]
        figures[kind] = row

    run("as built")
    figures["memory as built"] = memory()
    # BM25 alone: as the store runs it now, and as it ran with every term in the MATCH.
    now = timed([lambda q=q: store.lexical_search(q, 50) for q in single])
    before = timed([lambda q=q: old_lexical_search(store, q, 50) for q in single])
    figures["bm25 now"], figures["bm25 before"] = percentiles(now), percentiles(before)
    figures["bm25 filtered"] = {name: percentiles(timed([
        lambda q=q, f=chosen: store.lexical_search(q, 50, f) for q in single]))
        for name, chosen in filters.items() if chosen is not None}
    # The same segments, each made exact (flat), searched by the same code.
    as_built = store._current()
    flat = {name: ann.build_segment(*ann.segment_contents(index), ann.SegmentPlan())
            for name, index in as_built.segments.items()}
    # The bench swaps the loaded segments in memory (the same committed state otherwise).
    store._loaded = dataclasses.replace(as_built, segments=flat)
    figures["memory with flat"] = memory()
    run("flat")
    store._loaded = as_built
    figures["hybrid batch"] = hybrid_batch
    figures["flat bytes"] = sum(index.ntotal * (index.d * 4 + 8) for index in flat.values())
    for name in filters:
        exact = figures["flat"].pop(f"ids {name}")
        figures[f"recall@10 {name}"] = recall(figures["as built"].pop(f"ids {name}"), exact)
    out.put(figures)


# -- the run ------------------------------------------------------------------------------------


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True, help="where to build (emptied)")
    parser.add_argument("--source", type=Path, default=Path("/work/idx/final"),
                        help="the index whose vectors and passages are copied")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--questions", type=int, default=SINGLE,
                        help="questions timed one at a time (and in the hybrid batch, at most "
                             f"{HYBRID_BATCH})")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure the index already in --folder (built by an earlier run "
                             "to the one size given) without building")
    args = parser.parse_args()
    started_run = time.perf_counter()
    manifest, base, texts, questions, question_vectors = real_data(args.source)
    words = [re.findall(r"\w+", text) or ["empty"] for text in texts]
    pool = np.array([w for ws in words for w in ws])
    print(f"vectors: the {len(base):,} real passage vectors of {args.source}, repeated with "
          f"Gaussian noise of norm {NOISE} and renormalised (cosine ~0.8 with the original)")
    print(f"text: synthetic passages, words drawn half from the copied passage, half from all "
          f"{len(pool):,} words of the real passages; {PASSAGES_PER_ARTICLE} passages an article")
    print(f"questions: the {len(questions)} real eval questions, encoded once; latencies exclude "
          f"encoding; k={K}; cpus={os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
    plan = ann.DEFAULT_PLAN
    if args.measure_only:
        store = IndexStore.open(args.folder)
        built = store.counts()["passages"]
        if [built] != args.sizes:
            raise SystemExit(f"{args.folder} holds {built:,} passages; give --sizes {built}")
    else:
        shutil.rmtree(args.folder, ignore_errors=True)
        store = IndexStore.create(args.folder, Manifest(
            manifest.model, manifest.dimension, manifest.max_tokens, manifest.overlap_tokens,
            backend=manifest.backend))
        built = 0
    print(f"plan: flat up to {plan.flat_up_to:,} vectors a segment, {plan.approximate} above, "
          f"nprobe {plan.nprobe}; filtered sets of <= {ann.EXACT_FILTER_UP_TO:,} searched exactly")
    rng = np.random.default_rng(2026)
    build_seconds = 0.0
    context = multiprocessing.get_context("spawn")
    for size in sorted(args.sizes):
        if built < size:
            began = time.perf_counter()
            with store.writing():
                while built < size:
                    count = min(ADD_BATCH, size - built)
                    articles, chunks, vectors = synthetic_batch(rng, built, count, base, words,
                                                                pool)
                    store.add(articles, chunks, vectors)
                    store.compact()
                    built += count
            build_seconds += time.perf_counter() - began
        disk = folder_bytes(args.folder)
        out = context.Queue()
        child = context.Process(target=measure, args=(str(args.folder), questions,
                                                      question_vectors, out, args.questions))
        child.start()
        figures = None
        while figures is None:
            try:
                figures = out.get(timeout=10)
            except queue.Empty:
                if not child.is_alive():
                    failed = f"measuring at {size:,} failed (exit {child.exitcode})"
                    raise SystemExit(failed) from None
        child.join()
        report(size, build_seconds, disk, figures)
    store.close()
    print(f"\nwhole run: {(time.perf_counter() - started_run) / 60:.1f} min; "
          f"load {os.getloadavg()[0]:.2f}")


def report(size: int, build_seconds: float, disk: int, figures: dict) -> None:
    built, flat = figures["as built"], figures["flat"]
    print(f"\n== {size:,} passages ==")
    print(f"build (from empty, add + compact): "
          f"{f'{build_seconds:.0f} s' if build_seconds else 'not in this run (--measure-only)'}"
          f"; on disk: "
          f"{disk / 2**30:.2f} GiB; segments: "
          + ", ".join(f"{kind} {n:,}" for kind, n in figures["segments"]))
    mem, mem_flat = figures["memory as built"], figures["memory with flat"]
    print(f"resident memory of a searching process: {mem['VmRSS']:.0f} MB (anonymous "
          f"{mem['RssAnon']:.0f}, memory-mapped file pages {mem['RssFile']:.0f}); flat "
          f"segments in memory add {mem_flat['RssAnon'] - mem['RssAnon']:.0f} MB anonymous "
          f"({figures['flat bytes'] / 2**20:.0f} MB of vectors and ids)")
    rows = [("dense one question p50 / p95 ms", "dense p50", "dense p95"),
            ("hybrid one question p50 / p95 ms", "hybrid p50", "hybrid p95"),
            ("vectors only (store.dense_search) p50 / p95 ms", "vectors only p50",
             "vectors only p95")]
    print(f"{'':48} {'as built (IVF)':>18} {'every segment flat':>18}")
    for label, p50, p95 in rows:
        print(f"{label:48} {built[p50]:8.1f} / {built[p95]:6.1f} "
              f"{flat[p50]:9.1f} / {flat[p95]:6.1f}")
    print(f"(one-question figures over {figures['timed questions']} questions)")
    for mode, size in (("dense", BATCH), ("hybrid", figures["hybrid batch"])):
        key = f"{mode} batch q/s"
        print(f"{f'{mode} batch of {size:,}, questions/s':48} {built[key]:18.0f} "
              f"{flat[key]:18.0f}")
    for name in ("none", "one outlet (5%)", "one week (2%)"):
        key = f"filtered {name} p50"
        print(f"{'filter ' + name + ': p50 ms, recall@10 vs exact':48} "
              f"{built[key]:8.2f} r={figures['recall@10 ' + name]:.3f} {flat[key]:9.2f} r=1")
    now, cold, before = figures["bm25 now"], figures["bm25 cold"], figures["bm25 before"]
    print(f"BM25 alone (lexical_search, 50 results) p50 / p95 ms: commonest terms left out "
          f"{now[0]:.1f} / {now[1]:.1f} (first questions, terms not yet counted: {cold[0]:.1f} / "
          f"{cold[1]:.1f}); every term in the MATCH (before) {before[0]:.1f} / {before[1]:.1f}")
    for name, (p50, p95) in figures["bm25 filtered"].items():
        print(f"BM25 alone, filter {name}: p50 / p95 ms {p50:.1f} / {p95:.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
