"""Many people chatting at once: concurrent ``/ask`` calls to the served page, run by hand (not
by CI).

Copies an index folder (default ``/work/idx/final``; the original is never opened) to a
temporary folder, serves the chat page over it with ``app.py`` in a process of its own on
loopback, and calls its ``/ask`` endpoint over Gradio's HTTP API (``POST
/gradio_api/call/ask``, then the event stream), as a script would:

1. warm-up: a few questions, not counted;
2. baseline: one user asks ``--baseline`` questions one after another;
3. load: ``--users`` users, each asking its share of ``--questions`` questions one after
   another, all users at once.

The questions are the single-turn questions of the eval set's ``test`` split
(tests/data/evalset.jsonl), in file order (repeated when more are asked for). Latency is
measured per call, from the POST to the event that completes it. Prints failures (calls that
did not complete with a reply), p50, p95 and max latency, questions per second, and the load
average at the start and end of each phase; the ratio of the load phase's p50 to the
baseline's shows what waiting costs.

Usage::

    flock /work/scratch/bench.lock .venv/bin/python bench/chat_load.py
    .venv/bin/python bench/chat_load.py --index DIR --users 20 --questions 200 --json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EVALSET = ROOT / "tests" / "data" / "evalset.jsonl"
DEFAULT_INDEX = Path("/work/idx/final")
#: How long one call, and the page's start, may take before the run gives up.
CALL_TIMEOUT = 300.0
START_TIMEOUT = 300.0


def test_questions() -> list[str]:
    rows = [json.loads(line) for line in EVALSET.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [r["question"] for r in rows if r.get("split") == "test" and not r.get("follow_up_of")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ask(client: httpx.Client, question: str) -> str:
    """One ``/ask`` call; returns the reply, or raises with what the page sent instead."""
    event = client.post("gradio_api/call/ask", json={"data": [question, "", "", "", "", ""]})
    event.raise_for_status()
    stream = client.get(f"gradio_api/call/ask/{event.json()['event_id']}")
    stream.raise_for_status()
    kind, _, payload = stream.text.strip().partition("\ndata: ")
    if kind != "event: complete":
        raise RuntimeError(f"not completed: {stream.text[:200]!r}")
    reply = json.loads(payload)[0]
    if not isinstance(reply, str) or not reply.strip():
        raise RuntimeError(f"empty reply: {payload[:200]!r}")
    return reply


def run_users(base: str, questions: list[str], users: int) -> dict:
    """``users`` threads, each asking its share of ``questions`` one after another."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    shares = [questions[user::users] for user in range(users)]

    def user(share: list[str]) -> None:
        with httpx.Client(base_url=base, timeout=CALL_TIMEOUT) as client:
            for question in share:
                started = time.perf_counter()
                try:
                    ask(client, question)
                except Exception as error:  # noqa: BLE001 - every failure is counted
                    with lock:
                        failures.append(f"{question!r}: {type(error).__name__}: {error}")
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)

    load_start = os.getloadavg()
    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(share,)) for share in shares if share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return summary(latencies, failures, seconds, users, load_start, os.getloadavg())


def summary(latencies: list[float], failures: list[str], seconds: float, users: int,
            load_start: tuple[float, ...], load_end: tuple[float, ...]) -> dict:
    ordered = sorted(latencies)

    def percentile(fraction: float) -> float | None:
        # nearest rank: the latency that ``fraction`` of the calls do not exceed
        return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)] if ordered else None

    return {
        "users": users, "questions": len(latencies) + len(failures), "failures": len(failures),
        "failure_examples": failures[:5], "seconds": seconds,
        "p50": statistics.median(ordered) if ordered else None, "p95": percentile(0.95),
        "max": ordered[-1] if ordered else None,
        "questions_per_second": len(latencies) / seconds if seconds else None,
        "load_average_start": load_start[0], "load_average_end": load_end[0],
    }


def start_page(index: Path, port: int, log: Path, at_once: int | None) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ARTICLEQA_LLM_")}  # quoted answers: the page, not a model
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    argv = [sys.executable, str(ROOT / "app.py"), "--index", str(index), "--port", str(port)]
    if at_once is not None:
        argv += ["--questions-at-once", str(at_once)]
    with open(log, "wb") as output:
        return subprocess.Popen(argv, stdout=output, stderr=output, env=env)


def wait_for_page(base: str, page: subprocess.Popen, log: Path) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < START_TIMEOUT:
        if page.poll() is not None:
            raise SystemExit(f"the page stopped (exit {page.returncode}):\n"
                             f"{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{base}gradio_api/info", timeout=5).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the page did not answer within {START_TIMEOUT:.0f} s")


def run(index: Path, users: int, questions: int, baseline: int, warmup: int,
        at_once: int | None = None) -> dict:
    pool = test_questions()
    asked = list(itertools.islice(itertools.cycle(pool), questions))
    alone = list(itertools.islice(itertools.cycle(pool[::-1]), baseline))
    with tempfile.TemporaryDirectory(prefix="articleqa-chat-load-") as scratch:
        copy = Path(scratch) / "index"
        shutil.copytree(index, copy, ignore=shutil.ignore_patterns("*.tmp"))
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        log = Path(scratch) / "page.log"
        page = start_page(copy, port, log, at_once)
        try:
            start_seconds = wait_for_page(base, page, log)
            with httpx.Client(base_url=base, timeout=CALL_TIMEOUT) as client:
                for question in pool[-warmup:] if warmup else []:
                    ask(client, question)
            one = run_users(base, alone, 1)
            many = run_users(base, asked, users)
        finally:
            page.terminate()
            try:
                page.wait(timeout=30)
            except subprocess.TimeoutExpired:
                page.kill()
    return {"index": str(index), "cpus": os.cpu_count(), "page_start_seconds": start_seconds,
            "questions_at_once": at_once,
            "baseline": one, "load": many,
            "p50_ratio": many["p50"] / one["p50"] if one["p50"] and many["p50"] else None}


def format_report(r: dict) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{1000 * value:.0f}"

    at_once = r["questions_at_once"]
    lines = [f"index {r['index']} (a copy), page started in {r['page_start_seconds']:.1f} s, "
             f"{r['cpus']} CPUs"
             + (f", app.py --questions-at-once {at_once}" if at_once is not None else ""),
             "| phase | users | questions | failures | p50 ms | p95 ms | max ms | questions/s "
             "| load avg start | load avg end |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name in ("baseline", "load"):
        p = r[name]
        lines.append(f"| {name} | {p['users']} | {p['questions']} | {p['failures']} | "
                     f"{ms(p['p50'])} | {ms(p['p95'])} | {ms(p['max'])} | "
                     f"{p['questions_per_second']:.2f} | {p['load_average_start']:.2f} | "
                     f"{p['load_average_end']:.2f} |")
    if r["p50_ratio"] is not None:
        lines.append(f"p50 at {r['load']['users']} users / p50 alone: {r['p50_ratio']:.1f}x")
    for name in ("baseline", "load"):
        for failure in r[name]["failure_examples"]:
            lines.append(f"failure ({name}): {failure}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX,
                        help=f"index folder to copy and serve (default {DEFAULT_INDEX})")
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--questions", type=int, default=200,
                        help="questions asked by all users together (default 200)")
    parser.add_argument("--baseline", type=int, default=30,
                        help="questions one user asks alone first (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="uncounted questions first")
    parser.add_argument("--questions-at-once", type=int, metavar="N",
                        help="passed to app.py (default: the page's own default)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not (args.index / "manifest.json").exists():
        parser.error(f"no index at {args.index}")
    result = run(args.index, args.users, args.questions, args.baseline, args.warmup,
                 args.questions_at_once)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    if result["load"]["failures"] or result["baseline"]["failures"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
