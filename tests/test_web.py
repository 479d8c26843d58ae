"""The search page: safe rendering, and the served page answering over HTTP."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from articleqa import Article, ArticleIndex, Hit
from articleqa.web import build_app, render_hits


def _hit(title: str, body: str, url: str | None = None) -> Hit:
    article = Article("a1", title, body, source="Test <b>Outlet</b>", country="Nowhere",
                      published=dt.date(2024, 5, 1), url=url)
    return Hit("c1", body, 0.5, 0, len(body), article)


def test_article_markup_is_escaped() -> None:
    page = render_hits("q", [_hit("<img src=x onerror=alert(1)>",
                                  "Before <script>alert('x')</script> after",
                                  url="javascript:alert(1)")])
    assert "<script>" not in page and "<img" not in page and "<b>Outlet" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "javascript:" not in page  # only http(s) links become links


def test_no_hits_says_so() -> None:
    assert "No passages found" in render_hits("<q>", [])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(real_index: ArticleIndex):
    page = build_app(real_index)
    port = _free_port()
    page.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    page.close()


def test_served_page_answers_over_http(served: str) -> None:
    from gradio_client import Client

    client = Client(served, verbose=False)
    html = client.predict("What did Hammouchi say about cybercrime?", 3, api_name="/search")
    assert html.index("Hespress") < html.index("2.")  # the first hit is the Hespress passage
    assert "United Nations Convention against Cybercrime" in html
