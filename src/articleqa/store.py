"""The index folder on disk: manifest, article and passage records, and FAISS vector segments.

Layout::

    manifest.json        what the index is: format version, model, encoder backend, dimension,
                         chunking budget
    records.sqlite       articles, passages, segments, tombstones (SQLite in WAL mode)
    segments/NNNNNN.faiss  immutable FAISS segments (IndexIDMap2 over IndexFlatIP)
    write.lock           held by the one process that writes at a time

A segment is written once (to a temporary file, fsynced, renamed) and never changed. It becomes
part of the index in the SQLite transaction that records it together with its passages, so a
crash at any point leaves the last committed index; files no transaction recorded are deleted
by the next writer. Removing an article deletes its records and tombstones its vectors; merging
segments drops tombstoned vectors. Readers never lock: each search sees one committed state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import functools
import json
import math
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np

from articleqa.chunking import Chunk
from articleqa.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from articleqa.filters import Filters
from articleqa.lexical import fts_query, passage_for_embedding, terms
from articleqa.readers.article import Article

FORMAT_NAME = "articleqa-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RECORDS = "records.sqlite"
SEGMENTS = "segments"
#: Above this many segments, the smallest are merged after a write.
MAX_SEGMENTS = 8
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
    created TEXT NOT NULL
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

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2) + "\n"


@dataclass(frozen=True)
class ChunkRecord:
    """A stored passage with its article: what a search hit is made of."""

    vector_id: int
    chunk: Chunk
    article: Article


def _locked(method: Callable[..., _T]) -> Callable[..., _T]:
    """Runs the method under the store's lock: one thread at a time uses the SQLite connection
    and the loaded FAISS state."""

    @functools.wraps(method)
    def locked(self: IndexStore, *args: Any, **kwargs: Any) -> _T:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class IndexStore:
    """An index folder. Use :meth:`open` or :meth:`create`; see the module docstring.

    One store may be shared by threads: each method runs under the store's lock (a long
    ingest holds it only while it writes a batch, not while the batch is embedded).
    """

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest
        self._lock = threading.RLock()
        self._db = _connect(path / RECORDS)
        self._segments: dict[str, faiss.Index] = {}
        self._tombstones = np.zeros(0, dtype=np.int64)
        self._live = 0  # vectors in the segments less the tombstones
        self._rarity: dict[str, float] = {}  # per term, for the state loaded (see refresh)
        self._data_version = -1

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
        try:
            store = cls(folder, manifest)
        except sqlite3.DatabaseError as error:  # not an SQLite file at all
            raise IndexCorruptError(
                f"{folder / RECORDS} is unreadable ({error}); the index is damaged: rebuild "
                f"it by ingesting the articles again into an empty folder"
            ) from error
        store._check_records()
        return store

    @classmethod
    def create(cls, path: str | os.PathLike[str], manifest: Manifest) -> IndexStore:
        """Creates an empty index in ``path`` (a new or empty folder).

        Raises:
            ValueError: If ``path`` is a file, or a folder that holds other files.
        """
        folder = Path(path)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is a file; give a folder for the index")
        folder.mkdir(parents=True, exist_ok=True)
        # What an interrupted create() leaves behind may be reused; anything else is not ours.
        ours = {RECORDS, RECORDS + "-wal", RECORDS + "-shm", SEGMENTS, "write.lock"}
        strangers = [p.name for p in folder.iterdir() if p.name not in ours | {".gitkeep"}]
        if strangers:
            raise ValueError(
                f"{folder} is not empty and holds no articleqa index ({', '.join(strangers[:3])}"
                f"{', ...' if len(strangers) > 3 else ''}); give an empty or new folder"
            )
        (folder / SEGMENTS).mkdir(exist_ok=True)
        stamped = Manifest(**{**manifest.__dict__, "created": _now()})
        store = cls(folder, stamped)
        store._db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")
        _write_atomically(folder / MANIFEST, stamped.to_json().encode())
        return store

    @_locked
    def close(self) -> None:
        self._db.close()
        self._segments.clear()

    # -- reading -------------------------------------------------------------------------

    @_locked
    def counts(self) -> dict[str, int]:
        """Articles, passages, segments and tombstoned vectors."""
        row = self._db.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM chunks),"
            " (SELECT count(*) FROM segments), (SELECT count(*) FROM tombstones)"
        ).fetchone()
        return dict(zip(("articles", "passages", "segments", "tombstones"), row))

    @_locked
    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    @_locked
    def known_article_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that are stored."""
        known: set[str] = set()
        for batch in _batches(list(ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT id FROM articles WHERE id IN ({marks})", batch)
            known.update(r[0] for r in rows)
        return known

    @_locked
    def article_ids_of(self, vector_ids: Iterable[int]) -> dict[int, str]:
        """The article id of each live passage among ``vector_ids``."""
        found: dict[int, str] = {}
        for batch in _batches([int(v) for v in vector_ids], 500):
            marks = ",".join("?" * len(batch))
            found.update(self._db.execute(
                f"SELECT vector_id, article_id FROM chunks WHERE vector_id IN ({marks})", batch))
        return found

    @_locked
    def files_of_article(self, article_id: str) -> list[str]:
        """Every file the article was read from, sorted."""
        rows = self._db.execute(
            "SELECT path FROM article_files WHERE article_id = ? ORDER BY path", (article_id,))
        return [r[0] for r in rows]

    @_locked
    def live_count(self) -> int:
        """Vectors searchable now: all segments' vectors less the tombstones."""
        self.refresh()
        return self._live

    @_locked
    def article_ids_of_file(self, path: str) -> set[str]:
        rows = self._db.execute("SELECT article_id FROM article_files WHERE path = ?", (path,))
        return {r[0] for r in rows}

    @_locked
    def article(self, article_id: str) -> Article | None:
        row = self._db.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return _article_from_row(row) if row else None

    @_locked
    def records(self, vector_ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """The passages (with their articles) stored under these vector ids."""
        found: dict[int, ChunkRecord] = {}
        for batch in _batches([int(v) for v in vector_ids], 500):
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT c.vector_id, c.id, c.start, c.end, {_ARTICLE_COLUMNS_A}"
                f" FROM chunks c JOIN articles a ON a.id = c.article_id"
                f" WHERE c.vector_id IN ({marks})",
                batch,
            )
            for vector_id, chunk_id, start, end, *article_row in rows:
                article = _article_from_row(article_row)
                chunk = Chunk(chunk_id, article.id, article.body[start:end], start, end)
                found[vector_id] = ChunkRecord(vector_id, chunk, article)
        return found

    @_locked
    def matching_vector_ids(self, filters: Filters) -> np.ndarray:
        """Vector ids of the live passages whose article matches ``filters``."""
        where, params = _filter_sql(filters)
        rows = self._db.execute(
            f"SELECT c.vector_id FROM chunks c JOIN articles a ON a.id = c.article_id"
            f" WHERE {where}",
            params,
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    @_locked
    def lexical_search(
        self, question: str, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """BM25 top-``k`` passages for a question, best first.

        Returns:
            ``(scores, vector_ids)``: BM25 scores (higher is better) and ids; empty when the
            question shares no term with any passage.
        """
        query = fts_query(question)
        if query is None:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        sql = ("SELECT rowid, -bm25(passage_terms) FROM passage_terms"
               " WHERE passage_terms MATCH ?")
        params: list[object] = [query]
        if filters is not None and not filters.is_empty():
            where, filter_params = _filter_sql(filters)
            sql += (" AND rowid IN (SELECT c.vector_id FROM chunks c"
                    f" JOIN articles a ON a.id = c.article_id WHERE {where})")
            params.extend(filter_params)
        rows = self._db.execute(sql + " ORDER BY bm25(passage_terms) LIMIT ?",
                                (*params, k)).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        return np.array([r[1] for r in rows], dtype=np.float32), ids

    @_locked
    def rarity(self, term: str) -> float:
        """Inverse document frequency of a BM25 term (see :mod:`articleqa.lexical`):
        ``log((passages + 1) / (passages holding it + 1))``, counted once per committed state."""
        self.refresh()
        if term not in self._rarity:
            holding = self._db.execute(
                "SELECT count(*) FROM passage_terms WHERE passage_terms MATCH ?", (f'"{term}"',)
            ).fetchone()[0]
            self._rarity[term] = math.log((self._live + 1) / (holding + 1))
        return self._rarity[term]

    @_locked
    def rarities(self, terms: Iterable[str]) -> dict[str, float]:
        """:meth:`rarity` of each term, all from one committed state (an ingest that commits
        meanwhile waits for the lock)."""
        return {term: self.rarity(term) for term in terms}

    @_locked
    def vectors(self, vector_ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of live passages, one row per id."""
        self.refresh()
        out = np.zeros((len(vector_ids), self.manifest.dimension), dtype=np.float32)
        for batch_start in range(0, len(vector_ids), 500):
            batch = [int(v) for v in vector_ids[batch_start : batch_start + 500]]
            marks = ",".join("?" * len(batch))
            where = dict(self._db.execute(
                f"SELECT vector_id, segment FROM chunks WHERE vector_id IN ({marks})", batch))
            for offset, vector_id in enumerate(batch):
                if vector_id in where:
                    segment = self._segments[where[vector_id]]
                    out[batch_start + offset] = segment.reconstruct(vector_id)
        return out

    @_locked
    def facets(self) -> dict[str, object]:
        """Outlets, countries and the date span of the stored articles."""
        sources = [r[0] for r in self._db.execute(
            "SELECT DISTINCT source FROM articles WHERE source IS NOT NULL ORDER BY source")]
        countries = [r[0] for r in self._db.execute(
            "SELECT DISTINCT country FROM articles WHERE country IS NOT NULL ORDER BY country")]
        first, last = self._db.execute(
            "SELECT min(published), max(published) FROM articles").fetchone()
        return {"sources": sources, "countries": countries, "published": (first, last)}

    @_locked
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
        self.refresh()
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        # A few queries are faster on one thread: FAISS's OpenMP pool would otherwise fight
        # torch's for the cores (measured in bench/: 500 ms against 60 ms under load).
        faiss.omp_set_num_threads(1 if len(queries) < FEW_QUERIES else os.cpu_count() or 1)
        selector = self._selector(allowed)
        params = faiss.SearchParameters(sel=selector) if selector is not None else None
        parts_scores, parts_ids = [], []
        for index in self._segments.values():
            if index.ntotal == 0:
                continue
            scores, ids = index.search(queries, min(k, index.ntotal), params=params)
            parts_scores.append(scores)
            parts_ids.append(ids)
        if not parts_scores:
            empty = np.full((len(queries), k), -1, dtype=np.int64)
            return np.full((len(queries), k), -np.inf, dtype=np.float32), empty
        return merge_top_k(np.hstack(parts_scores), np.hstack(parts_ids), k)

    @_locked
    def refresh(self) -> None:
        """Loads what other writers committed since the last call (cheap when nothing did)."""
        for _ in range(5):
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._data_version:
                return
            with self._transaction("DEFERRED"):  # segments and tombstones from one state
                expected = dict(self._db.execute("SELECT name, vectors FROM segments"))
                tombstones = np.fromiter(
                    (r[0] for r in self._db.execute("SELECT vector_id FROM tombstones")),
                    dtype=np.int64,
                )
            try:
                self._segments = {name: self._segments.get(name)
                                  or self._load_segment(name, vectors)
                                  for name, vectors in expected.items()}
            except _SegmentGone:
                if self._db.execute("PRAGMA data_version").fetchone()[0] != version:
                    continue  # a writer merged segments meanwhile: read the new list
                raise
            self._tombstones = tombstones
            self._live = sum(i.ntotal for i in self._segments.values()) - len(tombstones)
            self._rarity.clear()
            self._data_version = version
            return
        raise IndexCorruptError(f"{self.path} keeps changing under this reader; try again")

    # -- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Holds the folder's write lock; clears files a crashed writer left behind."""
        with open(self.path / "write.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second writer waits for the first
            try:
                with self._lock:
                    self._delete_orphans()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @_locked
    def add(
        self,
        articles: Sequence[Article],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        files: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Stores articles with their passages and vectors, in one transaction.

        Args:
            articles: New articles (ids not yet stored).
            chunks: Their passages; ``vectors[i]`` is the vector of ``chunks[i]``.
            vectors: ``(len(chunks), dimension)`` float32, unit rows.
            files: ``(path, article_id)`` pairs: which file each article was read from.
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
                self._write_segment(name, np.asarray(ids, dtype=np.int64), vectors)
                self._db.execute(
                    "INSERT INTO segments (name, vectors, created) VALUES (?, ?, ?)",
                    (name, len(ids), added),
                )
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_ingest', ?)", (added,)
            )

    @_locked
    def link_files(self, files: Sequence[tuple[str, str]]) -> None:
        """Records that already stored articles were (also) read from these files."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO article_files (path, article_id) VALUES (?, ?)", files
            )

    @_locked
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

    @_locked
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

    @_locked
    def merge_segments(self, max_segments: int = MAX_SEGMENTS) -> None:
        """Merges the smallest segments (and drops their tombstones) until at most
        ``max_segments`` remain; also rewrites a segment that is mostly tombstones."""
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
        if not chosen or (len(chosen) == 1 and not any(d for n, _, d in rows if n in chosen)):
            return
        self.refresh()
        dead = set(self._tombstones.tolist())
        ids_parts, vector_parts = [], []
        for name in chosen:
            ids, vectors = _segment_contents(self._segments[name])
            keep = np.array([i not in dead for i in ids.tolist()], dtype=bool)
            ids_parts.append(ids[keep])
            vector_parts.append(vectors[keep])
        ids = np.concatenate(ids_parts)
        vectors = np.concatenate(vector_parts)
        name = self._next_segment_name()
        marks = ",".join("?" * len(chosen))
        with self._transaction():
            if len(ids):
                self._write_segment(name, ids, vectors)
                self._db.execute(
                    "INSERT INTO segments (name, vectors, created) VALUES (?, ?, ?)",
                    (name, len(ids), _now()),
                )
                self._db.execute(
                    f"UPDATE chunks SET segment = ? WHERE segment IN ({marks})", (name, *chosen)
                )
            self._db.execute(f"DELETE FROM tombstones WHERE segment IN ({marks})", chosen)
            self._db.execute(f"DELETE FROM segments WHERE name IN ({marks})", chosen)
        for old in chosen:
            (self.path / SEGMENTS / f"{old}.faiss").unlink(missing_ok=True)

    # -- internals -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, mode: str = "IMMEDIATE") -> Iterator[None]:
        """One SQLite transaction; IMMEDIATE takes the write lock at once."""
        self._db.execute(f"BEGIN {mode}")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        if mode == "IMMEDIATE":
            self._data_version = -1  # our own commits don't change PRAGMA data_version

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
                f" rebuild it by ingesting the articles again into an empty folder"
            )
        for (name,) in self._db.execute("SELECT name FROM segments"):
            if not (self.path / SEGMENTS / f"{name}.faiss").exists():
                raise IndexCorruptError(
                    f"{self.path / SEGMENTS / name}.faiss is missing; the index is damaged:"
                    f" rebuild it by ingesting the articles again into an empty folder"
                )

    def _load_segment(self, name: str, expected: int) -> faiss.Index:
        file = self.path / SEGMENTS / f"{name}.faiss"
        if not file.exists():
            raise _SegmentGone(
                f"{file} is missing; the index is damaged: rebuild it by ingesting the articles "
                f"again into an empty folder"
            )
        problem = None
        try:
            # Memory-mapped: opening costs no read of the vectors, and processes searching the
            # same index share one copy in the page cache (segments are never changed).
            index = faiss.read_index(str(file), faiss.IO_FLAG_MMAP_IFC)
        except RuntimeError as error:
            index, problem = None, f"FAISS cannot read it ({str(error).splitlines()[0]})"
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

    def _selector(self, allowed: np.ndarray | None) -> faiss.IDSelector | None:
        if allowed is not None:
            live = np.setdiff1d(np.asarray(allowed, dtype=np.int64), self._tombstones)
            return faiss.IDSelectorBatch(np.ascontiguousarray(live, dtype=np.int64))
        if len(self._tombstones):
            return faiss.IDSelectorNot(faiss.IDSelectorBatch(self._tombstones))
        return None

    def _write_segment(self, name: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.manifest.dimension))
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        _write_atomically(self.path / SEGMENTS / f"{name}.faiss", faiss.serialize_index(index))

    def _next_segment_name(self) -> str:
        row = self._db.execute("SELECT max(name) FROM segments").fetchone()
        on_disk = [int(p.stem) for p in (self.path / SEGMENTS).glob("*.faiss") if p.stem.isdigit()]
        last = max([int(row[0]) if row[0] else 0, *on_disk])
        return f"{last + 1:06d}"

    def _delete_orphans(self) -> None:
        live = {r[0] for r in self._db.execute("SELECT name FROM segments")}
        for file in (self.path / SEGMENTS).iterdir():
            if file.suffix == ".tmp" or (file.suffix == ".faiss" and file.stem not in live):
                file.unlink(missing_ok=True)


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


def read_manifest(folder: Path) -> Manifest:
    """Reads and checks ``folder/manifest.json``.

    Raises:
        IndexCorruptError: If it is not a readable articleqa manifest.
        IndexMismatchError: If it was written by another format version.
    """
    file = folder / MANIFEST
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"it holds {type(data).__name__}, not a JSON object")
        if data.get("format") != FORMAT_NAME:
            raise ValueError(f"format is {data.get('format')!r}, not {FORMAT_NAME!r}")
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"{folder} was written by index format version {data.get('format_version')}; "
                f"this articleqa reads version {FORMAT_VERSION}. Rebuild it: ingest the "
                f"articles again into an empty folder"
            )
        fields = Manifest.__dataclass_fields__.values()
        return Manifest(**{field.name: data[field.name] for field in fields
                           if field.name in data or field.default is dataclasses.MISSING})
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


def _article_from_row(row: Sequence) -> Article:
    (id_, title, body, source, country, published, url, path, authors) = row
    return Article(
        id=id_, title=title, body=body, source=source, country=country,
        published=dt.date.fromisoformat(published) if published else None,
        url=url, path=path, authors=tuple(json.loads(authors)),
    )


def _segment_contents(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    vectors = index.index.reconstruct_n(0, index.ntotal)
    return ids, vectors


def _connect(file: Path) -> sqlite3.Connection:
    db = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA busy_timeout = 10000")
    return db


def _write_atomically(file: Path, data: bytes | np.ndarray) -> None:
    temporary = file.with_name(file.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(memoryview(data).cast("B") if isinstance(data, np.ndarray) else data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, file)
    directory = os.open(file.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
