"""Cold start of the command line and of the page, run by hand (not by CI).

Builds two small indexes in a temporary folder (the Overview page and the first files of the
BBC ``tech`` folder): one with the ``onnx`` backend (fp32, whose vectors torch shares) and one
with ``onnx-int8``. Then it runs, each in a new process, ``articleqa search QUESTION`` and
``articleqa ask QUESTION`` with each backend on the index it may search (``torch``, ``onnx`` and
``openvino`` on the fp32 one, ``onnx-int8`` on the int8 one), in the order A B C D D C B A,
repeated, and
prints the median wall time, CPU time (user + system) and peak resident memory of each. Then it
launches the page (``app.py``) with each backend and times it from launch to its first answer
over HTTP (the ``/ask`` endpoint). The ONNX export must be in
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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import chat_load  # bench/ is on sys.path when a script in it runs
import httpx

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FILES = [CORPUS / "overview", *sorted((CORPUS / "bbc" / "tech").glob("*.txt"))[:20]]
QUESTION = "What did Hammouchi say about cybercrime?"
#: (backend, the index it searches)
RUNS = [("torch", "fp32"), ("onnx", "fp32"), ("openvino", "fp32"), ("onnx-int8", "int8")]
COMMAND = [str(Path(sys.executable).with_name("articleqa"))]
APP = Path(__file__).resolve().parents[1] / "app.py"


def timed(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MiB of one process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, argv)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def page_to_first_answer(index: Path, backend: str) -> float:
    """Seconds from launching ``app.py`` to its first answer over HTTP (``/ask``, as
    bench/chat_load.py calls it)."""
    port = chat_load.free_port()
    started = time.perf_counter()
    app = subprocess.Popen([sys.executable, str(APP), "--index", str(index), "--port", str(port),
                            "--encoder-backend", backend],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/", timeout=120) as client:
            while True:
                if app.poll() is not None:
                    raise RuntimeError(f"app.py ended with exit code {app.returncode}")
                try:
                    chat_load.ask(client, QUESTION)
                    return time.perf_counter() - started
                except httpx.TransportError:  # not listening yet
                    time.sleep(0.05)
    finally:
        app.terminate()
        app.wait(timeout=30)


def run(rounds: int) -> dict:
    results: dict = {"load_average_start": os.getloadavg(), "rounds": rounds}
    with tempfile.TemporaryDirectory(prefix="articleqa-startup-") as scratch:
        indexes = {"fp32": Path(scratch) / "fp32", "int8": Path(scratch) / "int8"}
        for kind, backend in (("fp32", "onnx"), ("int8", "onnx-int8")):
            subprocess.run([*COMMAND, "ingest", "--index", str(indexes[kind]), "--quiet",
                            "--encoder-backend", backend, *map(str, FILES)], check=True)
        times: dict[str, list[tuple[float, float, float]]] = {}
        order = RUNS + RUNS[::-1]
        for _ in range(rounds):
            for command in ("search", "ask"):
                for backend, kind in order:
                    argv = [*COMMAND, command, QUESTION, "--index", str(indexes[kind]),
                            "--encoder-backend", backend]
                    times.setdefault(f"{command} {backend}", []).append(timed(argv))
        pages: dict[str, list[float]] = {}
        for _ in range(rounds):
            for backend, kind in order:
                pages.setdefault(backend, []).append(page_to_first_answer(indexes[kind], backend))
    results["runs"] = {
        name: {"wall_median": statistics.median(w for w, _, _ in runs),
               "cpu_median": statistics.median(c for _, c, _ in runs),
               "peak_mib_median": statistics.median(m for _, _, m in runs), "n": len(runs)}
        for name, runs in times.items()}
    results["page_first_answer"] = {backend: {"median": statistics.median(seconds),
                                              "n": len(seconds)}
                                    for backend, seconds in pages.items()}
    results["load_average_end"] = os.getloadavg()
    return results


def format_table(r: dict) -> str:
    lines = [f"cold processes, median of {2 * r['rounds']} each; load average "
             f"{r['load_average_start'][0]:.1f} at start, {r['load_average_end'][0]:.1f} at end",
             "", "| command | backend | wall s | CPU s | peak memory MiB |",
             "|---|---|---|---|---|"]
    for name, row in r["runs"].items():
        command, backend = name.split()
        lines.append(f"| articleqa {command} | {backend} | {row['wall_median']:.2f} | "
                     f"{row['cpu_median']:.2f} | {row['peak_mib_median']:.0f} |")
    lines += ["", "| page (app.py), launch to first /ask answer | backend | wall s |",
              "|---|---|---|"]
    for backend, row in r["page_first_answer"].items():
        lines.append(f"| median of {row['n']} | {backend} | {row['median']:.2f} |")
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
