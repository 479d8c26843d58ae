"""The index folder on disk: manifest, article and passage records, and FAISS vector segments.

Layout::

    manifest.json        what the index is: format version, model, encoder backend, dimension,
                         chunking budget
    records.sqlite       articles, passages, segments, tombstones (SQLite in WAL mode)
    segments/NNNNNN.faiss  immutable FAISS segments: exact when small, IVF when large
                         (see articleqa.ann; the sizes and search parameters are in the manifest)
    write.lock           held by the one process that writes at a time

A segment is written once (to a temporary file, fsynced, renamed) and never changed. It becomes
part of the index in the SQLite transaction that records it together with its passages, so a
crash at any point leaves the last committed index; files no transaction recorded are deleted
by the next writer. Removing an article deletes its records and tombstones its vectors; merging
segments drops tombstoned vectors. Readers never lock: each search sees one committed state.

Threads share a store: each thread reads through an SQLite connection of its own (WAL mode lets
them all read while one writes), the loaded segments and tombstones are one immutable
:class:`_Loaded` snapshot that :meth:`IndexStore.refresh` swaps whole, FAISS searches run
outside any lock, and writes go one at a time through the store's writing connection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import functools
import hashlib
import json
import math
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np

from articleqa import ann
from articleqa.chunking import Chunk, chunk_matches_id
from articleqa.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexReadOnlyError,
)
from articleqa.filters import Filters
from articleqa.lexical import fts_query, passage_for_embedding, terms
from articleqa.readers.article import Article, article_id

FORMAT_NAME = "articleqa-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RECORDS = "records.sqlite"
#: SHA-256 and size of records.sqlite as the last writer left it (absent while one writes).
RECORDS_DIGEST = "records.sqlite.sha256"
SEGMENTS = "segments"
#: Above this many segments, the smallest are merged after a write.
MAX_SEGMENTS = 8
#: How long an SQLite statement waits for another process's lock.
BUSY_TIMEOUT_MS = 10_000
#: Passages BM25 scores for one question, at most, summed over its terms: FTS5 scores every
#: passage its query matches, so past this the commonest terms are left out of the query (they
#: add little to the ranking). On a small archive it seldom binds; at a million passages a
#: common word alone is held by hundreds of thousands (bench/scale.py).
BM25_POSTINGS = 20_000
#: Searches of fewer queries run FAISS on one thread.
FEW_QUERIES = 16

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    source TEXT,
    country TEXT,
    published TEXT,
    url TEXT,
    path TEXT,
    authors TEXT NOT NULL DEFAULT '[]',
    added TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE INDEX IF NOT EXISTS articles_country ON articles(country);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE TABLE IF NOT EXISTS article_files (
    path TEXT NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (path, article_id)
);
CREATE INDEX IF NOT EXISTS article_files_article ON article_files(article_id);
CREATE TABLE IF NOT EXISTS chunks (
    vector_id INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL REFERENCES articles(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    segment TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS segments (
    name TEXT PRIMARY KEY,
    vectors INTEGER NOT NULL,
    created TEXT NOT NULL,
    checksum TEXT
);
CREATE TABLE IF NOT EXISTS tombstones (
    vector_id INTEGER PRIMARY KEY,
    segment TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS passage_terms USING fts5(
    terms, tokenize = "porter unicode61 tokenchars '.,'"
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Manifest:
    """What an index is; written once when the index is created, checked on every open."""

    model: str
    dimension: int
    max_tokens: int
    #: Tokens a passage repeats from the one before (0 in indexes made before overlap).
    overlap_tokens: int = 0
    #: The encoder backend that computed the vectors (see articleqa.embedding.BACKENDS); indexes
    #: made before backends were recorded were all computed by torch.
    backend: str = "torch"
    normalized: bool = True
    metric: str = "inner_product"
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    created: str = ""
    #: Vector segments (see articleqa.ann.SegmentPlan): exact up to ``flat_up_to`` vectors,
    #: above built with the FAISS factory string ``approximate`` and searched with ``nprobe``
    #: lists. None in indexes made before: every segment is exact.
    flat_up_to: int | None = None
    approximate: str | None = None
    nprobe: int | None = None

    @property
    def segment_plan(self) -> ann.SegmentPlan:
        return ann.plan_from_values(self.__dict__)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2) + "\n"


@dataclass(frozen=True)
class ChunkRecord:
    """A stored passage with its article: what a search hit is made of."""

    vector_id: int
    chunk: Chunk
    article: Article


#: What to do about a damaged index, the end of every message that reports damage.
REBUILD = "rebuild it by ingesting the articles again into an empty folder"


def _missing(segment: Path) -> str:
    return f"{segment} is missing; the index is damaged: {REBUILD}"


@dataclass(frozen=True)
class Batch:
    """Articles with their passages, the passages' vectors (row i is ``chunks[i]``'s) and the
    ``(path, article_id)`` files the articles were read from: what a store's ``add`` takes."""

    articles: list[Article]
    chunks: list[Chunk]
    vectors: np.ndarray
    files: list[tuple[str, str]]


@dataclass(frozen=True)
class _Loaded:
    """One committed state of the vectors, as a search reads it: never changed once made
    (:meth:`IndexStore.refresh` makes a new one), so a search that holds it sees that state
    whatever commits meanwhile. The caches fill as searches go, for this state only."""

    #: ``PRAGMA data_version`` of the store's watching connection when the state was read.
    version: int
    segments: dict[str, faiss.Index]
    tombstones: np.ndarray
    #: Vectors in the segments less the tombstones.
    live: int
    #: Per BM25 term, the passages holding it and the live passages then, counted in one
    #: read transaction (see :meth:`IndexStore.rarity`).
    holding: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    #: Articles, and passages (id, start, end), whose text was checked against their ids.
    verified_articles: set[str] = dataclasses.field(default_factory=set)
    verified_passages: set[tuple[str, int, int]] = dataclasses.field(default_factory=set)


_NOTHING_LOADED = -1


def _reads(method: Callable[..., _T]) -> Callable[..., _T]:
    """A method that only reads: it takes no lock (it uses the thread's own connection and
    the loaded snapshot). A damaged database becomes a one-line error."""

    @functools.wraps(method)
    def reading(self: IndexStore, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            raise self._database_error(error) from error

    return reading


def _writes(method: Callable[..., _T]) -> Callable[..., _T]:
    """A method that writes, or needs the writing connection: one thread at a time. A
    damaged or read-only database becomes a one-line error."""

    @functools.wraps(method)
    def writing(self: IndexStore, *args: Any, **kwargs: Any) -> _T:
        with self._write_lock:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.DatabaseError as error:
                raise self._database_error(error) from error

    return writing


class IndexStore:
    """An index folder. Use :meth:`open` or :meth:`create`; see the module docstring.

    One store may be shared by threads: reads and searches run side by side, each thread
    with its own SQLite connection; writes wait for each other (see the module docstring).
    """

    def __init__(self, path: Path, manifest: Manifest, *, read_only: bool = False) -> None:
        self.path = path
        self.manifest = manifest
        #: The folder cannot be written (read-only media): searches work, writes are refused.
        self.read_only = read_only
        # Writes, and the checks that use the writing connection, go one at a time.
        self._write_lock = threading.RLock()
        self._db = _connect(path / RECORDS, read_only=read_only)
        # The watching connection reads PRAGMA data_version (which changes with every commit
        # of another connection, the writing one included) and the state refresh loads.
        self._refresh_lock = threading.Lock()
        self._watch_db = _connect(path / RECORDS, read_only=read_only)
        self._checksums = True  # the segments table records checksums (see _migrate)
        self._plan = manifest.segment_plan
        self._loaded = _Loaded(_NOTHING_LOADED, {}, np.zeros(0, dtype=np.int64), 0)
        self._thread_local = threading.local()
        self._readers_lock = threading.Lock()
        self._readers: dict[threading.Thread, sqlite3.Connection] = {}
        self._closed = False

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> IndexStore:
        """Opens an existing index folder and checks its manifest and files.

        Raises:
            IndexNotFoundError: If the folder or its manifest does not exist.
            IndexMismatchError: If the folder was written by an incompatible format version.
            IndexCorruptError: If the manifest or records are unreadable or a segment is missing.
        """
        folder = Path(path)
        if not (folder / MANIFEST).exists():
            raise IndexNotFoundError(
                f"no articleqa index at {folder}: build one with `articleqa ingest --index "
                f"{folder} ARTICLES...` or ArticleIndex.open({str(folder)!r}).ingest([...])"
            )
        manifest = read_manifest(folder)
        if not (folder / RECORDS).exists():
            raise IndexCorruptError(
                f"{folder / RECORDS} is missing: the index is damaged; rebuild it by ingesting "
                f"the articles again into an empty folder"
            )
        read_only = not os.access(folder, os.W_OK) or not os.access(folder / RECORDS, os.W_OK)
        try:
            store = cls(folder, manifest, read_only=read_only)
        except sqlite3.DatabaseError as error:  # not an SQLite file at all
            raise IndexCorruptError(
                f"{folder / RECORDS} is unreadable ({error}); the index is damaged: {REBUILD}"
            ) from error
        try:
            with store._write_lock:
                try:
                    store._check_records()
                    store._migrate()
                except sqlite3.DatabaseError as error:
                    raise store._database_error(error) from error
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def create(cls, path: str | os.PathLike[str], manifest: Manifest) -> IndexStore:
        """Creates an empty index in ``path`` (a new or empty folder), or opens the index that
        another process created there meanwhile (creating holds the write lock).

        Raises:
            ValueError: If ``path`` is a file, or a folder that holds other files.
            IndexReadOnlyError: If the folder cannot be written.
        """
        folder = Path(path)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is a file; give a folder for the index")
        if folder.is_dir() and not (folder / MANIFEST).exists():
            _refuse_strangers(folder)  # before the lock file is made in someone's folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock = open(folder / "write.lock", "a+b")  # noqa: SIM115 - held through creation
        except OSError as error:
            raise IndexReadOnlyError(
                f"cannot make an index in {folder}: {error.strerror or error}; give a folder "
                "that can be written") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second creator waits, then opens
            if (folder / MANIFEST).exists():
                return cls.open(folder)
            return cls._create_locked(folder, manifest)

    @classmethod
    def _create_locked(cls, folder: Path, manifest: Manifest) -> IndexStore:
        _refuse_strangers(folder)
        (folder / SEGMENTS).mkdir(exist_ok=True)
        plan = manifest.segment_plan if manifest.flat_up_to is not None else ann.DEFAULT_PLAN
        stamped = Manifest(**{**manifest.__dict__, "created": _now(),
                              **dataclasses.asdict(plan)})
        store = cls(folder, stamped)
        store._db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")
        _write_atomically(folder / MANIFEST, stamped.to_json().encode())
        return store

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        with self._write_lock, self._refresh_lock, self._readers_lock:
            self._closed = True
            for db in (self._db, self._watch_db, *self._readers.values()):
                db.close()
            self._readers.clear()
            self._loaded = _Loaded(_NOTHING_LOADED, {}, np.zeros(0, dtype=np.int64), 0)

    @property
    def _thread_db(self) -> sqlite3.Connection:
        """This thread's reading connection, opened on its first read."""
        db = getattr(self._thread_local, "db", None)
        if db is not None:
            return db
        with self._readers_lock:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            for thread, other in list(self._readers.items()):
                if not thread.is_alive():  # its thread ended: nobody else uses it
                    other.close()
                    del self._readers[thread]
            db = _connect(self.path / RECORDS, read_only=self.read_only, reader=True)
            self._readers[threading.current_thread()] = db
        self._thread_local.db = db
        return db

    # -- reading -------------------------------------------------------------------------

    @_reads
    def counts(self) -> dict[str, int]:
        """Articles, passages, segments and tombstoned vectors."""
        row = self._thread_db.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM chunks),"
            " (SELECT count(*) FROM segments), (SELECT count(*) FROM tombstones)"
        ).fetchone()
        return dict(zip(("articles", "passages", "segments", "tombstones"), row))

    @_reads
    def meta(self, key: str) -> str | None:
        row = self._thread_db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def size_bytes(self) -> int:
        total = 0
        for file in self.path.rglob("*"):
            # A writer renames its temporary files and deletes merged segments and the digest
            # while this walks the folder: a file gone between listing and stat counts nothing.
            with contextlib.suppress(FileNotFoundError):
                if file.is_file():
                    total += file.stat().st_size
        return total

    @_reads
    def known_article_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that are stored."""
        known: set[str] = set()
        for batch in _batches(list(ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self._thread_db.execute(f"SELECT id FROM articles WHERE id IN ({marks})", batch)
            known.update(r[0] for r in rows)
        return known

    @_reads
    def article_ids_of(self, vector_ids: Iterable[int]) -> dict[int, str]:
        """The article id of each live passage among ``vector_ids``."""
        found: dict[int, str] = {}
        for batch in _batches([int(v) for v in vector_ids], 500):
            marks = ",".join("?" * len(batch))
            found.update(self._thread_db.execute(
                f"SELECT vector_id, article_id FROM chunks WHERE vector_id IN ({marks})", batch))
        return found

    @_reads
    def published_of(self, vector_ids: Iterable[int]) -> dict[int, dt.date | None]:
        """The publication day of the article of each live passage among ``vector_ids`` (None:
        undated)."""
        found: dict[int, dt.date | None] = {}
        for batch in _batches([int(v) for v in vector_ids], 500):
            marks = ",".join("?" * len(batch))
            rows = self._thread_db.execute(
                f"SELECT c.vector_id, a.published FROM chunks c JOIN articles a"
                f" ON a.id = c.article_id WHERE c.vector_id IN ({marks})", batch)
            found.update((v, self._stored_date(p)) for v, p in rows)
        return found

    def _stored_date(self, text: str | None) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            raise IndexCorruptError(
                f"{self.path / RECORDS} is damaged: a stored publication date reads {text!r}. "
                f"`articleqa check --index {self.path}` lists all damage; {REBUILD}") from None

    @_reads
    def lead_passages(self, filters: Filters) -> list[tuple[str, int, str | None]]:
        """``(article id, vector id, outlet)`` of the first passage (headline and lede, as
        embedded) of every article matching ``filters``."""
        where, params = _filter_sql(filters)
        rows = self._thread_db.execute(
            f"SELECT c.article_id, c.vector_id, a.source, MIN(c.start) FROM chunks c"
            f" JOIN articles a ON a.id = c.article_id WHERE {where} GROUP BY c.article_id",
            params)
        return [(article, vector, source) for article, vector, source, _ in rows]

    @_reads
    def undated_count(self, filters: Filters) -> int:
        """Articles matching ``filters`` other than their dates that have no date (what a date
        window leaves out)."""
        where, params = _filter_sql(dataclasses.replace(filters, since=None, until=None))
        row = self._thread_db.execute(
            f"SELECT COUNT(*) FROM articles a WHERE {where} AND a.published IS NULL", params)
        return int(row.fetchone()[0])

    @_reads
    def files_of_article(self, article_id: str) -> list[str]:
        """Every file the article was read from, sorted."""
        rows = self._thread_db.execute(
            "SELECT path FROM article_files WHERE article_id = ? ORDER BY path", (article_id,))
        return [r[0] for r in rows]

    @_reads
    def live_count(self) -> int:
        """Vectors searchable now: all segments' vectors less the tombstones."""
        return self._current().live

    @_reads
    def article_ids_of_file(self, path: str) -> set[str]:
        rows = self._thread_db.execute("SELECT article_id FROM article_files WHERE path = ?",
                                       (path,))
        return {r[0] for r in rows}

    @_reads
    def article(self, article_id: str) -> Article | None:
        row = self._thread_db.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return self._verified_article(row, self._loaded) if row else None

    def _verified_article(self, row: Sequence, loaded: _Loaded) -> Article:
        """The article of a row, its text checked against its id (a hash of headline and
        body), so that damage never changes what an answer quotes; once per article for each
        committed state this store loads."""
        if row[0] in loaded.verified_articles:
            return _article_from_row(row)
        article = _sound_article(row)
        if article is None:
            raise IndexCorruptError(
                f"{self.path / RECORDS} is damaged: the stored record of article {row[0]} no "
                f"longer matches its id (a hash of its headline and body). `articleqa check "
                f"--index {self.path}` lists all damage; {REBUILD}")
        loaded.verified_articles.add(article.id)
        return article

    @_reads
    def records(self, vector_ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """The passages (with their articles) stored under these vector ids."""
        found: dict[int, ChunkRecord] = {}
        loaded = self._loaded
        for batch in _batches([int(v) for v in vector_ids], 500):
            marks = ",".join("?" * len(batch))
            rows = self._thread_db.execute(
                f"SELECT c.vector_id, c.id, c.start, c.end, {_ARTICLE_COLUMNS_A}"
                f" FROM chunks c JOIN articles a ON a.id = c.article_id"
                f" WHERE c.vector_id IN ({marks})",
                batch,
            )
            for vector_id, chunk_id, start, end, *article_row in rows:
                article = self._verified_article(article_row, loaded)
                chunk = Chunk(chunk_id, article.id, article.body[start:end], start, end)
                if (chunk_id, start, end) not in loaded.verified_passages:
                    if not chunk_matches_id(chunk):
                        raise IndexCorruptError(
                            f"{self.path / RECORDS} is damaged: the offsets of passage "
                            f"{chunk_id} no longer give the text its id was made from. "
                            f"`articleqa check --index {self.path}` lists all damage; {REBUILD}")
                    loaded.verified_passages.add((chunk_id, start, end))
                found[vector_id] = ChunkRecord(vector_id, chunk, article)
        return found

    @_reads
    def matching_vector_ids(self, filters: Filters) -> np.ndarray:
        """Vector ids of the live passages whose article matches ``filters``."""
        where, params = _filter_sql(filters)
        rows = self._thread_db.execute(
            f"SELECT c.vector_id FROM chunks c JOIN articles a ON a.id = c.article_id"
            f" WHERE {where}",
            params,
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    @_reads
    def lexical_search(
        self, question: str, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """BM25 top-``k`` passages for a question, best first.

        Returns:
            ``(scores, vector_ids)``: BM25 scores (higher is better) and ids; empty when the
            question shares no term with any passage.
        """
        query = fts_query(question, self._terms_past_budget(question))
        if query is None:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        if filters is None or filters.is_empty():
            rows = self._thread_db.execute(
                "SELECT rowid, -bm25(passage_terms) FROM passage_terms"
                " WHERE passage_terms MATCH ? ORDER BY bm25(passage_terms) LIMIT ?",
                (query, k)).fetchall()
        else:
            # The matches are scored first, then filtered: given `rowid IN (the allowed
            # passages)`, FTS5 runs the query once per allowed passage (27 s a question for
            # a year's window over 100,000 passages).
            where, filter_params = _filter_sql(filters)
            rows = self._thread_db.execute(
                "WITH matched AS MATERIALIZED (SELECT rowid AS vector_id,"
                " -bm25(passage_terms) AS score FROM passage_terms WHERE passage_terms MATCH ?)"
                " SELECT m.vector_id, m.score FROM matched m"
                " JOIN chunks c ON c.vector_id = m.vector_id JOIN articles a ON a.id = c.article_id"
                f" WHERE {where} ORDER BY m.score DESC, m.vector_id LIMIT ?",
                (query, *filter_params, k)).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        return np.array([r[1] for r in rows], dtype=np.float32), ids

    def _terms_past_budget(self, question: str) -> set[str]:
        """The question's terms that BM25 leaves out: those no passage holds, and, taken
        rarest first, those that would take the passages scored past :data:`BM25_POSTINGS`
        (the rarest held term always stays)."""
        holding = self.holding(terms(question))
        left_out, scored = set(), 0
        for term in sorted(holding, key=holding.get):
            if holding[term] <= 0 or (scored and scored + holding[term] > BM25_POSTINGS):
                left_out.add(term)
            else:
                scored += holding[term]
        return left_out

    @_reads
    def rarity(self, term: str) -> float:
        """Inverse document frequency of a BM25 term (see :mod:`articleqa.lexical`):
        ``log((passages + 1) / (passages holding it + 1))``, counted once per committed state."""
        return self.rarities([term])[term]

    @_reads
    def rarities(self, terms: Iterable[str]) -> dict[str, float]:
        """:meth:`rarity` of each term."""
        return {term: math.log((live + 1) / (held + 1))
                for term, (held, live) in self._holding(terms).items()}

    @_reads
    def holding(self, terms: Iterable[str]) -> dict[str, int]:
        """The live passages holding each BM25 term, counted once per committed state."""
        return {term: held for term, (held, _) in self._holding(terms).items()}

    def _holding(self, terms: Iterable[str]) -> dict[str, tuple[int, int]]:
        """Per term, the live passages holding it and all live passages, both counted in one
        read transaction (a commit landing after the state loaded cannot mix two states)."""
        terms = list(terms)
        loaded = self._current()
        uncounted = [term for term in dict.fromkeys(terms) if term not in loaded.holding]
        if uncounted:
            db = self._thread_db
            with self._transaction("DEFERRED", db):
                live = db.execute("SELECT (SELECT coalesce(sum(vectors), 0) FROM segments)"
                                  " - (SELECT count(*) FROM tombstones)").fetchone()[0]
                for term in uncounted:
                    held = db.execute("SELECT count(*) FROM passage_terms WHERE"
                                      " passage_terms MATCH ?", (f'"{term}"',)).fetchone()[0]
                    loaded.holding[term] = (held, live)
        return {term: loaded.holding[term] for term in terms}

    @_reads
    def vectors(self, vector_ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of live passages, one row per id (zeros for an id not stored)."""
        out = np.zeros((len(vector_ids), self.manifest.dimension), dtype=np.float32)
        for batch_start in range(0, len(vector_ids), 500):
            batch = [int(v) for v in vector_ids[batch_start : batch_start + 500]]
            marks = ",".join("?" * len(batch))
            for _ in range(5):
                loaded = self._current()
                where = dict(self._thread_db.execute(
                    f"SELECT vector_id, segment FROM chunks WHERE vector_id IN ({marks})", batch))
                if set(where.values()) <= loaded.segments.keys():
                    break
                # A merge committed after the state was loaded: the next state has its segment.
            else:
                raise IndexCorruptError(f"{self.path} keeps changing under this reader; try again")
            for offset, vector_id in enumerate(batch):
                if vector_id in where:
                    segment = loaded.segments[where[vector_id]]
                    out[batch_start + offset] = segment.reconstruct(vector_id)
        return out

    def export(self, size: int = 256) -> Iterator[Batch]:
        """Every stored article with its passages, vectors and files, ``size`` articles at a
        time, as :meth:`add` takes them (to copy the index elsewhere)."""
        ids = [r[0] for r in self._thread_db.execute("SELECT id FROM articles ORDER BY id")]
        for batch in _batches(ids, size):
            db = self._thread_db
            with self._transaction("DEFERRED", db):  # the batch's rows from one state
                marks = ",".join("?" * len(batch))
                articles = [_article_from_row(row) for row in db.execute(
                    f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id IN ({marks})"
                    f" ORDER BY id", batch)]
                bodies = {article.id: article.body for article in articles}
                rows = db.execute(
                    f"SELECT vector_id, id, article_id, start, end FROM chunks"
                    f" WHERE article_id IN ({marks}) ORDER BY vector_id", batch).fetchall()
                files = db.execute(
                    f"SELECT path, article_id FROM article_files WHERE article_id IN ({marks})"
                    f" ORDER BY path, article_id", batch).fetchall()
                vectors = self.vectors([r[0] for r in rows])
            chunks = [Chunk(chunk_id, article_id, bodies[article_id][start:end], start, end)
                      for _, chunk_id, article_id, start, end in rows if article_id in bodies]
            yield Batch(articles, chunks, vectors, files)

    @_reads
    def facets(self) -> dict[str, object]:
        """Outlets, countries and the date span of the stored articles."""
        sources = [r[0] for r in self._thread_db.execute(
            "SELECT DISTINCT source FROM articles WHERE source IS NOT NULL ORDER BY source")]
        countries = [r[0] for r in self._thread_db.execute(
            "SELECT DISTINCT country FROM articles WHERE country IS NOT NULL ORDER BY country")]
        first, last = self._thread_db.execute(
            "SELECT min(published), max(published) FROM articles").fetchone()
        return {"sources": sources, "countries": countries, "published": (first, last)}

    @_reads
    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` inner products of each query row over all live vectors.

        Args:
            queries: ``(n, dimension)`` float32 rows.
            k: How many results per query.
            allowed: If given, only these vector ids may be returned.

        Returns:
            ``(scores, vector_ids)``, both ``(n, k)``, best first; missing results have
            vector id -1 and score -inf.
        """
        return self._search(self._current(), queries, k, allowed)

    def _search(self, loaded: _Loaded, queries: np.ndarray, k: int,
                allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` in one loaded state (no lock: FAISS searches of segments that no
        one changes may run side by side)."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        # A few queries are faster on one thread: FAISS's OpenMP pool would otherwise fight
        # torch's for the cores (measured in bench/: 500 ms against 60 ms under load).
        faiss.omp_set_num_threads(1 if len(queries) < FEW_QUERIES else os.cpu_count() or 1)
        selector, searchable = _selector(allowed, loaded.tombstones, loaded.live)
        parts_scores, parts_ids = ann.search_segments(
            loaded.segments.values(), queries, k, self._plan, selector, searchable)
        if not parts_scores:
            empty = np.full((len(queries), k), -1, dtype=np.int64)
            return np.full((len(queries), k), -np.inf, dtype=np.float32), empty
        return merge_top_k(np.hstack(parts_scores), np.hstack(parts_ids), k)

    @_reads
    def dense_search(
        self, queries: np.ndarray, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` among the passages whose article matches ``filters``, with no more
        columns than there are such passages."""
        loaded = self._current()
        matching = filters is not None and not filters.is_empty()
        allowed = self.matching_vector_ids(filters) if matching else None
        k = min(k, loaded.live if allowed is None else len(allowed))
        if k == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        return self._search(loaded, queries, k, allowed)

    def refresh(self) -> None:
        """Loads what writers committed since the last call (cheap when nothing did)."""
        self._current()

    def _current(self) -> _Loaded:
        """The state of the last commit, loaded (see :class:`_Loaded`): the same object until
        a writer commits. Threads wait here only while a commit's new segments load."""
        with self._refresh_lock:
            try:
                self._loaded = self._load_latest(self._loaded)
            except sqlite3.DatabaseError as error:
                raise self._database_error(error) from error
            return self._loaded

    def _load_latest(self, loaded: _Loaded) -> _Loaded:
        db = self._watch_db
        for _ in range(5):
            version = db.execute("PRAGMA data_version").fetchone()[0]
            if version == loaded.version:
                return loaded
            with self._transaction("DEFERRED", db):  # segments and tombstones from one state
                expected = {name: (vectors, checksum) for name, vectors, checksum
                            in db.execute(self._segments_sql())}
                tombstones = np.fromiter(
                    (r[0] for r in db.execute("SELECT vector_id FROM tombstones")),
                    dtype=np.int64,
                )
            try:
                segments = {name: loaded.segments.get(name) or self._load_segment(name, *recorded)
                            for name, recorded in expected.items()}
            except _SegmentGone:
                if db.execute("PRAGMA data_version").fetchone()[0] != version:
                    continue  # a writer merged segments meanwhile: read the new list
                raise
            live = sum(index.ntotal for index in segments.values()) - len(tombstones)
            return _Loaded(version, segments, tombstones, live)
        raise IndexCorruptError(f"{self.path} keeps changing under this reader; try again")

    @_writes
    def check(self) -> list[str]:
        """Checks everything that can be checked, reading every record and segment: SQLite's
        integrity, segment checksums, vectors against live passages, BM25 rows against
        passages, orphaned records, and each article's text against its id. (Files an
        interrupted write left behind are no damage: the next writer deletes them.)

        Returns:
            What is wrong, one line each naming the file or record; empty when all is well.
        """
        problems = [f"{RECORDS}: {row[0]}" for row in
                    self._db.execute("PRAGMA integrity_check(20)") if row[0] != "ok"]
        changed = self._changed_since_sealed()
        if changed:
            problems.append(changed)
        if not self.read_only:
            try:
                self._db.execute("INSERT INTO passage_terms(passage_terms) VALUES"
                                 "('integrity-check')")
            except sqlite3.DatabaseError as error:
                problems.append(f"{RECORDS}: the BM25 index (passage_terms) is damaged ({error})")
        vector_ids: set[int] = set()
        for name, vectors, checksum in self._db.execute(self._segments_sql()).fetchall():
            try:
                ids = ann.segment_ids(self._load_segment(name, vectors, checksum))
            except IndexCorruptError as error:
                problems.append(str(error))
                continue
            if checksum is None:
                problems.append(f"{SEGMENTS}/{name}.faiss has no recorded checksum (written by "
                                "an older articleqa); the next ingest or remove records it")
            vector_ids.update(ids.tolist())
        dead = {r[0] for r in self._db.execute("SELECT vector_id FROM tombstones")}
        passages = {r[0] for r in self._db.execute("SELECT vector_id FROM chunks")}
        terms = {r[0] for r in self._db.execute("SELECT rowid FROM passage_terms")}
        for what, found in (("vectors in the segments", vector_ids - dead),
                            ("BM25 rows (passage_terms)", terms)):
            if found != passages:
                problems.append(
                    f"{what} do not match the passages: {len(passages - found)} passages lack "
                    f"one, {len(found - passages)} belong to no passage")
        if dead - vector_ids:
            problems.append(f"{len(dead - vector_ids)} tombstones name vectors no segment holds")
        for sql, what in (
            ("SELECT count(*) FROM chunks c LEFT JOIN articles a ON a.id = c.article_id"
             " WHERE a.id IS NULL", "passages of no stored article"),
            ("SELECT count(*) FROM article_files f LEFT JOIN articles a ON a.id = f.article_id"
             " WHERE a.id IS NULL", "file links to no stored article"),
            ("SELECT count(*) FROM chunks c LEFT JOIN segments s ON s.name = c.segment"
             " WHERE s.name IS NULL", "passages in no recorded segment"),
            ("SELECT count(*) FROM chunks c JOIN articles a ON a.id = c.article_id"
             " WHERE c.start < 0 OR c.end > length(a.body) OR c.start >= c.end",
             "passages whose offsets fall outside their article"),
        ):
            count = self._db.execute(sql).fetchone()[0]
            if count:
                problems.append(f"{RECORDS}: {count} {what}")
        shifted = sum(not chunk_matches_id(Chunk(chunk_id, article_id, body[start:end], start, end))
                      for chunk_id, article_id, body, start, end in self._db.execute(
                          "SELECT c.id, c.article_id, a.body, c.start, c.end FROM chunks c"
                          " JOIN articles a ON a.id = c.article_id"))
        if shifted:
            problems.append(f"{RECORDS}: {shifted} passages whose offsets no longer give the text "
                            "their ids were made from")
        damaged = [row[0] for row in self._db.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles")
                   if _sound_article(row) is None]
        if damaged:
            problems.append(f"{RECORDS}: the text of {len(damaged)} articles no longer matches "
                            f"their ids ({', '.join(damaged[:3])}{', ...' * (len(damaged) > 3)})")
        return problems

    # -- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Holds the folder's write lock; clears files a crashed writer left behind.

        Raises:
            IndexReadOnlyError: If the folder cannot be written.
        """
        if self.read_only:
            raise self._read_only_error()
        try:
            lock = open(self.path / "write.lock", "a+b")  # noqa: SIM115 - closed below
        except OSError as error:
            raise self._read_only_error(error) from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second writer waits for the first
            try:
                with self._write_lock:
                    (self.path / RECORDS_DIGEST).unlink(missing_ok=True)
                    self._delete_orphans()
                    self._record_missing_checksums()
                yield
                with self._write_lock:
                    self._seal()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @_writes
    def add(
        self,
        articles: Sequence[Article],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        files: Sequence[tuple[str, str]] = (),
    ) -> list[str]:
        """Stores articles with their passages and vectors, in one transaction.

        Args:
            articles: New articles (ids not yet stored: the caller holds :meth:`writing`).
            chunks: Their passages; ``vectors[i]`` is the vector of ``chunks[i]``.
            vectors: ``(len(chunks), dimension)`` float32, unit rows.
            files: ``(path, article_id)`` pairs: which file each article was read from.

        Returns:
            The ids of ``articles``.
        """
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if len(vectors) and vectors.shape[1] != self.manifest.dimension:
            raise IndexMismatchError(
                f"vectors have dimension {vectors.shape[1]}, the index {self.manifest.dimension}"
            )
        name = self._next_segment_name()
        added = _now()
        with self._transaction():
            self._db.executemany(
                f"INSERT INTO articles ({_ARTICLE_COLUMNS}, added)"
                f" VALUES ({','.join('?' * (_ARTICLE_COLUMN_COUNT + 1))})",
                [(*_article_to_row(a), added) for a in articles],
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO article_files (path, article_id) VALUES (?, ?)", files
            )
            titles = {article.id: article.title for article in articles}
            ids = []
            for chunk in chunks:
                cursor = self._db.execute(
                    "INSERT INTO chunks (id, article_id, start, end, segment)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (chunk.id, chunk.article_id, chunk.start, chunk.end, name),
                )
                ids.append(cursor.lastrowid)
                lexical = " ".join(terms(passage_for_embedding(titles.get(chunk.article_id, ""),
                                                               chunk.text)))
                self._db.execute("INSERT INTO passage_terms (rowid, terms) VALUES (?, ?)",
                                 (cursor.lastrowid, lexical))
            if chunks:
                checksum = self._write_segment(name, np.asarray(ids, dtype=np.int64), vectors)
                self._record_segment(name, len(ids), added, checksum)
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_ingest', ?)", (added,)
            )
        return [article.id for article in articles]

    @_writes
    def link_files(self, files: Sequence[tuple[str, str]]) -> None:
        """Records that already stored articles were (also) read from these files."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO article_files (path, article_id) VALUES (?, ?)", files
            )

    @_writes
    def fill_missing(self, articles: Sequence[Article]) -> list[str]:
        """Gives stored articles the outlet, country, date and address they lack, from these
        (same id) articles; fields already set are kept. Nothing is embedded again: what is
        embedded is the headline and passage only.

        Returns:
            The ids of the articles that gained a field.
        """
        columns = ("source", "country", "url", "published")
        stored: dict[str, tuple] = {}
        for batch in _batches([a.id for a in articles], 500):
            marks = ",".join("?" * len(batch))
            stored.update((row[0], row[1:]) for row in self._db.execute(
                f"SELECT id, {', '.join(columns)} FROM articles WHERE id IN ({marks})", batch))
        fills = []
        for article in articles:
            given = (article.source, article.country, article.url,
                     article.published.isoformat() if article.published else None)
            if article.id in stored and any(old is None and new is not None
                                            for old, new in zip(stored[article.id], given)):
                fills.append((*given, article.id))
        if fills:  # most re-ingests fill nothing: no transaction for them
            sets = ", ".join(f"{column} = coalesce({column}, ?)" for column in columns)
            with self._transaction():
                self._db.executemany(f"UPDATE articles SET {sets} WHERE id = ?", fills)
        return list(dict.fromkeys(fill[-1] for fill in fills))

    @_writes
    def unlink_file(self, path: str, keep: set[str]) -> list[str]:
        """Forgets the articles ``path`` no longer holds; removes those no file holds.

        Returns:
            The ids of the articles removed.
        """
        stale = self.article_ids_of_file(path) - keep
        if not stale:
            return []
        with self._transaction():
            self._db.executemany(
                "DELETE FROM article_files WHERE path = ? AND article_id = ?",
                [(path, a) for a in stale],
            )
        orphans = [a for a in stale if not self._db.execute(
            "SELECT 1 FROM article_files WHERE article_id = ?", (a,)).fetchone()]
        return self.remove(orphans)

    @_writes
    def remove(self, article_ids: Sequence[str]) -> list[str]:
        """Deletes articles and their passages; their vectors become tombstones.

        Returns:
            The ids that were stored (and are now removed).
        """
        removed = sorted(self.known_article_ids(article_ids))
        if not removed:
            return []
        with self._transaction():
            for article_id in removed:
                self._db.execute(
                    "INSERT INTO tombstones (vector_id, segment)"
                    " SELECT vector_id, segment FROM chunks WHERE article_id = ?",
                    (article_id,),
                )
                self._db.execute(
                    "DELETE FROM passage_terms WHERE rowid IN"
                    " (SELECT vector_id FROM chunks WHERE article_id = ?)",
                    (article_id,),
                )
                self._db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
                self._db.execute("DELETE FROM article_files WHERE article_id = ?", (article_id,))
                self._db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return removed

    def compact(self) -> None:
        """:meth:`merge_segments` with the default bound."""
        self.merge_segments()

    @_writes
    def merge_segments(self, max_segments: int = MAX_SEGMENTS) -> None:
        """Merges the smallest segments (and drops their tombstones) until at most
        ``max_segments`` remain; also rewrites a segment that is mostly tombstones, and
        merges the exact segments into one IVF segment once they hold more than the plan's
        ``flat_up_to`` vectors together (exact search stays within that many)."""
        rows = self._db.execute(
            "SELECT s.name, s.vectors, (SELECT count(*) FROM tombstones t WHERE t.segment = s.name)"
            " FROM segments s ORDER BY s.vectors"
        ).fetchall()
        chosen = [name for name, vectors, dead in rows if dead * 2 > vectors]
        if len(rows) > max_segments:
            # Merging n segments into one leaves n - 1 fewer.
            wanted = len(rows) - max_segments + 1
            for name, _, _ in rows:
                if len(chosen) >= wanted:
                    break
                if name not in chosen:
                    chosen.append(name)
        flat_up_to = self._plan.flat_up_to
        exact = [(name, vectors) for name, vectors, _ in rows
                 if flat_up_to is not None and vectors <= flat_up_to]
        if len(exact) > 1 and sum(vectors for _, vectors in exact) > flat_up_to:
            # Exact segments together hold at most flat_up_to vectors; past it, one IVF.
            chosen += [name for name, _ in exact if name not in chosen]
        if not chosen or (len(chosen) == 1 and not any(d for n, _, d in rows if n in chosen)):
            return
        loaded = self._current()
        merged = ann.merge_segments([loaded.segments[name] for name in chosen],
                                    loaded.tombstones, self._plan, self.manifest.dimension,
                                    others=loaded.segments.values())
        name = self._next_segment_name()
        marks = ",".join("?" * len(chosen))
        with self._transaction():
            if merged is not None:
                checksum = self._write_index(name, merged)
                self._record_segment(name, merged.ntotal, _now(), checksum)
                self._db.execute(
                    f"UPDATE chunks SET segment = ? WHERE segment IN ({marks})", (name, *chosen)
                )
            self._db.execute(f"DELETE FROM tombstones WHERE segment IN ({marks})", chosen)
            self._db.execute(f"DELETE FROM segments WHERE name IN ({marks})", chosen)
        for old in chosen:
            (self.path / SEGMENTS / f"{old}.faiss").unlink(missing_ok=True)

    # -- internals -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, mode: str = "IMMEDIATE", db: sqlite3.Connection | None = None
                     ) -> Iterator[None]:
        """One SQLite transaction, on the writing connection unless ``db`` is given;
        IMMEDIATE takes SQLite's write lock at once."""
        db = db or self._db
        db.execute(f"BEGIN {mode}")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _check_records(self) -> None:
        try:
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as error:
            raise IndexCorruptError(
                f"{self.path / RECORDS} is unreadable ({error}); the index is damaged: rebuild "
                f"it by ingesting the articles again into an empty folder"
            ) from error
        missing = {"articles", "chunks", "segments", "tombstones", "passage_terms"} - tables
        if missing:
            raise IndexCorruptError(
                f"{self.path / RECORDS} lacks the tables {sorted(missing)}; the index is damaged:"
                f" {REBUILD}"
            )
        for _ in range(5):
            listed = [name for (name,) in self._db.execute("SELECT name FROM segments")]
            missing = [n for n in listed if not (self.path / SEGMENTS / f"{n}.faiss").exists()]
            if not missing:
                return
            current = {name for (name,) in self._db.execute("SELECT name FROM segments")}
            if missing[0] in current:  # not a merge that replaced it since the list was read
                raise IndexCorruptError(_missing(self.path / SEGMENTS / f"{missing[0]}.faiss"))
        raise IndexCorruptError(f"{self.path} keeps changing while it opens; try again")

    def _load_segment(self, name: str, expected: int, checksum: str | None) -> faiss.Index:
        file = self.path / SEGMENTS / f"{name}.faiss"
        try:
            digest = _file_digest(file)  # read in blocks: a large segment is never held twice
        except FileNotFoundError:
            raise _SegmentGone(_missing(file)) from None
        except OSError as error:
            raise IndexCorruptError(f"{file} cannot be read ({error.strerror or error}); "
                                    f"if the index is damaged, {REBUILD}") from None
        problem, index = None, None
        if checksum is not None and digest != checksum:
            problem = "its bytes changed since it was written (the checksum differs)"
        else:
            try:
                # Memory-mapped once checked: processes searching the same index share one
                # copy in the page cache (segments are never changed).
                index = ann.read_segment(file)
            except RuntimeError as error:
                if not file.exists():  # deleted after its digest was read: a merge replaced it
                    raise _SegmentGone(_missing(file)) from None
                problem = f"FAISS cannot read it ({str(error).splitlines()[0]})"
        if index is not None and index.d != self.manifest.dimension:
            problem = f"its vectors have dimension {index.d}, not {self.manifest.dimension}"
        elif index is not None and index.ntotal != expected:
            problem = f"it holds {index.ntotal} vectors where the records list {expected}"
        if problem:
            raise IndexCorruptError(
                f"{file} is damaged: {problem}. Rebuild the index by ingesting the articles "
                f"again into an empty folder"
            )
        return index

    def _write_segment(self, name: str, ids: np.ndarray, vectors: np.ndarray) -> str:
        """Writes a segment file; returns its checksum (SHA-256 of its bytes)."""
        index = ann.build_segment(ids, vectors, self._plan, self._current().segments.values())
        return self._write_index(name, index)

    def _write_index(self, name: str, index: faiss.Index) -> str:
        """Writes a segment file (beside its place, fsynced, renamed); returns its checksum."""
        file = self.path / SEGMENTS / f"{name}.faiss"
        temporary = file.with_name(file.name + ".tmp")
        faiss.write_index(index, str(temporary))  # straight to disk: no second copy in memory
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        checksum = _file_digest(temporary)
        _replace_durably(temporary, file)
        return checksum

    def _record_missing_checksums(self) -> None:
        """Records the checksums of segments written before articleqa recorded them (taken
        as they are now, and checked from then on)."""
        names = [r[0] for r in self._db.execute("SELECT name FROM segments WHERE checksum IS NULL")]
        sums = []
        for name in names:
            with contextlib.suppress(OSError):  # a missing file is reported where it is read
                sums.append((_file_digest(self.path / SEGMENTS / f"{name}.faiss"), name))
        if sums:
            with self._transaction():
                self._db.executemany("UPDATE segments SET checksum = ? WHERE name = ?", sums)

    def _seal(self) -> None:
        """Moves every commit into records.sqlite (a copy of the folder is then whole without
        its WAL file) and records the file's digest, so that `check` sees any byte changed
        after the write, even one in unused space. No digest when a reader still holds the
        WAL: the file may change when it lets go."""
        self._db.execute("PRAGMA busy_timeout = 200")  # a reader at work: no digest this time
        try:
            busy, log, done = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.DatabaseError:
            return
        finally:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if busy or log != done:
            return
        file = self.path / RECORDS
        try:
            digest = {"sha256": _records_digest(file), "size": file.stat().st_size}
        except OSError:
            return  # no digest this time; `check` then cannot tell, as after a crash
        _write_atomically(self.path / RECORDS_DIGEST, json.dumps(digest).encode())

    def _changed_since_sealed(self) -> str | None:
        """Why records.sqlite is not as the last writer left it; None if it is, or if that
        cannot be told (no digest, or a writer at work now)."""
        try:
            lock = open(self.path / "write.lock", "rb")  # noqa: SIM115 - closed below
        except OSError:
            return None
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return None  # a writer at work: its digest is not written yet
            try:
                recorded = json.loads((self.path / RECORDS_DIGEST).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            file = self.path / RECORDS
            try:
                if not isinstance(recorded, dict) or (
                        recorded.get("size") == file.stat().st_size
                        and recorded.get("sha256") == _records_digest(file)):
                    return None
            except OSError:
                return None
            return (f"{RECORDS} changed after the last write closed it (its SHA-256 differs "
                    f"from the one in {RECORDS_DIGEST}): bytes were changed outside articleqa")

    def _segments_sql(self) -> str:
        """Name, vector count and checksum (None before checksums) of each segment."""
        return f"SELECT name, vectors, {'checksum' if self._checksums else 'NULL'} FROM segments"

    def _migrate(self) -> None:
        """Upgrades an index made before segment checksums (in place when it can be written;
        read-only, its segments are not checked)."""
        def has_checksums() -> bool:
            return "checksum" in {r[1] for r in self._db.execute("PRAGMA table_info(segments)")}

        if has_checksums():
            return
        if self.read_only:
            self._checksums = False
            return
        (self.path / RECORDS_DIGEST).unlink(missing_ok=True)
        with self._transaction():
            if not has_checksums():  # another process may have upgraded it meanwhile
                self._db.execute("ALTER TABLE segments ADD COLUMN checksum TEXT")

    def _database_error(self, error: sqlite3.DatabaseError) -> Exception:
        """The error to raise for an SQLite error: damage and read-only media each get a line
        that names the file and says what to do; anything else stays as it is."""
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF
        text = str(error)
        if code == 8 or "readonly" in text:  # SQLITE_READONLY
            return self._read_only_error(error)
        if code in (11, 26) or "malformed" in text or "not a database" in text:
            return IndexCorruptError(
                f"{self.path / RECORDS} is damaged ({text}): `articleqa check --index "
                f"{self.path}` lists what is wrong; {REBUILD}")
        return error

    def _read_only_error(self, error: object = None) -> IndexReadOnlyError:
        why = f" ({getattr(error, 'strerror', None) or error})" if error is not None else ""
        return IndexReadOnlyError(
            f"{self.path} is read-only{why}: searching and asking work, but to ingest or remove "
            f"articles copy the folder somewhere writable (cp -r {self.path} COPY) or mount it "
            "writable")

    def _next_segment_name(self) -> str:
        """A name no segment ever had: a reader still holding a deleted segment (a merge that
        left no vectors deletes the newest) must not find another under its name."""
        row = self._db.execute("SELECT max(name) FROM segments").fetchone()
        on_disk = [int(p.stem) for p in (self.path / SEGMENTS).glob("*.faiss") if p.stem.isdigit()]
        used = self._db.execute("SELECT value FROM meta WHERE key = 'last_segment'").fetchone()
        last = max([int(row[0]) if row[0] else 0, int(used[0]) if used else 0, *on_disk])
        return f"{last + 1:06d}"

    def _record_segment(self, name: str, vectors: int, created: str, checksum: str) -> None:
        self._db.execute(
            "INSERT INTO segments (name, vectors, created, checksum) VALUES (?, ?, ?, ?)",
            (name, vectors, created, checksum),
        )
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_segment', ?)",
                         (name,))

    def _delete_orphans(self) -> None:
        live = {r[0] for r in self._db.execute("SELECT name FROM segments")}
        for file in (self.path / SEGMENTS).iterdir():
            if file.suffix == ".tmp" or (file.suffix == ".faiss" and file.stem not in live):
                file.unlink(missing_ok=True)


def _selector(allowed: np.ndarray | None, tombstones: np.ndarray, live: int
              ) -> tuple[faiss.IDSelector | None, int]:
    """The selector of the live vectors among ``allowed`` (all when None), and their number
    (``live``: the live vectors in all)."""
    if allowed is not None:
        allowed_live = np.setdiff1d(np.asarray(allowed, dtype=np.int64), tombstones)
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed_live, dtype=np.int64))
        return selector, len(allowed_live)
    if len(tombstones):
        return faiss.IDSelectorNot(faiss.IDSelectorBatch(tombstones)), live
    return None, live


class _SegmentGone(IndexCorruptError):
    """A segment the records list is not on disk (damage, or a merge that just replaced it)."""


def merge_top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best ``k`` of each row of (scores, ids) candidates, best first.

    Candidates with id -1 (FAISS's "no result") are dropped; short rows are padded with
    id -1 and score -inf. Ties keep the earlier column first.
    """
    n, width = scores.shape
    scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
    take = min(k, width)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :take]
    top_scores = np.take_along_axis(scores, order, axis=1)
    top_ids = np.where(np.isfinite(top_scores), np.take_along_axis(ids, order, axis=1), -1)
    if take < k:
        top_scores = np.hstack([top_scores, np.full((n, k - take), -np.inf, dtype=np.float32)])
        top_ids = np.hstack([top_ids, np.full((n, k - take), -1, dtype=np.int64)])
    return top_scores, top_ids.astype(np.int64)


@functools.lru_cache(maxsize=64)
def _filter_sql(filters: Filters) -> tuple[str, tuple[object, ...]]:
    """A WHERE clause over ``articles a`` for the filters, with its parameters (made once per
    filters: a search asks for it once per question)."""
    clauses: list[str] = []
    params: list[object] = []
    for column, value in (("source", filters.source), ("country", filters.country)):
        if value is not None:
            clauses.append(f"a.{column} = ? COLLATE NOCASE")
            params.append(value)
    if filters.since is not None:
        clauses.append("a.published >= ?")
        params.append(filters.since.isoformat())
    if filters.until is not None:
        clauses.append("a.published <= ?")
        params.append(filters.until.isoformat())
    if filters.article_ids is not None:
        clauses.append(f"a.id IN ({','.join('?' * len(filters.article_ids))})")
        params.extend(filters.article_ids)
    return " AND ".join(clauses) or "1", tuple(params)


def _refuse_strangers(folder: Path) -> None:
    """Raises ValueError if the folder holds files that are not an index's."""
    # What an interrupted create() leaves behind may be reused; anything else is not ours.
    ours = {RECORDS, RECORDS + "-wal", RECORDS + "-shm", RECORDS + "-journal", SEGMENTS,
            "write.lock", MANIFEST, MANIFEST + ".tmp", RECORDS_DIGEST, ".gitkeep"}
    strangers = [p.name for p in folder.iterdir() if p.name not in ours]
    if strangers:
        raise ValueError(
            f"{folder} is not empty and holds no articleqa index ({', '.join(strangers[:3])}"
            f"{', ...' if len(strangers) > 3 else ''}); give an empty or new folder"
        )


def manifest_from_data(data: object, where: str, empty: str) -> Manifest:
    """The manifest in ``data`` (its JSON), checked.

    Args:
        data: The manifest's JSON data.
        where: What holds the index, for messages.
        empty: Where to rebuild it, for messages ("an empty folder").

    Raises:
        ValueError: If ``data`` is not an articleqa manifest (the message names the key that
            is missing or of the wrong type).
        IndexMismatchError: If another format version wrote it.
    """
    if not isinstance(data, dict):
        raise ValueError(f"it holds {type(data).__name__}, not a JSON object")
    if data.get("format") != FORMAT_NAME:
        raise ValueError(f"format is {data.get('format')!r}, not {FORMAT_NAME!r}")
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{where} was written by index format version {data.get('format_version')}; "
            f"this articleqa reads version {FORMAT_VERSION}. Rebuild it: ingest the "
            f"articles again into {empty}"
        )
    fields = Manifest.__dataclass_fields__.values()
    missing = [f.name for f in fields if f.name not in data and f.default is dataclasses.MISSING]
    if missing:
        raise ValueError(f"it lacks the key{'s' * (len(missing) > 1)} "
                         f"{', '.join(map(repr, missing))}")
    for field in fields:
        wanted = {"int": int, "str": str, "bool": bool}.get(str(field.type))
        value = data.get(field.name, field.default)
        if wanted is None:  # a type this check does not know: the field is not checked
            continue
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ValueError(f"{field.name!r} is {value!r}, not {field.type}")
    if data["dimension"] < 1 or data["max_tokens"] < 1:
        raise ValueError(f"'dimension' and 'max_tokens' must be 1 or more, not "
                         f"{data['dimension']} and {data['max_tokens']}")
    manifest = Manifest(**{field.name: data[field.name] for field in fields if field.name in data})
    _ = manifest.segment_plan  # raises ValueError for segment parameters it cannot build
    return manifest


def read_manifest(folder: Path) -> Manifest:
    """Reads and checks ``folder/manifest.json``.

    Raises:
        IndexCorruptError: If it is not a readable articleqa manifest.
        IndexMismatchError: If it was written by another format version.
    """
    file = folder / MANIFEST
    try:
        return manifest_from_data(json.loads(file.read_text(encoding="utf-8")), str(folder),
                                  "an empty folder")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        if isinstance(error, IndexMismatchError):
            raise
        raise IndexCorruptError(
            f"{file} is not a valid articleqa manifest ({error}); the index is damaged: rebuild "
            f"it by ingesting the articles again into an empty folder"
        ) from error


_ARTICLE_FIELDS = ("id", "title", "body", "source", "country", "published", "url", "path",
                   "authors")
_ARTICLE_COLUMNS = ", ".join(_ARTICLE_FIELDS)
_ARTICLE_COLUMNS_A = ", ".join(f"a.{f}" for f in _ARTICLE_FIELDS)
_ARTICLE_COLUMN_COUNT = len(_ARTICLE_FIELDS)


def _article_to_row(article: Article) -> tuple:
    published = article.published.isoformat() if article.published else None
    return (article.id, article.title, article.body, article.source, article.country,
            published, article.url, article.path, json.dumps(list(article.authors)))


def _sound_article(row: Sequence) -> Article | None:
    """The article of a row; None if the row does not read as one whose text matches its
    id."""
    try:
        article = _article_from_row(row)
    except (ValueError, TypeError, AttributeError):  # a damaged date, author list or text
        return None
    return article if article_id(article.title, article.body) == article.id else None


def _article_from_row(row: Sequence) -> Article:
    (id_, title, body, source, country, published, url, path, authors) = row
    return Article(
        id=id_, title=title, body=body, source=source, country=country,
        published=dt.date.fromisoformat(published) if published else None,
        url=url, path=path, authors=tuple(json.loads(authors)),
    )


def _connect(file: Path, *, read_only: bool = False, reader: bool = False
             ) -> sqlite3.Connection:
    """A connection to the records; ``reader``: one that only reads (a thread's own)."""
    if read_only:
        # Without a -wal file no writer has the database open, and on read-only media none
        # can: SQLite may then treat it as immutable (it could not make its -shm file).
        wal = file.with_name(file.name + "-wal").exists()
        uri = f"{file.resolve().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return db
    db = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
    if reader:
        db.execute("PRAGMA query_only = ON")
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return db
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return db


def _write_atomically(file: Path, data: bytes | np.ndarray) -> None:
    temporary = file.with_name(file.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(memoryview(data).cast("B") if isinstance(data, np.ndarray) else data)
        handle.flush()
        os.fsync(handle.fileno())
    _replace_durably(temporary, file)


def _replace_durably(temporary: Path, file: Path) -> None:
    os.replace(temporary, file)
    directory = os.open(file.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _file_digest(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


_DIGEST_SCRIPT = """
import hashlib, sys
digest = hashlib.sha256()
with open(sys.argv[1], "rb") as handle:
    while block := handle.read(1 << 20):
        digest.update(block)
print(digest.hexdigest())
"""


def _records_digest(file: Path) -> str:
    """SHA-256 of records.sqlite, read by a child process: closing a descriptor of the file
    in this process would drop every POSIX lock SQLite holds on it here, and a reader in
    another process would then, on closing, delete the WAL under this one's connections."""
    done = subprocess.run([sys.executable, "-I", "-S", "-c", _DIGEST_SCRIPT, str(file)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OSError(f"cannot read {file}: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout.strip()


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
