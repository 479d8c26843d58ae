"""A bounded load test of the served page over loopback: concurrent scripts call `/search` and
`/ask` while an upload is ingested; every call answers, and the figures are printed (run with
``-s`` to see them). Fake encoder: this measures the page, not the model."""

from __future__ import annotations

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from articleqa import ArticleIndex
from articleqa.embedding import HashEncoder
from articleqa.web import build_app, serve
from tests.conftest import free_port
from tests.test_crash import write_corpus

#: Calls in all, and at once: bounded in count, and each call in time.
CALLS = 120
CLIENTS = 6
TIMEOUT = 30


def call(base: str, name: str, data: list) -> object:
    """One call of a Gradio endpoint; returns its value or raises with the error it sent."""
    url = f"{base}gradio_api/call/{name}"
    event = httpx.post(url, json={"data": data}, timeout=TIMEOUT).json()["event_id"]
    stream = httpx.get(f"{url}/{event}", timeout=TIMEOUT).text
    kind, _, payload = stream.strip().partition("\ndata: ")
    if kind != "event: complete":
        raise AssertionError(f"{name} failed: {stream[:300]}")
    return json.loads(payload)[0]


@pytest.mark.slow
def test_the_page_serves_concurrent_calls_during_an_upload(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", articles=30)
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as index:
        index.ingest([corpus], progress=False)
        writer = ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None)
        page = build_app(index, writer=writer)
        port = free_port()
        serve(page, port=port, block=False, quiet=True)
        base = f"http://127.0.0.1:{port}/"
        more = write_corpus(tmp_path / "more", articles=60)
        uploads = [(path, path.name) for path in sorted(more.iterdir())[30:]]
        upload = threading.Thread(target=page.articleqa_actions.upload, args=(uploads,))
        latencies: list[float] = []

        def one(number: int) -> None:
            started = time.perf_counter()
            if number % 3:
                hits = call(base, "search", [f"council bridge {number}", 3, "", "", "", "",
                                              ""])
                assert hits and all(hit["text"] for hit in hits)
            else:
                reply = call(base, "ask", ["What did the mayor say about jobs?", "", "", "",
                                           "", ""])
                assert reply.strip()
            latencies.append(time.perf_counter() - started)

        try:
            started = time.perf_counter()
            upload.start()
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(one, range(CALLS)))
            seconds = time.perf_counter() - started
            upload.join(timeout=120)
        finally:
            page.close()
            page.articleqa_actions.close()
        assert len(latencies) == CALLS
        assert index.info()["articles"] == 60
    latencies.sort()
    print(f"\n{CALLS} calls by {CLIENTS} clients during an upload: "
          f"{CALLS / seconds:.1f} calls/s, median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {latencies[int(0.95 * CALLS) - 1] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")
