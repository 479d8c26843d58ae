"""The chat page: safe rendering of replies and sources, uploads, and the served endpoints."""

from __future__ import annotations

import datetime as dt
import io
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from articleqa import Article, ArticleIndex, Hit
from articleqa.answering import Answer, Citation
from articleqa.embedding import HashEncoder
from articleqa.filters import Filters
from articleqa.retrieval import hit_to_json
from articleqa.web import (
    MAX_UPLOAD_FILES,
    PageActions,
    build_app,
    escape_markdown,
    filter_choices,
    highlight,
    make_filters,
    render_notice,
    render_question,
    render_reply,
    render_sources,
    render_status,
    reply_as_text,
    serve,
    stage_uploads,
)
from tests.conftest import free_port

MARKUP = "Before <script>alert('x')</script> and <img src=x onerror=alert(1)> after."


def _hit(body: str = MARKUP, *, title: str = "<img src=x onerror=alert(1)>",
         url: str | None = None, start: int = 0, end: int | None = None,
         chunk_id: str = "c1") -> Hit:
    article = Article("a1", title, body, source="Test <b>Outlet</b>", country="Nowhere",
                      published=dt.date(2024, 5, 1), url=url)
    end = len(body) if end is None else end
    return Hit(chunk_id, body[start:end], 0.5, start, end, article)


def _answer(hit: Hit, quote: str, text: str | None = None) -> Answer:
    start = hit.article.body.index(quote)
    citation = Citation(1, hit, quote, start, start + len(quote))
    return Answer("q?", text if text is not None else f"According to X:\n\n> {quote} [1]",
                  True, (citation,), (hit,), "q?")


# -- the reply in the chat ---------------------------------------------------------------------


def test_reply_markup_is_text_and_markers_link_to_sources() -> None:
    hit = _hit()
    answer = _answer(hit, "<script>alert('x')</script> and", "Said:\n\n> <script>x</script> [1]")
    shown = render_reply(answer, turn=2)
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert shown.startswith("Said\\:\n\n> ")  # the line structure stays Markdown
    assert '<a class="aq-cite" href="#source-2-1" title="' in shown
    title = shown.split('title="')[1].split('"')[0]
    assert "<" not in title and "&lt;script&gt;" in title  # the quote, escaped, on hover


@pytest.mark.parametrize("text", [
    "[click](javascript:alert(1))", "![x](http://tracker.example/x.png)", "**bold** _it_",
    "$$x^2$$", "# heading", "a | b", "`code`", "1990. A year", "https://example.org",
])
def test_reply_markdown_in_article_words_is_not_rendered(text: str) -> None:
    shown = escape_markdown(text)
    assert shown.replace("\\", "") == text  # shown as written once the escapes are read
    for position, char in enumerate(shown):
        if char in "[]()!*_$#|`:.":
            assert shown[position - 1] == "\\", (char, shown)


def test_unknown_markers_stay_text() -> None:
    hit = _hit("One sentence here.")
    answer = _answer(hit, "One sentence here.", "> One sentence here. [1] [7]")
    shown = render_reply(answer)
    assert shown.count("aq-cite") == 1 and r"\[7\]" in shown


def test_question_is_shown_as_text() -> None:
    assert render_question("<img src=x onerror=alert(1)> [a](b)") == (
        r"&lt;img src\=x onerror\=alert\(1\)&gt; \[a\]\(b\)")


def test_reply_as_text_lists_sources() -> None:
    hit = _hit("A quote. More.", title="Headline", url="https://example.org/a")
    text = reply_as_text(_answer(hit, "A quote."))
    assert "Sources:\n[1] Headline (Test <b>Outlet</b>, Nowhere, 1 May 2024) " \
           "https://example.org/a\n    > A quote." in text


# -- the sources panel -------------------------------------------------------------------------


def test_sources_escape_every_article_string() -> None:
    hit = _hit(url="javascript:alert(1)")
    page = render_sources(_answer(hit, "<script>alert('x')</script>"))
    assert "<script>" not in page and "<img" not in page and "<b>Outlet" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "javascript:" not in page  # only http(s) addresses become links
    assert "<mark>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</mark>" in page


def test_sources_show_meta_link_and_anchor() -> None:
    hit = _hit("First. Second sentence. Third.", title="Title", url="https://example.org/?a=1&b")
    page = render_sources(_answer(hit, "Second sentence."), turn=3)
    assert 'id="source-3-1"' in page and 'data-turn="3"' in page
    assert '<a href="https://example.org/?a=1&amp;b" target="_blank"' in page
    assert "Test &lt;b&gt;Outlet&lt;/b&gt; · Nowhere · 1 May 2024 · score 0.50" in page
    assert "First. <mark>Second sentence.</mark> Third." in page


def test_sources_group_citations_of_one_passage() -> None:
    body = "One two. Three four. Five six."
    hit = _hit(body)
    citations = (Citation(1, hit, "One two.", 0, 8), Citation(2, hit, "Five six.", 21, 30))
    answer = Answer("q", "> One two. [1]\n>\n> Five six. [2]", True, citations, (hit,), "q")
    page = render_sources(answer)
    assert page.count('class="aq-source"') == 1
    assert 'id="source-0-1"' in page and 'id="source-0-2"' in page
    assert "<mark>One two.</mark> Three four. <mark>Five six.</mark>" in page


def test_sources_quote_beyond_passage_widens_it() -> None:
    body = "Alpha beta. Gamma delta. Epsilon."
    hit = _hit(body, start=12, end=24)  # "Gamma delta."
    citation = Citation(1, hit, "Alpha beta. Gamma delta.", 0, 24)
    page = render_sources(Answer("q", "x [1]", True, (citation,), (hit,), "q"))
    assert "<mark>Alpha beta. Gamma delta.</mark>" in page and "Epsilon" not in page


def test_refusal_lists_related_passages_open() -> None:
    hit = _hit("Something else entirely.")
    page = render_sources(Answer("q", "The indexed articles do not answer", False, (), (hit,),
                                 "q"))
    assert "<details class=\"aq-related\" open>" in page and "do not answer" in page


def test_highlight_escapes_and_merges() -> None:
    assert highlight("a<b>c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>c"
    assert highlight("abcdef", [(0, 3), (2, 5), (9, 12)]) == "<mark>abcde</mark>f"
    assert highlight("abc", []) == "abc"


# -- status, notice and filters ----------------------------------------------------------------


def test_status_and_filters_from_info() -> None:
    info = {"path": "ix", "articles": 3, "passages": 9, "sources": ["<b>A</b>", "B"],
            "countries": ["Morocco"], "published": ("2004-01-01", "2025-11-24"),
            "model": "m", "last_ingest": "2025-11-25T10:00:00+00:00"}
    status = render_status(info)
    assert "&lt;b&gt;A&lt;/b&gt;" in status and "<b>A" not in status
    assert "2004-01-01 to 2025-11-24" in status and "2025-11-25 10:00 UTC" in status
    sources, countries = filter_choices(info)
    assert sources[0] == ("All outlets", "") and ("B", "B") in sources
    assert countries == [("All countries", ""), ("Morocco", "Morocco")]


def test_empty_notice_says_how_to_add_articles() -> None:
    notice = render_notice({"path": "embeddings", "articles": 0})
    assert "empty" in notice and "articleqa ingest --index embeddings" in notice
    assert "never" in render_status({"articles": 0, "model": "m"})


def test_make_filters() -> None:
    assert make_filters("", None, " ", None) == Filters()
    assert make_filters("Hespress", "", " 2025-01-01", "") == Filters(
        source="Hespress", since=dt.date(2025, 1, 1))
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        make_filters("", "", "last week", "")


# -- uploads -----------------------------------------------------------------------------------


def _zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_uploads_are_staged_under_generated_names(tmp_path: Path) -> None:
    received = tmp_path / "received"
    received.mkdir()
    (received / "a.txt").write_text("Headline\n\nBody.")
    (received / "b.exe").write_bytes(b"MZ")
    (received / "c.zip").write_bytes(_zip({
        "news/one.md": b"One\n\nBody one.",
        "../../evil.txt": b"x",
        "/abs.txt": b"x",
        "inner.zip": b"x",
        "README.md": b"x",
        ".hidden.txt": b"x",
        "__MACOSX/._one.md": b"x",
        "picture.png": b"x",
    }, links=("link.txt",)))
    (received / "bad.zip").write_bytes(b"not a zip")
    staged_in = tmp_path / "staged"
    staged_in.mkdir()
    uploads = [(received / "a.txt", "../../etc/a.txt"), (received / "b.exe", "b.exe"),
               (received / "c.zip", "c.zip"), (received / "bad.zip", "bad.zip")]
    staged = stage_uploads(uploads, staged_in)
    assert sorted(p.name for p in staged.files) == ["upload-001.txt", "upload-003-00001.md"]
    assert all(p.parent == staged_in for p in staged.files)
    assert sorted(staged.names.values()) == ["a.txt", "c.zip: news/one.md"]
    refused = dict(staged.refused)
    assert "not read" in refused["b.exe"]
    assert "unsafe path" in refused["c.zip: ../../evil.txt"]
    assert "unsafe path" in refused["c.zip: /abs.txt"]
    assert "inside a .zip" in refused["c.zip: inner.zip"]
    assert "symbolic link" in refused["c.zip: link.txt"]
    assert "not read" in refused["c.zip: picture.png"]
    assert "not a readable .zip" in refused["bad.zip"]
    assert len(staged.skipped) == 3
    assert sorted(p.name for p in staged_in.iterdir()) == sorted(p.name for p in staged.files)


def test_upload_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import articleqa.web.uploads as web

    monkeypatch.setattr(web, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(web, "MAX_TOTAL_BYTES", 1500)
    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    small.write_bytes(b"x" * 800)
    big.write_bytes(b"x" * 1001)
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(_zip({"two.txt": b"y" * 1001, "one.txt": b"y" * 900}))
    folder = tmp_path / "staged"
    folder.mkdir()
    staged = stage_uploads([(bomb, "bomb.zip"), (big, "big.txt"), (small, "small.txt")],
                           folder)
    refused = dict(staged.refused)
    assert [staged.names[str(p)] for p in staged.files] == ["bomb.zip: one.txt"]
    assert "larger than" in refused["big.txt"]
    assert "larger than" in refused["bomb.zip: two.txt"]  # read, not trusted from the header
    assert "in all" in refused["small.txt"]  # 900 + 800 > 1500
    many = [(small, f"{n}.txt") for n in range(MAX_UPLOAD_FILES + 1)]
    monkeypatch.setattr(web, "MAX_TOTAL_BYTES", 10**6)
    other = tmp_path / "other"
    other.mkdir()
    assert "more than" in dict(stage_uploads(many, other).refused)[f"{MAX_UPLOAD_FILES}.txt"]


def test_upload_adds_articles_searchable_at_once(tmp_path: Path) -> None:
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder()) as index, \
            ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder()) as writer:
        actions = PageActions(index, writer)
        assert actions.info()["articles"] == 0
        received = tmp_path / "received.txt"
        received.write_text("Lighthouse lens comes home\n\nThe lens of the lighthouse is back.")
        bad = tmp_path / "bad.json"
        bad.write_text("{not json")
        report = actions.upload([(received, "<b>lens</b>.txt"), (bad, "bad.json")],
                                source="Islay Courier")
        assert "1 added" in report and "Lighthouse lens comes home" in report
        assert "&lt;b&gt;lens&lt;/b&gt;.txt" not in report  # added files are not listed
        assert "<b>bad.json</b>:" in report  # the failure, under the browser's name
        assert "/tmp" not in report.split("Refused")[1]  # not our staging path
        hits = actions.search("lighthouse lens", 1)
        assert hits[0].article.source == "Islay Courier"
        assert actions.info()["articles"] == 1
        again = actions.upload([(received, "lens.txt")])
        assert "0 added, 1 unchanged" in again


class _SlowEncoder(HashEncoder):
    """Holds each encode() until told to go, so a test can act while an ingest is under way."""

    def __init__(self) -> None:
        super().__init__()
        self.started, self.go = threading.Event(), threading.Event()

    def encode(self, texts):
        self.started.set()
        assert self.go.wait(timeout=30)
        return super().encode(texts)


def test_chat_goes_on_while_an_upload_is_embedded(tmp_path: Path) -> None:
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder()) as index:
        index.ingest([_write(tmp_path / "old.txt", "Harbour news\n\nThe ferry runs late.")],
                     progress=False)
        slow = _SlowEncoder()
        with ArticleIndex.open(tmp_path / "ix", encoder=slow) as writer:
            actions = PageActions(index, writer)
            new = _write(tmp_path / "new.txt", "Lighthouse news\n\nThe lens is back.")
            upload = threading.Thread(target=actions.upload, args=([(new, "new.txt")],))
            upload.start()
            assert slow.started.wait(timeout=30)
            hits = actions.search("ferry", 1)  # not held up by the ingest
            answer = actions.ask("When does the ferry run?")
            slow.go.set()
            upload.join(timeout=30)
            assert hits[0].article.title == "Harbour news" and answer.question
            assert {h.article.title for h in actions.search("lens lighthouse", 2)} == {
                "Harbour news", "Lighthouse news"}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- the served page ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(small_index: ArticleIndex):
    page = build_app(small_index)
    port = free_port()
    serve(page, port=port, block=False, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    page.close()
    page.articleqa_actions.close()


@pytest.mark.slow
def test_served_page_answers_over_http(served: str, small_index: ArticleIndex) -> None:
    from gradio_client import Client

    client = Client(served, verbose=False)
    reply = client.predict("What did Hammouchi say about cybercrime?", api_name="/ask")
    assert "[1]" in reply and "Sources:\n[1]" in reply and "Hespress" in reply
    hits = client.predict("What did Hammouchi say about cybercrime?", 3, api_name="/search")
    assert hits[0] == hit_to_json(small_index.search_one(
        "What did Hammouchi say about cybercrime?", 3)[0])  # the shape of `search --json`
    assert hits[0]["article"]["source"] == "Hespress"
    assert "United Nations Convention against Cybercrime" in hits[0]["text"]
    only_uk = client.predict("What did Hammouchi say about cybercrime?", 3, "", "United Kingdom",
                             api_name="/search")
    assert only_uk and all(hit["article"]["country"] == "United Kingdom" for hit in only_uk)
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="YYYY-MM-DD"):  # the message reaches the script
        client.predict("Who won?", 3, since="last week", api_name="/search")
