"""End to end: the chat page driven in headless Chromium (the Debian ``chromium`` package that
``.ci/run`` installs; Playwright never downloads a browser).

The app runs as ``python app.py`` in a subprocess over a small real index: the Overview page,
twenty BBC articles, and an article of our own whose body holds ``<script>`` and ``<img
onerror>`` markup. Screenshots are saved to ``$ARTICLEQA_ARTIFACTS`` (default
``test-artifacts/`` in the repository).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BBC, OVERVIEW, free_port

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Chromium at /usr/bin/chromium: apt-get install chromium "
                              "chromium-driver (.ci/run installs them)"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
#: Seconds to wait for a reply, an upload or the app to start.
WAIT = 60

#: Our own article (not from any outlet) whose body carries markup that must never run.
MARKUP_ARTICLE = {
    "title": "Harbour council tests its new website against <script> tricks",
    "text": (
        "The harbour council in Kilmore Quay opened its new website on Tuesday.\n\n"
        "Its web editor, Maeve Doyle, said the team had pasted code such as "
        "<script>window.__pwned=1</script> and <img src=x onerror=\"window.__pwned=2\"> into "
        "the comment boxes to check that visitors only ever see it as plain text.\n\n"
        "Doyle said the ferry timetable would be the next page to move to the new site."
    ),
    "source": "Wexford Harbour News",
    "country": "Ireland",
    "published": "2025-03-04",
    "url": "https://example.org/harbour-website",
}
#: Uploaded from the page during the test (also our own words).
UPLOADED_ARTICLE = """\
Lighthouse lens returns to Port Ellen after restoration

The great glass lens of the Port Ellen lighthouse came home on Friday after two years in a
workshop in Leith.

Curator Isla MacBride said the restored lens "throws a beam twice as far as it did in 1990,
because every one of its four hundred prisms has been cleaned by hand."

The lens will be shown in the village hall until the tower is repainted in the spring.
"""


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("ARTICLEQA_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index of the Overview page, 20 BBC articles and the markup article."""
    from articleqa import ArticleIndex

    root = tmp_path_factory.mktemp("browser")
    markup = root / "harbour.json"
    markup.write_text(json.dumps(MARKUP_ARTICLE), encoding="utf-8")
    bbc = sorted(BBC.glob("*/00[1-4].txt"))
    assert len(bbc) == 20
    folder = root / "index"
    with ArticleIndex.open(folder) as index:
        reports = [index.ingest(bbc, source="BBC News", country="United Kingdom",
                                progress=False),
                   index.ingest([OVERVIEW, markup], progress=False)]
    assert not any(report.failed for report in reports)
    return folder


@pytest.fixture(scope="module")
def server(small_index: Path, artifacts: Path) -> Iterator[str]:
    """``python app.py`` over the small index, on a free port."""
    port = free_port()
    log = open(artifacts / "app.log", "w")  # noqa: SIM115 (closed after the process)
    process = subprocess.Popen(
        [sys.executable, str(REPO / "app.py"), "--index", str(small_index), "--port", str(port)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "ARTICLEQA_LLM_URL": "", "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if process.poll() is not None:
                pytest.fail(f"app.py exited with {process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer on {url} within {WAIT}s; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _ask(page, question: str, turn: int) -> None:
    """Asks in the chat and waits until reply number ``turn`` (from 0) is complete: the sources
    panel is redrawn for it then."""
    asked = page.locator("#aq-chat .message-row.user-row")
    for _ in range(3):  # a click while the page still finishes the last turn can be dropped
        page.fill("#aq-question textarea", question)
        page.click("#aq-ask")
        deadline = time.monotonic() + 10
        while asked.count() <= turn and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        if asked.count() > turn:
            break
    page.wait_for_selector(f"#aq-sources .aq-sources[data-turn='{turn}']", timeout=WAIT * 1000)


def _last_reply(page) -> str:
    """The last reply's text once the chat has drawn all of it: the page may draw the sources
    panel before the chat's final markdown, so the text must hold still for a moment."""
    reply = page.locator("#aq-chat .message-row.bot-row").last
    text, deadline = reply.inner_text(), time.monotonic() + WAIT
    while time.monotonic() < deadline:
        page.wait_for_timeout(400)
        now = reply.inner_text()
        if now == text:
            return text
        text = now
    return text


def _choose(page, elem_id: str, option: str) -> None:
    """Picks an option of a Gradio dropdown."""
    page.click(f"#{elem_id} input")
    page.click(f"#{elem_id} li[role=option][aria-label='{option}']")
    page.wait_for_function(
        "([id, value]) => document.querySelector(`#${id} input`).value === value",
        arg=[elem_id, option], timeout=WAIT * 1000)


@pytest.fixture
def page(browser, artifacts: Path, request: pytest.FixtureRequest):
    """A browser tab; its last state is saved as a screenshot, to see where a failure stopped."""
    tab = browser.new_page(viewport={"width": 1500, "height": 1000})
    yield tab
    tab.screenshot(path=str(artifacts / f"{request.node.name}-last.png"))
    tab.close()


def test_chat_page_end_to_end(server: str, page, artifacts: Path, tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server, wait_until="domcontentloaded")
    page.wait_for_selector("#aq-question textarea", timeout=WAIT * 1000)
    status = page.locator("#aq-status")
    assert "22" in status.inner_text()  # articles
    assert "Hespress" in status.inner_text() and "Morocco" in status.inner_text()
    assert not page.locator("#aq-notice").is_visible()  # the index is not empty

    # A question: the reply cites, the Hespress passage is in the sources panel.
    _ask(page, "What did Hammouchi say about cybercrime?", 0)
    reply = _last_reply(page)
    assert "[1]" in reply and "Hespress" in reply
    sources = page.locator("#aq-sources")
    first = sources.locator(".aq-source").first
    assert "Hespress" in first.inner_text() and "Morocco" in first.inner_text()
    assert first.locator("mark").count() >= 1  # the quoted words are marked
    assert sources.locator("mark", has_text="Cybercrime").count() >= 1
    # The citation leads to its passage and shows the quote on hover.
    link = page.locator("#aq-chat a.aq-cite").first
    assert link.get_attribute("href") == "#source-0-1"
    assert "Hammouchi" in link.get_attribute("title")
    link.click()
    page.wait_for_selector("#source-0-1.aq-target")
    page.screenshot(path=str(artifacts / "1-hammouchi.png"))
    if os.environ.get("ARTICLEQA_UPDATE_SCREENSHOT"):  # refresh the README's screenshot
        shutil.copyfile(artifacts / "1-hammouchi.png", REPO / "docs" / "screenshot.png")

    # A follow-up that needs the conversation to know who "he" is.
    _ask(page, "What did he say about women in the police?", 1)
    reply = _last_reply(page)
    assert "women" in reply and "[1]" in reply
    assert "Hespress" in sources.locator(".aq-source").first.inner_text()
    assert "Hammouchi" in sources.locator(".aq-sources-head").inner_text()  # searched for
    page.screenshot(path=str(artifacts / "2-follow-up.png"))

    # A country filter: only British articles, so the Moroccan passage is out of reach.
    _choose(page, "aq-country", "United Kingdom")
    _ask(page, "What did Hammouchi say about cybercrime?", 2)
    assert "Hespress" not in sources.inner_text()
    assert "Morocco" not in sources.inner_text()
    page.screenshot(path=str(artifacts / "3-country-filter.png"))
    _choose(page, "aq-country", "All countries")

    # Upload a new article (and a file of a kind that is refused); it is searchable at once.
    upload = tmp_path / "lighthouse lens.txt"
    upload.write_text(UPLOADED_ARTICLE, encoding="utf-8")
    refused = tmp_path / "scan.pdf"
    refused.write_bytes(b"%PDF-1.4")
    page.set_input_files("#aq-files input[type=file]", [str(upload), str(refused)])
    page.wait_for_function(  # both files received (a download link each; names may be cut)
        "() => document.querySelectorAll('#aq-files a[download]').length === 2",
        timeout=WAIT * 1000)
    page.fill("#aq-upload-source :is(input, textarea)", "Islay Courier")
    page.click("#aq-add")
    page.wait_for_selector("#aq-upload-report :text('1 added')", timeout=WAIT * 1000)
    report = page.locator("#aq-upload-report").inner_text()
    assert "Lighthouse lens returns to Port Ellen" in report
    assert "scan.pdf: .pdf files are not read" in report
    assert "23" in status.inner_text() and "Islay Courier" in status.inner_text()
    page.locator("#aq-sidebar").screenshot(path=str(artifacts / "4-upload.png"))
    _choose(page, "aq-source", "Islay Courier")  # the new outlet is offered at once
    _ask(page, "What did MacBride say about the restored lens?", 3)
    assert "prisms" in _last_reply(page)
    assert "Lighthouse lens returns" in sources.locator(".aq-source").first.inner_text()
    assert "Islay Courier" in sources.locator(".aq-source").first.inner_text()
    _choose(page, "aq-source", "All outlets")

    # Markup inside an article is shown as text and never runs.
    _ask(page, "What did Maeve Doyle say about the code pasted into the comment boxes?", 4)
    card = sources.locator(".aq-source").first
    assert "<script>window.__pwned=1</script>" in card.inner_text()
    assert '<img src=x onerror="window.__pwned=2">' in card.inner_text()
    assert "<script>window.__pwned=1</script>" in _last_reply(page)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#aq-sources script, #aq-sources img, #aq-chat img[src='x']").count() == 0
    page.screenshot(path=str(artifacts / "5-markup-as-text.png"))
    assert not errors, errors


def test_empty_index_says_how_to_add_articles(page, artifacts: Path, tmp_path: Path) -> None:
    from articleqa import ArticleIndex
    from articleqa.embedding import HashEncoder
    from articleqa.web import build_app, serve

    with ArticleIndex.open(tmp_path / "empty", encoder=HashEncoder()) as index, \
            ArticleIndex.open(index.path, encoder=HashEncoder()) as writer:
        app = build_app(index, writer=writer)
        port = free_port()
        serve(app, port=port, block=False, quiet=True)
        try:
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            notice = page.locator("#aq-notice")
            notice.wait_for(state="visible", timeout=WAIT * 1000)
            text = notice.inner_text()
            assert "empty" in text and "articleqa ingest" in text and "Add articles" in text
            _ask(page, "What did Hammouchi say about cybercrime?", 0)
            assert "do not answer" in _last_reply(page)
            page.screenshot(path=str(artifacts / "6-empty-index.png"))
        finally:
            app.close()


def test_the_readers_day_sets_the_window_and_the_sources_show_other_outlets_takes(
        page, artifacts: Path, tmp_path: Path) -> None:
    """Over our own multi-outlet articles, with the browser's clock on Thursday 27 November
    2025: "this week" searches 24-27 November, and the sources panel lists other outlets'
    takes on the cited article."""
    from articleqa import ArticleIndex
    from articleqa.web import build_app, serve
    from tests.conftest import TAKES

    with ArticleIndex.open(tmp_path / "takes", llm=None) as index:
        assert not index.ingest([TAKES / "articles.jsonl"], progress=False).failed
        app = build_app(index)
        port = free_port()
        serve(app, port=port, block=False, quiet=True)
        try:
            page.clock.set_fixed_time("2025-11-27T10:00:00")
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.wait_for_selector("#aq-question textarea", timeout=WAIT * 1000)
            _ask(page, "How many jets did Atlas Skies order from Airbus this week?", 0)
            reply = _last_reply(page)
            # "this week" counted from the reader's day: nothing that week tells of the order.
            assert "Searched articles from 24–27 November 2025" in reply
            _ask(page, "How many jets did Atlas Skies order from Airbus last week?", 1)
            reply = _last_reply(page)
            assert "Searched articles from 17–23 November 2025" in reply and "[1]" in reply
            sources = page.locator("#aq-sources")
            assert "2 undated articles left out" in sources.inner_text()
            takes = sources.locator("details.aq-takes")
            assert takes.count() == 1 and "Other outlets' takes" in takes.inner_text()
            cited = sources.locator(".aq-source").first.inner_text()
            shown = takes.inner_text()
            outlets = {"Maghreb Business Review", "Aéro Hebdo", "Gulf Ledger"}
            assert sum(outlet in cited for outlet in outlets) == 1
            assert sum(outlet in shown for outlet in outlets) == 2  # the two others
            assert "Nile Air" not in shown and "Air Sénégal" not in shown  # other orders
            takes.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "7-other-outlets-takes.png"))
            # Asked for the outlets, the reply quotes each by country, cited.
            _ask(page, "How did different outlets cover the Atlas Skies jet order?", 2)
            reply = _last_reply(page)
            for words in ("Morocco", "France", "United Arab Emirates", "[3]"):
                assert words in reply
            page.screenshot(path=str(artifacts / "8-how-outlets-covered-it.png"))
        finally:
            app.close()
            app.articleqa_actions.close()
