"""Cold start of the command line, run by hand (not by CI).

Builds two small indexes in a temporary folder (the Overview page and the first files of the
BBC ``tech`` folder): one with the ``onnx`` backend (fp32, whose vectors torch shares) and one
with ``onnx-int8``. Then it runs, each in a new process, ``articleqa search QUESTION`` and
``articleqa ask QUESTION`` with each backend on the index it may search (``torch``, ``onnx`` and
``openvino`` on the fp32 one, ``onnx-int8`` on the int8 one), in the order A B C D D C B A,
repeated, and
prints the median wall time and CPU time (user + system) of each. The ONNX export must be in
the cache already (any earlier ``articleqa ingest`` made it; this script makes it otherwise,
before timing anything). On a shared machine the wall time includes waiting for a core: the
CPU time is the steadier figure, and the load average is printed.

Usage::

    .venv/bin/python bench/startup.py            # 3 rounds
    .venv/bin/python bench/startup.py --rounds 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FILES = [CORPUS / "overview", *sorted((CORPUS / "bbc" / "tech").glob("*.txt"))[:20]]
QUESTION = "What did Hammouchi say about cybercrime?"
#: (backend, the index it searches)
RUNS = [("torch", "fp32"), ("onnx", "fp32"), ("openvino", "fp32"), ("onnx-int8", "int8")]
COMMAND = [str(Path(sys.executable).with_name("articleqa"))]


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(rounds: int) -> dict:
    results: dict = {"load_average_start": os.getloadavg(), "rounds": rounds}
    with tempfile.TemporaryDirectory(prefix="articleqa-startup-") as scratch:
        indexes = {"fp32": Path(scratch) / "fp32", "int8": Path(scratch) / "int8"}
        for kind, backend in (("fp32", "onnx"), ("int8", "onnx-int8")):
            subprocess.run([*COMMAND, "ingest", "--index", str(indexes[kind]), "--quiet",
                            "--encoder-backend", backend, *map(str, FILES)], check=True)
        times: dict[str, list[tuple[float, float]]] = {}
        order = RUNS + RUNS[::-1]
        for _ in range(rounds):
            for command in ("search", "ask"):
                for backend, kind in order:
                    argv = [*COMMAND, command, QUESTION, "--index", str(indexes[kind]),
                            "--encoder-backend", backend]
                    times.setdefault(f"{command} {backend}", []).append(timed(argv))
    results["runs"] = {
        name: {"wall_median": statistics.median(w for w, _ in pairs),
               "cpu_median": statistics.median(c for _, c in pairs), "n": len(pairs)}
        for name, pairs in times.items()}
    results["load_average_end"] = os.getloadavg()
    return results


def format_table(r: dict) -> str:
    lines = [f"cold processes, median of {2 * r['rounds']} each; load average "
             f"{r['load_average_start'][0]:.1f} at start, {r['load_average_end'][0]:.1f} at end",
             "", "| command | backend | wall s | CPU s |", "|---|---|---|---|"]
    for name, row in r["runs"].items():
        command, backend = name.split()
        lines.append(f"| articleqa {command} | {backend} | {row['wall_median']:.2f} | "
                     f"{row['cpu_median']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cold start of articleqa search and ask.")
    parser.add_argument("--rounds", type=int, default=3, help="default: %(default)s")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.rounds)
    print(json.dumps(results, indent=2) if args.json else format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
