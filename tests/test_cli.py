"""Tests of the `articleqa` command line, with the real default model over a tiny corpus (the
tests that build or read an index are marked slow)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from articleqa.cli import main
from articleqa.index import ArticleIndex
from tests.conftest import BBC, OVERVIEW, run_cli

OVERVIEW_PAGE = OVERVIEW
BBC_TECH = [BBC / "tech" / f"{n:03d}.txt" for n in range(1, 6)]
CYBERCRIME = "What did Hammouchi say about cybercrime?"
HESPRESS_HEADLINE = "Hammouchi: Morocco links security to human rights"


def search_json(capsys: pytest.CaptureFixture[str], index: Path, *argv: str | Path
                ) -> list[dict]:
    code, out, err = run_cli(capsys, "search", "--index", index, "--json", *argv)
    assert (code, err) == (0, "")
    return [json.loads(line) for line in out.splitlines()]


def write_article(folder: Path, name: str, title: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


def assert_one_line_error(code: int, out: str, err: str, *words: str) -> None:
    assert code == 1
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("articleqa: error: ")
    for word in words:
        assert word in err


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Overview page and five BBC tech articles; read-only for the tests."""
    folder = tmp_path_factory.mktemp("cli") / "index"
    code = main(["ingest", "--index", str(folder), "--quiet", "--source", "BBC News",
                 "--country", "United Kingdom", str(OVERVIEW_PAGE), *map(str, BBC_TECH)])
    assert code == 0
    return folder


@pytest.fixture
def writable_index(index_dir: Path, tmp_path: Path) -> Path:
    """A copy of the shared index that a test may change."""
    return Path(shutil.copytree(index_dir, tmp_path / "index"))


@pytest.fixture(scope="module")
def hespress_id(index_dir: Path) -> str:
    with ArticleIndex.open(index_dir, create=False) as index:
        (hit,) = index.search_one(CYBERCRIME, 1)
    return hit.article.id


# -- ingest ----------------------------------------------------------------------------


@pytest.fixture
def two_articles(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "articles"
    folder.mkdir()
    return [
        write_article(folder, "tea.txt", "Tea growers count the cost of a dry spring",
                      "Farmers in the hills said the rains came six weeks late this year."),
        write_article(folder, "ferry.txt", "Harbour town opens a new ferry pier",
                      "The pier took two years to build and can take three boats at once."),
    ]


@pytest.mark.slow
def test_ingest_prints_a_summary_and_exits_0(tmp_path, capsys, two_articles):
    code, out, err = run_cli(capsys, "ingest", "--index", tmp_path / "idx", *two_articles)

    assert code == 0
    assert err == ""
    assert out.startswith("2 added, 0 unchanged, 0 failed; ")
    assert "passages embedded in" in out
    assert out.count("\n") == 1


@pytest.mark.slow
def test_ingest_quiet_prints_nothing_on_success(tmp_path, capsys, two_articles):
    code, out, err = run_cli(capsys, "ingest", "--quiet", "--index", tmp_path / "idx",
                             *two_articles)

    assert (code, out, err) == (0, "", "")


@pytest.mark.slow
def test_ingest_json_report_then_reingest_is_unchanged(tmp_path, capsys, two_articles):
    index = tmp_path / "idx"
    code, out, err = run_cli(capsys, "ingest", "--json", "--index", index, *two_articles)

    assert (code, err) == (0, "")
    report = json.loads(out)
    assert set(report) == {"added", "unchanged", "updated", "removed", "duplicates", "failed",
                           "warnings", "passages", "seconds"}
    assert len(report["added"]) == 2
    assert report["unchanged"] == report["failed"] == report["removed"] == []
    assert report["passages"] >= 2

    code, out, _ = run_cli(capsys, "ingest", "--json", "--index", index, *two_articles)
    again = json.loads(out)
    assert code == 0
    assert again["added"] == [] and again["passages"] == 0
    assert sorted(again["unchanged"]) == sorted(report["added"])


@pytest.mark.slow
def test_ingest_with_bad_files_exits_1_names_them_and_adds_the_good(tmp_path, capsys,
                                                                     two_articles):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    index = tmp_path / "idx"

    code, out, err = run_cli(capsys, "ingest", "--index", index, empty, two_articles[0], binary,
                         two_articles[1])

    assert code == 1
    assert err == ""
    assert out.startswith("2 added, 0 unchanged, 2 failed; ")
    assert f"failed: {empty}: " in out
    assert f"failed: {binary}: " in out
    code, out, _ = run_cli(capsys, "info", "--json", "--index", index)
    assert code == 0
    assert json.loads(out)["articles"] == 2


@pytest.mark.slow
def test_ingest_quiet_still_reports_failures_on_stderr(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")

    code, out, err = run_cli(capsys, "ingest", "--quiet", "--index", tmp_path / "idx", empty)

    assert code == 1
    assert out == ""
    assert f"failed: {empty}: " in err


# -- search ----------------------------------------------------------------------------


@pytest.mark.slow
def test_search_human_output_ranks_the_hespress_article_first(index_dir, capsys):
    code, out, err = run_cli(capsys, "search", "--index", index_dir, CYBERCRIME, "-k", "2")

    assert (code, err) == (0, "")
    ranked = [line for line in out.splitlines() if line[:1].isdigit()]
    assert [line.split(".")[0] for line in ranked] == ["1", "2"]
    assert ranked[0].startswith("1. [")
    assert HESPRESS_HEADLINE in ranked[0]
    assert "(Hespress, Morocco, " in ranked[0]
    assert f"{OVERVIEW_PAGE}" in out
    assert not any(line.startswith("? ") for line in out.splitlines())  # only for --queries


@pytest.mark.slow
def test_search_json_is_one_object_whose_text_is_the_cited_slice(index_dir, capsys):
    (result,) = search_json(capsys, index_dir, CYBERCRIME, "-k", "2")

    assert result["question"] == CYBERCRIME
    assert len(result["hits"]) == 2
    scores = [hit["score"] for hit in result["hits"]]
    assert scores == sorted(scores, reverse=True)
    top = result["hits"][0]
    assert set(top) >= {"score", "chunk_id", "text", "start", "end", "article"}
    assert set(top["article"]) == {"id", "title", "source", "country", "published", "url"}
    assert top["article"]["title"].startswith(HESPRESS_HEADLINE)
    assert (top["article"]["source"], top["article"]["country"]) == ("Hespress", "Morocco")
    assert top["article"]["published"].endswith("-11-24")
    assert "ybercrime" in top["text"]
    with ArticleIndex.open(index_dir, create=False) as index:
        for hit in result["hits"]:
            body = index.article(hit["article"]["id"]).body
            assert hit["text"] == body[hit["start"]:hit["end"]]


@pytest.mark.slow
def test_search_queries_file_gives_one_json_line_per_question_in_order(index_dir, tmp_path,
                                                                       capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{CYBERCRIME}\n\n   \nWho makes spyware?\nCheap computers\n",
                         encoding="utf-8")

    results = search_json(capsys, index_dir, "--queries", questions, "-k", "3")

    assert [r["question"] for r in results] == [CYBERCRIME, "Who makes spyware?",
                                                 "Cheap computers"]
    assert all(len(r["hits"]) == 3 for r in results)
    assert results[0]["hits"][0]["article"]["source"] == "Hespress"


@pytest.mark.slow
def test_search_queries_dash_reads_stdin(index_dir, capsys, monkeypatch):
    stdin = f"{CYBERCRIME}\nWho makes spyware?\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))

    code, out, err = run_cli(capsys, "search", "--index", index_dir, "--queries", "-", "-k", "1")

    assert (code, err) == (0, "")
    assert [line for line in out.splitlines() if line.startswith("? ")] == [
        f"? {CYBERCRIME}", "? Who makes spyware?"]
    assert out.count("\n1. [") == 2


@pytest.mark.slow
def test_search_country_filter_returns_only_that_articles_passages(index_dir, capsys,
                                                                   hespress_id):
    (result,) = search_json(capsys, index_dir, "spyware and computers", "--country", "Morocco",
                            "-k", "50")

    assert result["hits"]
    assert {hit["article"]["id"] for hit in result["hits"]} == {hespress_id}
    assert {hit["article"]["country"] for hit in result["hits"]} == {"Morocco"}


@pytest.mark.slow
def test_search_since_after_every_article_finds_nothing(index_dir, capsys):
    code, out, err = run_cli(capsys, "search", "--index", index_dir, CYBERCRIME,
                         "--since", "2030-01-01")

    assert (code, err) == (0, "")
    assert "no passages found" in out
    assert "1. [" not in out
    (result,) = search_json(capsys, index_dir, CYBERCRIME, "--since", "2030-01-01")
    assert result == {"question": CYBERCRIME, "hits": []}


# -- ask -------------------------------------------------------------------------------


@pytest.mark.slow
def test_ask_quotes_with_sources_and_notes_how_the_reply_was_made(index_dir, capsys,
                                                                   monkeypatch):
    monkeypatch.delenv("ARTICLEQA_LLM_URL", raising=False)
    code, out, err = run_cli(capsys, "ask", "--index", index_dir, CYBERCRIME)

    assert code == 0
    assert out.startswith(f"In “{HESPRESS_HEADLINE}")
    assert out.splitlines()[0].endswith("”, Hespress (Morocco, 24 November 2025), Hammouchi said:")
    assert "\n[1] " + HESPRESS_HEADLINE in out
    assert err == ("\nNote: Quoted from the articles; set ARTICLEQA_LLM_URL to have a language "
                   "model write the replies.\n")


@pytest.mark.slow
def test_ask_json_has_the_hits_in_the_shape_of_search_json(index_dir, capsys):
    code, out, _ = run_cli(capsys, "ask", "--index", index_dir, CYBERCRIME, "--json")
    (searched,) = search_json(capsys, index_dir, CYBERCRIME, "-k", "6")

    assert code == 0
    answer = json.loads(out)
    assert answer["answered"] and answer["citations"][0]["hit"] == answer["hits"][0]
    assert answer["hits"] == searched["hits"]


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["search", "a question"],
    ["info"],
    ["remove", "9266f4184ee56b29"],
], ids=["search", "info", "remove"])
def test_missing_index_is_a_one_line_error_and_is_not_created(argv, tmp_path, capsys):
    missing = tmp_path / "no-index"

    code, out, err = run_cli(capsys, *argv, "--index", missing)

    assert_one_line_error(code, out, err, "no articleqa index", str(missing))
    assert not missing.exists()


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "words"), [
    (["   "], ["empty"]),
    (["a question", "-k", "0"], ["k=0"]),
    (["a question", "--since", "24/11/2025"], ["since", "YYYY-MM-DD"]),
    (["a question", "--queries", "questions.txt"], ["QUESTION", "--queries"]),
    ([], ["QUESTION", "--queries"]),
], ids=["empty-question", "k-0", "bad-since", "question-and-queries", "neither"])
def test_search_usage_errors_are_one_line(argv, words, index_dir, capsys):
    code, out, err = run_cli(capsys, "search", "--index", index_dir, *argv)

    assert_one_line_error(code, out, err, *words)


@pytest.mark.slow
def test_search_unreadable_queries_file_is_a_one_line_error(index_dir, tmp_path, capsys):
    missing = tmp_path / "questions.txt"

    code, out, err = run_cli(capsys, "search", "--index", index_dir, "--queries", missing)

    assert_one_line_error(code, out, err, str(missing))


# -- info ------------------------------------------------------------------------------


@pytest.mark.slow
def test_info_human(index_dir, capsys):
    code, out, err = run_cli(capsys, "info", "--index", index_dir)

    assert (code, err) == (0, "")
    rows = dict(line.split(None, 1) for line in out.splitlines() if not line.startswith("last"))
    assert rows["index"] == str(index_dir)
    assert rows["articles"] == "6"
    assert int(rows["passages"]) >= 6
    assert "all-MiniLM-L6-v2" in rows["model"]
    assert rows["outlets"] == "BBC News, Hespress"
    assert rows["countries"] == "Morocco, United Kingdom"


@pytest.mark.slow
def test_info_json(index_dir, capsys):
    code, out, err = run_cli(capsys, "info", "--index", index_dir, "--json")

    assert (code, err) == (0, "")
    info = json.loads(out)
    assert info["articles"] == 6
    assert info["passages"] >= 6
    assert info["model"].endswith("all-MiniLM-L6-v2")
    assert info["sources"] == ["BBC News", "Hespress"]
    assert info["countries"] == ["Morocco", "United Kingdom"]


# -- remove ----------------------------------------------------------------------------


@pytest.mark.slow
def test_remove_takes_the_article_out_of_search(writable_index, capsys, hespress_id):
    code, out, err = run_cli(capsys, "remove", "--index", writable_index, hespress_id)

    assert (code, err) == (0, "")
    assert out.startswith(f"removed {hespress_id}: {HESPRESS_HEADLINE}")
    (result,) = search_json(capsys, writable_index, CYBERCRIME, "-k", "10")
    assert result["hits"]
    assert hespress_id not in {hit["article"]["id"] for hit in result["hits"]}
    code, out, _ = run_cli(capsys, "info", "--index", writable_index, "--json")
    assert json.loads(out)["articles"] == 5


@pytest.mark.slow
def test_remove_unknown_id_exits_1_and_keeps_the_index(writable_index, capsys):
    code, out, err = run_cli(capsys, "remove", "--index", writable_index, "0000000000000000")

    assert_one_line_error(code, out, err, "0000000000000000")
    code, out, _ = run_cli(capsys, "info", "--index", writable_index, "--json")
    assert json.loads(out)["articles"] == 6


# -- defaults, help and the installed script -------------------------------------------


@pytest.mark.slow
def test_index_defaults_to_articleqa_index_variable(index_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARTICLEQA_INDEX", str(index_dir))

    code, out, _ = run_cli(capsys, "info", "--json")

    assert code == 0
    assert json.loads(out)["path"] == str(index_dir)


def test_index_defaults_to_embeddings_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARTICLEQA_INDEX", raising=False)

    code, out, err = run_cli(capsys, "info")

    assert_one_line_error(code, out, err, "embeddings")
    assert not (tmp_path / "embeddings").exists()


@pytest.mark.parametrize("command", ["ingest", "search", "info", "remove"])
def test_help_of_each_command_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])

    assert exit_.value.code == 0
    assert f"Example: articleqa {command} " in capsys.readouterr().out


@pytest.mark.slow
def test_installed_console_script_runs_info(index_dir):
    script = Path(sys.executable).parent / "articleqa"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "articleqa.cli"]

    done = subprocess.run([*command, "info", "--json", "--index", str(index_dir)],
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["articles"] == 6


@pytest.mark.slow
def test_ask_and_search_count_time_words_from_as_of(index_dir, capsys, monkeypatch):
    monkeypatch.delenv("ARTICLEQA_LLM_URL", raising=False)
    question = "What did Hammouchi say about cybercrime this week?"
    code, out, _ = run_cli(capsys, "ask", "--index", index_dir, question, "--as-of", "2025-11-27")
    assert code == 0 and "[1] " + HESPRESS_HEADLINE in out
    # The BBC files carry no date: the window leaves them out, and says so.
    assert out.rstrip().endswith(
        f"Searched articles from 24–27 November 2025 ({len(BBC_TECH)} undated articles left out).")
    (found,) = search_json(capsys, index_dir, question, "--as-of", "2025-11-27")
    assert {hit["article"]["published"] for hit in found["hits"]} == {"2025-11-24"}
    # A month later no article is dated in that week: articles of any date are searched.
    (later,) = search_json(capsys, index_dir, question, "--as-of", "2025-12-27")
    assert {hit["article"]["published"] for hit in later["hits"]} > {"2025-11-24"}
    code, out, _ = run_cli(capsys, "ask", "--index", index_dir, question, "--as-of", "2025-12-27")
    assert code == 0 and out.rstrip().endswith(
        "No article is dated 22–27 December 2025: searched articles of any date instead.")
    code, out, err = run_cli(capsys, "ask", "--index", index_dir, question, "--as-of", "soon")
    assert_one_line_error(code, out, err, "as_of")


@pytest.mark.parametrize("command", [["search", CYBERCRIME], ["ask", CYBERCRIME],
                                     ["ingest", str(OVERVIEW_PAGE)]])
def test_a_backend_whose_vectors_differ_is_a_one_line_error(tmp_path, capsys, command):
    from articleqa.embedding import HashEncoder

    ArticleIndex.open(tmp_path / "idx", encoder=HashEncoder(backend="onnx-int8")).close()
    code, out, err = run_cli(capsys, *command, "--index", tmp_path / "idx",
                             "--encoder-backend", "torch")
    assert_one_line_error(code, out, err, "'onnx-int8' encoder backend",
                          "--encoder-backend torch")
