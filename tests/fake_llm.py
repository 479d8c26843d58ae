"""A small OpenAI-style chat-completions server on 127.0.0.1, for the tests of generated answers
(the ``fake_llm`` fixture of ``conftest.py`` starts one per test)."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from articleqa.llm import LLMConfig


@dataclass
class FakeLLM:
    """What the fake server replies, and what it was asked.

    ``mode``: "ok"; "status500"; "unauthorized"; "not_json"; "no_choices"; "error_body";
    "json_when_streaming" (ignores ``stream``); "slow" (waits for ``release`` before replying);
    "stall" (streams the first piece, then waits for ``release``); "gated" (streams the first
    piece, then waits for ``release`` and records whether it came).
    """

    port: int
    content: str = "The minister said \"we will act\" [1]."
    mode: str = "ok"
    piece: int = 3  # characters per streamed piece: markers get split across pieces
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    released_in_time: bool | None = None
    errors: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self, **kwargs: Any) -> LLMConfig:
        return LLMConfig(url=self.url, **{"model": "tiny-test-model", **kwargs})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        fake.requests.append(body)
        fake.headers.append(dict(self.headers))
        try:
            self._reply(fake, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _reply(self, fake: FakeLLM, body: dict[str, Any]) -> None:
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        if fake.mode == "status500":
            return self._send(500, {"error": {"message": "model crashed:   out of memory"}})
        if fake.mode == "unauthorized":
            return self._send(401, {"error": {"message": "invalid api key"}})
        if fake.mode == "not_json":
            if body["stream"]:
                return self._stream(["data: {\"choices\": [ oops\n\n"])
            return self._send(200, b"<html>Bad gateway</html>")
        if fake.mode == "no_choices":
            if body["stream"]:
                return self._stream(["data: {\"id\": 1}\n\n"])
            return self._send(200, {"id": "x", "object": "chat.completion"})
        if fake.mode == "error_body":
            return self._send(200, {"error": {"message": "context length exceeded"}})
        if fake.mode == "slow":
            fake.release.wait(5)
        if body["stream"] and fake.mode != "json_when_streaming":
            return self._stream(self._events(fake, body["model"]))
        return self._send(200, {
            "id": "c1", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": fake.content}}]})

    def _events(self, fake: FakeLLM, model: str) -> Iterator[str]:
        def event(delta: dict[str, Any], finish: str | None = None) -> str:
            chunk = {"id": "c1", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(chunk)}\n\n"

        yield ": keep-alive\n\n"
        yield event({"role": "assistant"})
        pieces = [fake.content[i:i + fake.piece] for i in range(0, len(fake.content), fake.piece)]
        for i, piece in enumerate(pieces):
            yield event({"content": piece})
            if i == 0 and fake.mode == "stall":
                fake.release.wait(5)
            if i == 0 and fake.mode == "gated":
                fake.released_in_time = fake.release.wait(2)
        yield event({}, finish="stop")
        yield "data: [DONE]\n\n"

    def _stream(self, events: Any) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for text in events:
            data = text.encode("utf-8")
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.write(b"0\r\n\r\n")

    def _send(self, status: int, reply: dict[str, Any] | bytes) -> None:
        data = reply if isinstance(reply, bytes) else json.dumps(reply).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    fake: FakeLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.fake.errors.append(sys.exc_info()[1])  # a bug in the fake: fails the test


@contextlib.contextmanager
def serve_fake_llm() -> Iterator[FakeLLM]:
    """Runs a fake server until the block ends; a bug in the fake fails the test."""
    server = Server(("127.0.0.1", 0), Handler)
    server.fake = FakeLLM(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.fake
    finally:
        server.fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
    assert not server.fake.errors
