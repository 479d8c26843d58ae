"""The PostgreSQL store from the outside: choosing it by URL (Python, the command line, the
environment), its errors, and the real model on it. The behaviour it shares with the folder is
in test_store_contract.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from articleqa import ArticleIndex, IndexNotFoundError, StoreUnavailableError
from articleqa.index import default_index_path
from articleqa.pgstore import redact
from articleqa.storage import is_database_url
from tests.conftest import BBC, OVERVIEW, run_cli

EVALSET = Path(__file__).parent / "data" / "evalset.jsonl"
UNREACHABLE = "postgresql://nobody@/nodb?host=/nonexistent-socket-folder&connect_timeout=2"


def test_a_url_selects_the_database_and_anything_else_a_folder(monkeypatch) -> None:
    assert is_database_url("postgresql://user@host/db") and is_database_url("postgres://h/db")
    assert not is_database_url("embeddings") and not is_database_url(Path("postgresql:/x"))
    monkeypatch.setenv("ARTICLEQA_INDEX", "postgresql://news@db.example/archive")
    assert default_index_path() == "postgresql://news@db.example/archive"
    monkeypatch.setenv("ARTICLEQA_INDEX", "some/folder")
    assert default_index_path() == Path("some/folder")


def test_a_password_is_never_shown() -> None:
    assert redact("postgresql://news:s3cret@db:5432/archive") == \
        "postgresql://news:***@db:5432/archive"
    assert redact("postgresql://news@db/archive") == "postgresql://news@db/archive"


def test_an_unreachable_server_is_a_clear_error(capsys) -> None:
    with pytest.raises(StoreUnavailableError, match="cannot connect to the database"):
        ArticleIndex.open(UNREACHABLE, create=False, llm=None)
    code, out, err = run_cli(capsys, "info", "--index", UNREACHABLE)
    assert (code, out) == (1, "")
    assert err.startswith("articleqa: error: cannot connect") and err.count("\n") == 1


def test_a_database_without_an_index_is_not_found_and_left_alone(postgres, capsys) -> None:
    location = postgres.database()
    with pytest.raises(IndexNotFoundError, match="articleqa ingest --index"):
        ArticleIndex.open(location, create=False, llm=None)
    code, _, err = run_cli(capsys, "search", "--index", location, "anything")
    assert code == 1 and "no articleqa index" in err
    import psycopg

    with psycopg.connect(location) as db:
        assert db.execute("SELECT to_regclass('articleqa_manifest')").fetchone() == (None,)


@pytest.mark.slow
def test_the_command_line_works_on_a_database(postgres, capsys, monkeypatch) -> None:
    location = postgres.database()
    files = [OVERVIEW, BBC / "tech" / "001.txt", BBC / "tech" / "002.txt"]
    code, out, err = run_cli(capsys, "ingest", "--index", location, "--source", "BBC News",
                             *files)
    assert code == 0, err
    assert "3 added" in out
    monkeypatch.setenv("ARTICLEQA_INDEX", location)  # the default index, as for a folder
    code, out, _ = run_cli(capsys, "search", "--json", "What did Hammouchi say about cybercrime?")
    hits = json.loads(out)["hits"]
    assert code == 0 and hits[0]["article"]["source"] == "Hespress"
    hespress = hits[0]["article"]["id"]
    code, out, _ = run_cli(capsys, "info", "--json")
    info = json.loads(out)
    assert info["articles"] == 3 and info["path"] == location and "segments" not in info
    code, out, _ = run_cli(capsys, "info")
    assert code == 0 and "MB" in out
    code, out, _ = run_cli(capsys, "ask", "What did Hammouchi say about cybercrime?")
    assert code == 0 and "[1]" in out
    code, out, _ = run_cli(capsys, "remove", hespress)
    assert code == 0
    code, out, _ = run_cli(capsys, "info", "--json")
    assert json.loads(out)["articles"] == 2


@pytest.fixture(scope="module")
def small_pg_index(small_index: ArticleIndex, postgres):
    """The small index copied into PostgreSQL (the same vectors); read-only."""
    with postgres.copy_of(small_index) as index:
        yield index


def eval_questions() -> list[str]:
    from articleqa import evaluation

    return [q.question for q in evaluation.load_evalset(EVALSET)][:120]


def test_dense_search_on_the_database_is_exact_on_the_small_corpus(
        small_index: ArticleIndex, small_pg_index: ArticleIndex) -> None:
    questions = eval_questions()
    some = {h.article.id for h in small_index.search_one("economy and growth", 6, per_article=1)}
    for filters in (None, {"source": "hespress"}, {"article_id": sorted(some)}):
        folder = small_index.search(questions, 10, mode="dense", per_article=None,
                                    filters=filters)
        pg = small_pg_index.search(questions, 10, mode="dense", per_article=None,
                                   filters=filters)
        for mine, theirs in zip(folder, pg):
            assert [h.chunk_id for h in theirs] == [h.chunk_id for h in mine]
            assert [h.score for h in theirs] == pytest.approx([h.score for h in mine], abs=1e-5)


def test_hybrid_and_ask_agree_on_the_small_corpus(small_index: ArticleIndex,
                                                  small_pg_index: ArticleIndex) -> None:
    """Both stores rank lexically by BM25, though with other stemmers (Porter in SQLite,
    Snowball in PostgreSQL) and tokenizers: hybrid hits may differ a little, answers not."""
    questions = eval_questions()
    folder = small_index.search(questions, 5)
    pg = small_pg_index.search(questions, 5)
    same_first = sum(a[0].chunk_id == b[0].chunk_id for a, b in zip(folder, pg) if a and b)
    assert same_first >= 0.9 * len(questions)
    question = "What did Hammouchi say about cybercrime?"
    mine, theirs = small_index.ask(question), small_pg_index.ask(question)
    assert theirs.answered and theirs.text == mine.text


def test_the_bm25_counts_follow_every_write(postgres, tmp_path: Path) -> None:
    """articleqa_stats (passages and their total length, for BM25) equals what the passages
    table holds after ingests by two processes at once, an edit and a removal."""
    import psycopg

    from tests.test_ingest import ORCHARD, write_corpus
    from tests.test_store_contract import ingest, ingest_in_processes, open_index

    location = postgres.database()
    corpus = write_corpus(tmp_path / "articles")
    ingest_in_processes(location, [corpus], [corpus])
    (corpus / "orchard.txt").write_text(ORCHARD.replace("a third", "half"), encoding="utf-8")
    with open_index(location) as index:
        ingest(index, corpus)
        index.remove(index.search_one("glacier drones", k=1)[0].article.id)
    with psycopg.connect(location) as db:
        kept = db.execute("SELECT passages, total_length FROM articleqa_stats").fetchone()
        actual = db.execute("SELECT count(*), sum(length) FROM articleqa_passages").fetchone()
    assert kept == actual and actual[0] > 0
