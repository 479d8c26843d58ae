"""Hostile and real-world input: feed dates, metadata for known articles, special and huge
files, files that break a reader, text that is not valid Unicode. Fake encoder only."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articleqa import ArticleIndex
from articleqa.embedding import HashEncoder
from articleqa.errors import ArticleReadError
from articleqa.readers import read_articles
from articleqa.readers.article import MAX_TITLE_CHARS, article_id
from articleqa.web import PageActions
from tests.conftest import run_cli

HARBOUR = "Harbour festival draws crowds\n\nFishermen decorated their trawlers with lanterns.\n"
ORCHARD = "Orchard growers expect a small harvest\n\nA late frost damaged the blossom.\n"


def open_index(folder: Path) -> ArticleIndex:
    return ArticleIndex.open(folder, encoder=HashEncoder(), llm=None)


def feed(folder: Path, dates: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "feed.jsonl"
    path.write_text("\n".join(json.dumps({"title": f"Story {n}", "text": f"Story number {n}.",
                                          "published": date})
                              for n, date in enumerate(dates)) + "\n", encoding="utf-8")
    return path


# -- 1. dates --------------------------------------------------------------------------------------


def test_feed_dates_are_read_and_an_unreadable_one_costs_only_the_date(tmp_path: Path) -> None:
    path = feed(tmp_path / "in", ["2023/01/24", "Tue, 24 Jan 2023 10:00:00 GMT",
                                  "January 24, 2023", "2023-01-24T23:30:00-05:00",
                                  "sometime last spring"])
    with open_index(tmp_path / "ix") as index:
        report = index.ingest([path], progress=False)
        assert len(report.added) == 5 and report.failed == []
        dates = {index.article(i).title: index.article(i).published for i in report.added}
    assert {str(d) for t, d in dates.items() if t != "Story 4"} == {"2023-01-24"}
    assert dates["Story 4"] is None
    [(where, message)] = report.warnings
    assert where == f"{path}#5" and "sometime last spring" in message
    assert "1 warning" in report.summary()


def test_cli_prints_the_date_warning(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("articleqa.index.load_encoder", lambda name, backend=None: HashEncoder())
    path = feed(tmp_path / "in", ["2023-01-24", "not a date"])
    code, out, _ = run_cli(capsys, "ingest", "--index", tmp_path / "ix", path)
    assert code == 0
    assert "2 added" in out and f"warning: {path}#2: record 2 has an unreadable date" in out


def test_an_upload_shows_the_date_warning(tmp_path: Path) -> None:
    path = feed(tmp_path / "in", ["yesterday-ish"])
    with open_index(tmp_path / "ix") as index, open_index(tmp_path / "ix") as writer:
        html = PageActions(index, writer).upload([(path, "news.jsonl")])
    assert "1 added" in html and "Added with warnings (1)" in html
    assert "<b>news.jsonl#1</b>" in html and "yesterday-ish" in html


# -- 2. metadata for known articles ----------------------------------------------------------------


def test_source_and_country_fill_what_stored_articles_lack(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "orchard.txt").write_text(ORCHARD, encoding="utf-8")
    with open_index(tmp_path / "ix") as index:
        index.ingest([folder / "harbour.txt"], source="Islay Courier", progress=False)
        index.ingest([folder / "orchard.txt"], progress=False)
        report = index.ingest([folder], source="BBC News", country="United Kingdom",
                              progress=False)
        assert report.added == [] and len(report.unchanged) == 2 and len(report.updated) == 2
        assert "2 updated" in report.summary() and report.passages == 0
        by_title = {index.article(i).title: index.article(i) for i in report.unchanged}
        harbour = by_title["Harbour festival draws crowds"]
        orchard = by_title["Orchard growers expect a small harvest"]
        assert (harbour.source, harbour.country) == ("Islay Courier", "United Kingdom")
        assert (orchard.source, orchard.country) == ("BBC News", "United Kingdom")
        hits = index.search(["frost blossom"], k=2, filters={"country": "United Kingdom"})[0]
        assert {h.article.title for h in hits} == set(by_title)
        again = index.ingest([folder], source="Other", country="Elsewhere", progress=False)
        assert again.updated == [] and "updated" not in again.summary()


def test_a_fixed_date_dates_a_stored_article(tmp_path: Path) -> None:
    path = feed(tmp_path / "in", ["not a date"])
    with open_index(tmp_path / "ix") as index:
        [article_id] = index.ingest([path], progress=False).added
        feed(tmp_path / "in", ["2024-05-17"])
        report = index.ingest([path], progress=False)
        assert report.updated == [article_id] and report.warnings == []
        assert str(index.article(article_id).published) == "2024-05-17"


# -- 3. special and huge files ---------------------------------------------------------------------


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "sock.txt"))
        result = {}

        def run() -> None:
            with open_index(tmp_path / "ix") as index:
                result["report"] = index.ingest([folder, folder / "pipe.txt"], progress=False)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "ingest hangs on a FIFO"
    report = result["report"]
    assert len(report.added) == 1
    reasons = [Path(path).name + ": " + reason for path, reason in report.failed]
    assert len(report.failed) == 4
    assert sum("is a FIFO (named pipe), not a regular file" in r for r in reasons) == 2
    assert any(r.startswith("zero.txt: is a character device") for r in reasons)
    assert any(r.startswith("sock.txt: is a socket") for r in reasons)


def test_a_file_over_the_size_limit_fails_with_how_to_raise_it(tmp_path: Path, capsys,
                                                               monkeypatch) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Big headline\n\n" + "A sentence of the body. " * 100, encoding="utf-8")
    with open_index(tmp_path / "ix") as index:
        report = index.ingest([big], max_file_bytes=1000, progress=False)
        assert report.added == []
        [(path, reason)] = report.failed
        assert path == str(big) and "larger than the limit of 1000 bytes" in reason
        assert "--max-file-size" in reason
        assert len(index.ingest([big], max_file_bytes=10_000, progress=False).added) == 1
        with pytest.raises(ValueError, match="max_file_bytes"):
            index.ingest([big], max_file_bytes=0)
    monkeypatch.setattr("articleqa.index.load_encoder", lambda name, backend=None: HashEncoder())
    code, _, err = run_cli(capsys, "ingest", "-q", "--index", tmp_path / "ix2",
                           "--max-file-size", "1k", big)
    assert code == 1 and "larger than the limit of 1 KiB" in err
    code, out, _ = run_cli(capsys, "ingest", "--index", tmp_path / "ix2", "--max-file-size",
                           "1MB", big)
    assert code == 0 and "1 added" in out
    with pytest.raises(SystemExit):
        run_cli(capsys, "ingest", "--index", tmp_path / "ix2", "--max-file-size", "lots", big)
    assert "is not a size" in capsys.readouterr().err


# -- 4. one bad file is that file's failure --------------------------------------------------------


def test_deeply_nested_json_fails_alone(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (folder / "deep.jsonl").write_text(json.dumps({"title": "Fine", "text": "Fine text."})
                                       + "\n" + "[" * 100_000 + "\n", encoding="utf-8")
    (folder / "z-orchard.txt").write_text(ORCHARD, encoding="utf-8")
    with open_index(tmp_path / "ix") as index:
        report = index.ingest([folder], progress=False)
    assert len(report.added) == 3
    failed = dict(report.failed)
    assert "nested too deeply" in failed[str(folder / "deep.json")]
    assert "nested too deeply" in failed[f"{folder / 'deep.jsonl'}#2"]


def test_any_exception_in_a_reader_fails_that_file_only(tmp_path: Path, monkeypatch) -> None:
    import articleqa.index as index_module

    real = index_module.read_articles

    def flaky(path, **options):
        if path.read_text(encoding="utf-8") == HARBOUR:
            raise MemoryError("no room")
        return real(path, **options)

    monkeypatch.setattr(index_module, "read_articles", flaky)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "good.txt").write_text(ORCHARD, encoding="utf-8")
    with open_index(tmp_path / "ix") as index, open_index(tmp_path / "ix") as writer:
        report = index.ingest([folder], progress=False)
        assert len(report.added) == 1
        assert report.failed == [(str(folder / "bad.txt"),
                                  "cannot read the file (MemoryError: no room)")]
        assert index.search(["frost"], k=1)[0]
        html = PageActions(index, writer).upload([(folder / "bad.txt", "bad.txt")])
    assert "<b>bad.txt</b>: cannot read the file (MemoryError: no room)" in html


def test_an_article_that_cannot_be_cut_fails_alone(tmp_path: Path, monkeypatch) -> None:
    import articleqa.index as index_module

    real = index_module.chunk_article

    def fragile(article, *args):
        if "frost" in article.body:
            raise RecursionError("maximum recursion depth exceeded")
        return real(article, *args)

    monkeypatch.setattr(index_module, "chunk_article", fragile)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "orchard.txt").write_text(ORCHARD, encoding="utf-8")
    with open_index(tmp_path / "ix") as index:
        report = index.ingest([folder], progress=False)
    assert len(report.added) == 1
    assert report.failed == [(str(folder / "orchard.txt"), "cannot cut into passages "
                              "(RecursionError: maximum recursion depth exceeded)")]


# -- 5. text that is not valid Unicode -------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path, monkeypatch) -> Path:
    """An index of two articles; the CLI opens it with the fake encoder."""
    monkeypatch.setattr("articleqa.index.load_encoder", lambda name, backend=None: HashEncoder())
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "orchard.txt").write_text(ORCHARD, encoding="utf-8")
    with open_index(tmp_path / "ix") as index:
        index.ingest([folder], progress=False)
    return tmp_path / "ix"


@pytest.mark.parametrize("question", ["\ud800 harbour?", "caf\udce9 harbour?"])
def test_questions_that_are_not_unicode_get_a_clear_error(small: Path, capsys,
                                                          question: str) -> None:
    with open_index(small) as index:
        for call in (lambda: index.search([question]), lambda: index.ask(question),
                     lambda: next(index.ask_stream(question)),
                     lambda: index.search(["harbour"], filters={"source": question})):
            with pytest.raises(ValueError, match="is not valid Unicode text: character"):
                call()
    for command in ("search", "ask"):
        code, out, err = run_cli(capsys, command, "--index", small, question)
        assert code == 1 and out == ""
        assert err.startswith("articleqa: error: ")
        assert "question 1 is not valid Unicode text" in err or "the question is not" in err
        assert len(err.splitlines()) == 1


@pytest.mark.slow  # starts a server: seconds
def test_the_http_api_reports_a_question_that_is_not_unicode(small: Path) -> None:
    import httpx

    from articleqa.web import build_app, serve
    from tests.conftest import free_port

    with open_index(small) as index:
        page = build_app(index)
        port = free_port()
        serve(page, port=port, block=False, quiet=True)
        try:
            url = f"http://127.0.0.1:{port}/gradio_api/call/ask"
            body = b'{"data": ["\\ud800 harbour?", "", "", "", "", ""]}'  # a JSON escape
            event = httpx.post(url, content=body, headers={"content-type": "application/json"},
                               timeout=30).json()["event_id"]
            result = httpx.get(f"{url}/{event}", timeout=30).text
        finally:
            page.close()
            page.articleqa_actions.close()
    assert "event: error" in result and '"error": null' not in result
    assert "not valid Unicode text" in result


# -- 10. messages that mislead ---------------------------------------------------------------------


def test_a_queries_file_that_is_not_utf8_names_the_file_and_line(small: Path, tmp_path: Path,
                                                                  capsys) -> None:
    queries = tmp_path / "q.txt"
    queries.write_bytes(b"harbour\n\nfrost\ncaf\xe9 prices\n")
    code, out, err = run_cli(capsys, "search", "--index", small, "--queries", queries, "--json")
    assert code == 1
    assert f"--queries {queries}, line 4: byte 0xE9 at column 4 is not UTF-8" in err


@pytest.mark.parametrize(("filters", "message"), [
    ("source", "must be a mapping such as"),
    ({"since": "2025-02-01", "until": "2025-01-01"}, "later than until=2025-01-01"),
])
def test_misleading_filters_are_refused_plainly(small: Path, filters, message: str) -> None:
    with open_index(small) as index, pytest.raises(ValueError, match=message):
        index.search(["harbour"], filters=filters)


def test_an_ingest_of_missing_paths_only_makes_no_index(tmp_path: Path, capsys,
                                                       monkeypatch) -> None:
    monkeypatch.setattr("articleqa.index.load_encoder", lambda name, backend=None: HashEncoder())
    code, _, err = run_cli(capsys, "ingest", "--index", tmp_path / "ix", tmp_path / "nothing")
    assert code == 1 and "no such file or folder" in err and "no index was made" in err
    assert not (tmp_path / "ix").exists()


def test_output_into_a_closed_pipe_ends_quietly(small: Path, monkeypatch, capsys) -> None:
    from articleqa.cli import main

    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self) -> int:
            return os.dup(2)

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    assert main(["info", "--index", str(small)]) == 141


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m.pop("model"), "lacks the key 'model'"),
    (lambda m: m.update(dimension="384"), "'dimension' is '384', not int"),
])
def test_a_bad_manifest_names_what_is_wrong(small: Path, change, message: str) -> None:
    from articleqa import IndexCorruptError

    manifest = json.loads((small / "manifest.json").read_text())
    change(manifest)
    (small / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match=message):
        open_index(small)


# -- 9. bounded work -------------------------------------------------------------------------------


def test_sentence_splitting_is_linear_in_the_paragraph() -> None:
    import time

    from articleqa.chunking import paragraph_spans, quote_units, sentence_spans

    def seconds(size: int) -> float:
        text = "The U.S. economy grew, Mr. Smith said. " * (size // 39)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            quote_units(text, sentence_spans(text))
            paragraph_spans(text)
            best = min(best, time.perf_counter() - started)
        return best

    # Four times the text: about four times the time (quadratic splitting took 16 to 30).
    assert seconds(400_000) < 10 * seconds(100_000)


def test_reading_what_a_long_question_asks_for_is_linear() -> None:
    import time

    from articleqa.answering import lacking_detail

    def seconds(words: int) -> float:
        question = "Who is " + "the word " * words + "?"
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            lacking_detail(question, ["Tom Hale won it."])
            best = min(best, time.perf_counter() - started)
        return best

    # Four times the words: about four times the time (a backtracking pattern took 16 and more).
    assert seconds(8_000) < 10 * seconds(2_000)


def test_finding_speakers_in_a_long_run_of_capitalised_words_is_linear() -> None:
    import random
    import time

    from articleqa import Article
    from articleqa.answering import Sentence, quote_speaker, role_holder
    from articleqa.followup import resolve_follow_up

    def seconds(words: int) -> float:
        draw = random.Random(words)
        run = " ".join(draw.choice("BCDFGHKLMNPRST") + "".join(draw.choices("aeiourn", k=5))
                       for _ in range(words))  # a table of names the reader lost the commas of
        body = f"The port reopened. {run} of the {run}. “We are ready,” he said."
        quote = body.index("“We")
        article = Article("a", "Port", body)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            quote_speaker(article, Sentence(0, quote, len(body), body[quote:]))
            role_holder(Article("b", "Port", body + " "), "chancellor")  # not the cached one
            resolve_follow_up("And the chancellor?", [
                {"role": "user", "content": "What did the chancellor say?"},
                {"role": "assistant", "content": f"In “Port”, {body} said: “Ready.” [1]"}])
            best = min(best, time.perf_counter() - started)
        return best

    # Four times the words: about four times the time (names of any length took 16 and more).
    assert seconds(4_000) < 10 * seconds(1_000)


def test_a_huge_headline_is_bounded(tmp_path: Path, small: Path, capsys) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("word " * 2_000_000 + "\n\nThe harbour body of the article.\n",
                    encoding="utf-8")
    with open_index(small) as index:
        [article_id] = index.ingest([path], progress=False).added
        title = index.article(article_id).title
    assert len(title) <= MAX_TITLE_CHARS and title.endswith("…")
    code, out, _ = run_cli(capsys, "search", "--index", small, "harbour body")
    assert code == 0 and len(out) < 5000


# -- 11. Chinese and Japanese in BM25 --------------------------------------------------------------


def test_bm25_finds_chinese_and_japanese_words(tmp_path: Path) -> None:
    from articleqa.lexical import terms

    assert terms("经济增长") == ["经济", "济增", "增长"]
    assert terms("Tokyo東京") == ["tokyo", "東京"]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "zh.txt").write_text("中国经济增长放缓\n\n今年第三季度中国经济增长百分之四点八。\n",
                                   encoding="utf-8")
    japanese = "東京で桜が満開\n\n東京都心で桜が満開になったと気象庁が発表した。\n"
    (folder / "ja.txt").write_text(japanese, encoding="utf-8")
    (folder / "en.txt").write_text(HARBOUR, encoding="utf-8")
    with open_index(tmp_path / "ix") as index:
        index.ingest([folder], progress=False)
        for question, title in (("经济增长", "中国经济增长放缓"), ("桜の満開", "東京で桜が満開")):
            hits = index.search([question], k=3, mode="bm25")[0]
            assert [h.article.title for h in hits] == [title]


# -- properties of the readers ---------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["title", "text", "body", "source", "country", "published", "date",
                         "url", "authors", "outlet", "name", "other"]), inner, max_size=6),
    max_leaves=20,
)


def _read_any(tmp_path: Path, name: str, data: bytes) -> None:
    """Reading gives articles (each sound) or an ArticleReadError: nothing else escapes."""
    path = tmp_path / name
    path.write_bytes(data)
    try:
        articles, errors = read_articles(path, warnings=[])
    except ArticleReadError as error:
        assert str(path) in str(error)
        return
    for article in articles:
        assert article.id == article_id(article.title, article.body)
        assert article.body.strip() and len(article.title) <= MAX_TITLE_CHARS
        assert not any("\ud800" <= c <= "\udfff" for c in article.title + article.body)
    assert all(isinstance(e, ArticleReadError) for e in errors)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".txt", ".json", ".jsonl", ""]))
def test_any_bytes_read_as_articles_or_fail_with_a_reason(tmp_path: Path, data: bytes,
                                                          suffix: str) -> None:
    _read_any(tmp_path, f"any{suffix}", data)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_JSON, min_size=1, max_size=4), lines=st.booleans())
def test_any_json_reads_as_articles_or_fails_with_a_reason(tmp_path: Path, records: list,
                                                           lines: bool) -> None:
    if lines:
        text = "\n".join(json.dumps(r) for r in records)
    else:
        text = json.dumps(records if len(records) > 1 else records[0])
    _read_any(tmp_path, "feed.jsonl" if lines else "feed.json", text.encode())


def test_the_chat_refuses_a_question_that_is_not_unicode_before_showing_it(small: Path
                                                                            ) -> None:
    from articleqa.web import build_app

    with open_index(small) as index:
        page = build_app(index)
        try:
            chat = next(f.fn for f in page.fns.values() if f.name == "chat")
            with pytest.warns(UserWarning, match="not valid Unicode text"):
                shown = list(chat("\udce9 harbour?", [], "", "", None, None))
            assert len(shown) == 1 and shown[0][0] == [] and shown[0][1] == []
            answered = list(chat("harbour festival?", [], "", "", None, None))
            assert len(answered[-1][1]) == 1  # the next question is answered as usual
        finally:
            page.articleqa_actions.close()
