"""The index in a PostgreSQL database with pgvector: for several app servers and ingest workers.

Tables (in the schema the connection's ``search_path`` names first, ``public`` by default)::

    articleqa_manifest   one row: the manifest (model, dimension, chunking), checked on connect
    articleqa_articles   articles, keyed by their content id
    articleqa_files      (path, article_id): which files an article was read from
    articleqa_passages   passages: content id, offsets, vector(384) with an HNSW index (inner
                         product), and their lexical terms as a tsvector with a GIN index

Each write is one transaction, so a reader sees a batch whole or not at all and a killed ingest
leaves the last committed state. Articles and passages are keyed by content ids and inserted
with ``ON CONFLICT DO NOTHING`` (in id order, so two writers never deadlock): two ingests of the
same files store each article once, and ingests of different files commit side by side.

Dense search orders by the pgvector inner product with HNSW (``hnsw.ef_search`` =
:data:`EF_SEARCH`, iterative scans so that filters still give ``k`` rows); lexical search
matches the passages' terms (made by :func:`articleqa.lexical.terms`, stemmed by a Snowball
dictionary) in a tsvector with a GIN index and ranks them by BM25 computed in SQL, as the
folder store's SQLite FTS5 does (:data:`_BM25`). Filters are SQL ``WHERE`` clauses inside both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import math
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from articleqa.chunking import Chunk, chunk_matches_id
from articleqa.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    StoreUnavailableError,
)
from articleqa.filters import Filters
from articleqa.lexical import passage_for_embedding, terms
from articleqa.readers.article import Article, article_id
from articleqa.store import Batch, ChunkRecord, Manifest, manifest_from_data

#: HNSW candidates per search: recall@10 against exact search is reported in docs/scaling.md.
EF_SEARCH = 100
#: A filtered search among at most this many passages is exact (a scan of those passages, no
#: HNSW): the graph, walked with a filter, can miss a match (measured: 1 of 20 passages of 4
#: articles among 6,160, the best one).
EXACT_BELOW = 20_000
#: HNSW build parameters (pgvector's defaults).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
#: The text search configuration the passages' terms are stemmed with.
TEXT_CONFIG = "articleqa_terms"
TABLES = ("articleqa_manifest", "articleqa_articles", "articleqa_files", "articleqa_passages",
          "articleqa_stats")

_SCHEMA = """
CREATE TABLE articleqa_manifest (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    manifest jsonb NOT NULL
);
CREATE TABLE articleqa_articles (
    id text PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    source text,
    country text,
    published date,
    url text,
    path text,
    authors jsonb NOT NULL DEFAULT '[]',
    added timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX articleqa_articles_source ON articleqa_articles (lower(source));
CREATE INDEX articleqa_articles_country ON articleqa_articles (lower(country));
CREATE INDEX articleqa_articles_published ON articleqa_articles (published);
CREATE TABLE articleqa_files (
    path text NOT NULL,
    article_id text NOT NULL REFERENCES articleqa_articles (id) ON DELETE CASCADE,
    PRIMARY KEY (path, article_id)
);
CREATE INDEX articleqa_files_article ON articleqa_files (article_id);
CREATE TABLE articleqa_passages (
    vector_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    article_id text NOT NULL REFERENCES articleqa_articles (id) ON DELETE CASCADE,
    start integer NOT NULL,
    "end" integer NOT NULL,
    embedding vector({dimension}) NOT NULL,
    terms tsvector NOT NULL,
    length integer NOT NULL
);
CREATE INDEX articleqa_passages_article ON articleqa_passages (article_id);
CREATE INDEX articleqa_passages_embedding ON articleqa_passages
    USING hnsw (embedding vector_ip_ops) WITH (m = {m}, ef_construction = {ef_construction});
CREATE INDEX articleqa_passages_terms ON articleqa_passages USING gin (terms);
CREATE TABLE articleqa_stats (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    passages bigint NOT NULL,
    total_length bigint NOT NULL
);
INSERT INTO articleqa_stats (passages, total_length) VALUES (0, 0);
CREATE TEXT SEARCH DICTIONARY articleqa_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION {config} (COPY = english);
ALTER TEXT SEARCH CONFIGURATION {config}
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH articleqa_stem;
"""

_ARTICLE_COLUMNS = "a.id, a.title, a.body, a.source, a.country, a.published, a.url, a.path, " \
                   "a.authors"
#: Serialises the creation of an index in one database (pg_advisory_xact_lock key).
_CREATE_LOCK = 0x61716964


class PostgresStore:
    """An index in a PostgreSQL database. Use :meth:`open` or :meth:`create`; see the module
    docstring. Threads may share a store: each thread has a connection of its own (opened on
    its first call), so their statements run side by side in the server."""

    def __init__(self, url: str, connection: Any, manifest: Manifest) -> None:
        self.path = url
        self.manifest = manifest
        self._thread_local = threading.local()
        self._thread_local.db = connection  # the opening thread's
        self._connections_lock = threading.Lock()
        self._connections: dict[threading.Thread, Any] = {threading.current_thread(): connection}
        self._closed = False

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def exists(cls, url: str) -> bool:
        """Whether the database holds an articleqa index (its manifest table)."""
        with contextlib.closing(_connect(url)) as db:
            return _has_manifest(db)

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        """Connects and checks the manifest and tables.

        Raises:
            StoreUnavailableError: If the server cannot be reached or lacks pgvector.
            IndexNotFoundError: If the database holds no articleqa index.
            IndexMismatchError: If the index was written by another format version.
            IndexCorruptError: If its manifest or tables are damaged.
        """
        db = _connect(url)
        try:
            if not _has_manifest(db):
                raise IndexNotFoundError(
                    f"no articleqa index in the database {redact(url)}: build one with "
                    f"`articleqa ingest --index {redact(url)} ARTICLES...`"
                )
            manifest = _read_manifest(db, url)
            _check_tables(db, url, manifest)
            _prepare(db)
        except BaseException:
            db.close()
            raise
        return cls(url, db, manifest)

    @classmethod
    def create(cls, url: str, manifest: Manifest) -> PostgresStore:
        """Creates the tables and writes the manifest (the vector extension is created when
        missing, which needs the right to); if another process created the index first, opens
        it instead.

        Raises:
            StoreUnavailableError: As for :meth:`open`, and when pgvector cannot be created.
        """
        import psycopg

        with contextlib.closing(_connect(url)) as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
            if not _has_manifest(db):
                try:
                    db.execute("CREATE EXTENSION IF NOT EXISTS vector")
                except psycopg.Error as error:
                    raise StoreUnavailableError(
                        f"the database {redact(url)} lacks the pgvector extension and this "
                        f"login cannot create it ({_first_line(error)}); have its owner run "
                        f"`CREATE EXTENSION vector;` in it"
                    ) from error
                dimension = int(manifest.dimension)
                db.execute(_SCHEMA.format(dimension=dimension, m=HNSW_M,
                                          ef_construction=HNSW_EF_CONSTRUCTION,
                                          config=TEXT_CONFIG))
                stamped = Manifest(**{**manifest.__dict__, "created": _now()})
                db.execute("INSERT INTO articleqa_manifest (manifest) VALUES (%s::jsonb)",
                           (stamped.to_json(),))
        return cls.open(url)

    @property
    def location(self) -> str:
        return redact(self.path)

    def close(self) -> None:
        with self._connections_lock:
            self._closed = True
            for db in self._connections.values():
                db.close()
            self._connections.clear()

    @property
    def _db(self) -> Any:
        """This thread's connection, opened on its first call."""
        db = getattr(self._thread_local, "db", None)
        if db is not None:
            return db
        with self._connections_lock:
            if self._closed:
                raise StoreUnavailableError(f"the store of {self.location} was closed")
            for thread, other in list(self._connections.items()):
                if not thread.is_alive():  # its thread ended: nobody else uses it
                    other.close()
                    del self._connections[thread]
        db = _connect(self.path)
        try:
            _prepare(db)
        except BaseException:
            db.close()
            raise
        with self._connections_lock:
            if self._closed:
                db.close()
                raise StoreUnavailableError(f"the store of {self.location} was closed")
            self._connections[threading.current_thread()] = db
        self._thread_local.db = db
        return db

    # -- reading -------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Articles and passages."""
        row = self._one("SELECT (SELECT count(*) FROM articleqa_articles),"
                        " (SELECT count(*) FROM articleqa_passages)")
        return {"articles": row[0], "passages": row[1]}

    def meta(self, key: str) -> str | None:
        """``last_ingest``: when the newest article was stored."""
        if key != "last_ingest":
            return None
        (added,) = self._one("SELECT max(added) FROM articleqa_articles")
        return added.astimezone(dt.timezone.utc).isoformat(timespec="seconds") if added else None

    def size_bytes(self) -> int:
        (size,) = self._one("SELECT sum(pg_total_relation_size(t)) FROM unnest(%s::regclass[]) t",
                            (list(TABLES),))
        return int(size or 0)

    def known_article_ids(self, ids: Iterable[str]) -> set[str]:
        rows = self._all("SELECT id FROM articleqa_articles WHERE id = ANY(%s)", (list(ids),))
        return {r[0] for r in rows}

    def article_ids_of(self, vector_ids: Iterable[int]) -> dict[int, str]:
        rows = self._all("SELECT vector_id, article_id FROM articleqa_passages"
                         " WHERE vector_id = ANY(%s)", ([int(v) for v in vector_ids],))
        return dict(rows)

    def files_of_article(self, article_id: str) -> list[str]:
        rows = self._all("SELECT path FROM articleqa_files WHERE article_id = %s ORDER BY path",
                         (article_id,))
        return [r[0] for r in rows]

    def article_ids_of_file(self, path: str) -> set[str]:
        rows = self._all("SELECT article_id FROM articleqa_files WHERE path = %s", (path,))
        return {r[0] for r in rows}

    def article(self, article_id: str) -> Article | None:
        rows = self._all(f"SELECT {_ARTICLE_COLUMNS} FROM articleqa_articles a WHERE a.id = %s",
                         (article_id,))
        return _article_from_row(rows[0]) if rows else None

    def records(self, vector_ids: Sequence[int]) -> dict[int, ChunkRecord]:
        rows = self._all(
            f'SELECT p.vector_id, p.id, p.start, p."end", {_ARTICLE_COLUMNS}'
            f" FROM articleqa_passages p JOIN articleqa_articles a ON a.id = p.article_id"
            f" WHERE p.vector_id = ANY(%s)", ([int(v) for v in vector_ids],))
        found: dict[int, ChunkRecord] = {}
        for vector_id, chunk_id, start, end, *article_row in rows:
            article = _article_from_row(article_row)
            chunk = Chunk(chunk_id, article.id, article.body[start:end], start, end)
            found[vector_id] = ChunkRecord(vector_id, chunk, article)
        return found

    def vectors(self, vector_ids: Sequence[int]) -> np.ndarray:
        rows = dict(self._all("SELECT vector_id, embedding FROM articleqa_passages"
                              " WHERE vector_id = ANY(%s)", ([int(v) for v in vector_ids],)))
        out = np.zeros((len(vector_ids), self.manifest.dimension), dtype=np.float32)
        for row, vector_id in enumerate(vector_ids):
            if int(vector_id) in rows:
                out[row] = rows[int(vector_id)].to_numpy()
        return out

    def export(self, size: int = 256) -> Iterator[Batch]:
        """Every stored article with its passages, vectors and files, ``size`` articles at a
        time, as :meth:`add` takes them (each batch read in one statement per table)."""
        ids = [r[0] for r in self._all("SELECT id FROM articleqa_articles ORDER BY id")]
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            articles = [_article_from_row(row) for row in self._all(
                f"SELECT {_ARTICLE_COLUMNS} FROM articleqa_articles a WHERE a.id = ANY(%s)"
                f" ORDER BY a.id", (batch,))]
            bodies = {article.id: article.body for article in articles}
            rows = self._all('SELECT id, article_id, start, "end", embedding'
                             " FROM articleqa_passages WHERE article_id = ANY(%s)"
                             " ORDER BY vector_id", (batch,))
            files = self._all("SELECT path, article_id FROM articleqa_files"
                              " WHERE article_id = ANY(%s) ORDER BY path, article_id", (batch,))
            rows = [row for row in rows if row[1] in bodies]
            chunks = [Chunk(chunk_id, article_id, bodies[article_id][begin:end], begin, end)
                      for chunk_id, article_id, begin, end, _ in rows]
            vectors = np.array([row[4].to_numpy() for row in rows], dtype=np.float32).reshape(
                len(rows), self.manifest.dimension)
            yield Batch(articles, chunks, vectors, [tuple(f) for f in files])

    def facets(self) -> dict[str, object]:
        """Outlets, countries and the date span of the stored articles."""
        sources = [r[0] for r in self._all(
            "SELECT DISTINCT source FROM articleqa_articles WHERE source IS NOT NULL"
            " ORDER BY source")]
        countries = [r[0] for r in self._all(
            "SELECT DISTINCT country FROM articleqa_articles WHERE country IS NOT NULL"
            " ORDER BY country")]
        first, last = self._one("SELECT min(published), max(published) FROM articleqa_articles")
        return {"sources": sources, "countries": countries,
                "published": (first.isoformat() if first else None,
                              last.isoformat() if last else None)}

    def dense_search(self, queries: np.ndarray, k: int, filters: Filters | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best inner products per query row among the passages matching ``filters``
        (HNSW, see :data:`EF_SEARCH`; exact when the filters leave at most
        :data:`EXACT_BELOW` passages); rows are padded with id -1 and score -inf."""
        where, params = _filter_sql(filters)
        order = "p.embedding <#> %s"
        if params:
            (matching,) = self._one("SELECT count(*) FROM articleqa_passages p JOIN"
                                    f" articleqa_articles a ON a.id = p.article_id WHERE {where}",
                                    params)
            if matching <= EXACT_BELOW:
                order = "(p.embedding <#> %s) + 0"  # an order the HNSW index cannot give
        sql = ("SELECT p.vector_id, -(p.embedding <#> %s) FROM articleqa_passages p"
               f" JOIN articleqa_articles a ON a.id = p.article_id WHERE {where}"
               f" ORDER BY {order} LIMIT %s")
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        db = self._db
        with db.pipeline():  # one round trip for the batch
            cursors = [db.execute(sql, (query, *params, query, k)) for query in queries]
        results = [cursor.fetchall() for cursor in cursors]
        width = max((len(rows) for rows in results), default=0)
        scores = np.full((len(queries), width), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), width), -1, dtype=np.int64)
        for row, rows in enumerate(results):
            if rows:
                ids[row, : len(rows)] = [r[0] for r in rows]
                scores[row, : len(rows)] = [r[1] for r in rows]
        return scores, ids

    def lexical_search(self, question: str, k: int, filters: Filters | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` passages of best BM25 score (:data:`_BM25`) among those sharing a term
        with the question and matching ``filters``; empty when none does."""
        text = " ".join(dict.fromkeys(terms(question)))
        if not text:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        where, params = _filter_sql(filters)
        rows = self._all(_BM25.format(config=TEXT_CONFIG, where=where), (text, *params, k))
        return (np.array([r[1] for r in rows], dtype=np.float32),
                np.array([r[0] for r in rows], dtype=np.int64))

    def rarities(self, words: Iterable[str]) -> dict[str, float]:
        """``log((passages + 1) / (passages holding it + 1))`` of each term, in one statement
        (one committed state); a term the stemmer drops counts as held by every passage."""
        return {word: math.log((total + 1) / (held + 1))
                for word, (held, total) in self._holding(words).items()}

    def holding(self, words: Iterable[str]) -> dict[str, int]:
        """The passages holding each term, in one statement (one committed state); a term the
        stemmer drops counts as held by every passage."""
        return {word: held for word, (held, _) in self._holding(words).items()}

    def _holding(self, words: Iterable[str]) -> dict[str, tuple[int, int]]:
        """Per term, the passages holding it and all passages."""
        words = list(dict.fromkeys(words))
        if not words:
            return {}
        rows = self._all(
            "WITH total AS (SELECT passages AS n FROM articleqa_stats)"
            " SELECT w, CASE WHEN numnode(q) = 0 THEN total.n ELSE"
            " (SELECT count(*) FROM articleqa_passages p WHERE p.terms @@ q) END, total.n"
            f" FROM unnest(%s::text[]) AS w, total, plainto_tsquery('{TEXT_CONFIG}', w) AS q",
            (words,))
        return {word: (held, total) for word, held, total in rows}

    # -- writing -------------------------------------------------------------------------

    def published_of(self, vector_ids: Iterable[int]) -> dict[int, dt.date | None]:
        """The publication day of the article of each live passage among ``vector_ids`` (None:
        undated)."""
        return dict(self._all(
            "SELECT p.vector_id, a.published FROM articleqa_passages p JOIN articleqa_articles a"
            " ON a.id = p.article_id WHERE p.vector_id = ANY(%s)", ([int(v) for v in vector_ids],)))

    def lead_passages(self, filters: Filters) -> list[tuple[str, int, str | None]]:
        """``(article id, vector id, outlet)`` of the first passage of every article matching
        ``filters``."""
        where, params = _filter_sql(filters)
        rows = self._all(
            f"SELECT DISTINCT ON (p.article_id) p.article_id, p.vector_id, a.source"
            f" FROM articleqa_passages p JOIN articleqa_articles a ON a.id = p.article_id"
            f" WHERE {where} ORDER BY p.article_id, p.start", params)
        return [(article, vector, source) for article, vector, source in rows]

    def undated_count(self, filters: Filters) -> int:
        """Articles matching ``filters`` other than their dates that have no date."""
        where, params = _filter_sql(dataclasses.replace(filters, since=None, until=None))
        return int(self._one(
            f"SELECT count(DISTINCT a.id) FROM articleqa_articles a JOIN articleqa_passages p"
            f" ON p.article_id = a.id WHERE a.published IS NULL AND {where}", params)[0])

    def check(self) -> list[str]:
        """What is wrong with the stored records: an article whose headline and body no
        longer give its id, a passage whose offsets no longer give the text of its id. (The
        database checks its own pages; see PostgreSQL's data checksums and amcheck.)"""
        problems = []
        for row in self._all(f"SELECT {_ARTICLE_COLUMNS} FROM articleqa_articles a"):
            article = _article_from_row(row)
            if article_id(article.title, article.body) != article.id:
                problems.append(f"article {article.id}: its text no longer matches its id")
        for chunk_id_, owner, start, end, body in self._all(
                'SELECT p.id, p.article_id, p.start, p."end", a.body FROM articleqa_passages p'
                " JOIN articleqa_articles a ON a.id = p.article_id"):
            if not chunk_matches_id(Chunk(chunk_id_, owner, body[start:end], start, end)):
                problems.append(f"passage {chunk_id_}: its offsets no longer give its text")
        return problems

    def fill_missing(self, articles: Sequence[Article]) -> list[str]:
        """Gives stored articles the outlet, country, date and address they lack, from these
        (same id) articles; fields already set are kept; nothing is embedded again.

        Returns:
            The ids of the articles that gained a field.
        """
        given = list({a.id: a for a in articles}.values())
        if not given:
            return []
        columns = ([a.id for a in given], [a.source for a in given],
                   [a.country for a in given], [a.url for a in given],
                   [a.published for a in given])
        with self._db.transaction():
            filled = {r[0] for r in self._db.execute(
                "UPDATE articleqa_articles a SET source = coalesce(a.source, f.source),"
                " country = coalesce(a.country, f.country), url = coalesce(a.url, f.url),"
                " published = coalesce(a.published, f.published)"
                " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::date[])"
                " AS f(id, source, country, url, published) WHERE a.id = f.id AND ("
                " (a.source IS NULL AND f.source IS NOT NULL)"
                " OR (a.country IS NULL AND f.country IS NOT NULL)"
                " OR (a.url IS NULL AND f.url IS NOT NULL)"
                " OR (a.published IS NULL AND f.published IS NOT NULL)) RETURNING a.id",
                columns)}
        return [a.id for a in given if a.id in filled]

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Nothing to hold: writers commit side by side (see the module docstring)."""
        yield

    def add(self, articles: Sequence[Article], chunks: Sequence[Chunk], vectors: np.ndarray,
            files: Sequence[tuple[str, str]] = ()) -> list[str]:
        """Stores articles with their passages and vectors, and links their files, in one
        transaction; an article already stored (by another writer) is left as it is.

        Returns:
            The ids of the articles this call stored.
        """
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if len(vectors) and vectors.shape[1] != self.manifest.dimension:
            raise IndexMismatchError(
                f"vectors have dimension {vectors.shape[1]}, the index {self.manifest.dimension}"
            )
        ordered = sorted({a.id: a for a in articles}.values(), key=lambda a: a.id)
        columns = list(zip(*(_article_to_row(a) for a in ordered))) or [[]] * 9
        with self._db.transaction():
            stored = {r[0] for r in self._db.execute(
                "INSERT INTO articleqa_articles"
                " (id, title, body, source, country, published, url, path, authors)"
                " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::date[], %s::text[], %s::text[], %s::jsonb[])"
                " ON CONFLICT (id) DO NOTHING RETURNING id", [list(c) for c in columns])}
            titles = {a.id: a.title for a in ordered}
            rows = []
            for chunk, vector in zip(chunks, vectors):
                if chunk.article_id in stored:
                    words = terms(passage_for_embedding(titles[chunk.article_id], chunk.text))
                    rows.append((chunk.id, chunk.article_id, chunk.start, chunk.end,
                                 np.asarray(vector, dtype=np.float32), " ".join(words),
                                 len(words)))
            rows.sort(key=lambda r: r[0])
            with self._db.cursor() as cursor:
                cursor.executemany(
                    'INSERT INTO articleqa_passages (id, article_id, start, "end", embedding,'
                    f" terms, length) VALUES (%s, %s, %s, %s, %s,"
                    f" to_tsvector('{TEXT_CONFIG}', %s), %s) ON CONFLICT (id) DO NOTHING", rows)
            if stored:  # the passages of the articles this transaction stored are its own
                self._db.execute(
                    "UPDATE articleqa_stats s SET (passages, total_length) = (SELECT"
                    " s.passages + count(*), s.total_length + coalesce(sum(p.length), 0)"
                    " FROM articleqa_passages p WHERE p.article_id = ANY(%s))",
                    (sorted(stored),))
            self._link(files)
        return sorted(stored)

    def link_files(self, files: Sequence[tuple[str, str]]) -> None:
        """Records that stored articles were (also) read from these files."""
        with self._db.transaction():
            self._link(files)

    def unlink_file(self, path: str, keep: set[str]) -> list[str]:
        """Forgets the articles ``path`` no longer holds; removes those no file holds.

        Returns:
            The ids of the articles removed.
        """
        with self._db.transaction():
            stale = [r[0] for r in self._db.execute(
                "DELETE FROM articleqa_files WHERE path = %s AND NOT article_id = ANY(%s)"
                " RETURNING article_id", (path, sorted(keep)))]
            if not stale:
                return []
            return self._delete(stale, orphans_only=True)

    def remove(self, article_ids: Sequence[str]) -> list[str]:
        """Deletes articles with their passages and files.

        Returns:
            The ids that were stored (and are now removed).
        """
        with self._db.transaction():
            return self._delete(article_ids)

    def compact(self) -> None:
        """Nothing: PostgreSQL's autovacuum reclaims the space of deleted rows."""

    # -- internals -----------------------------------------------------------------------

    def _delete(self, article_ids: Iterable[str], orphans_only: bool = False) -> list[str]:
        """Deletes articles (only those no file holds, if ``orphans_only``) with their
        passages and files, inside the caller's transaction; returns the ids deleted."""
        orphans = (" AND NOT EXISTS (SELECT 1 FROM articleqa_files f"
                   " WHERE f.article_id = a.id)") if orphans_only else ""
        # Locked first: a writer deleting the same articles meanwhile makes them vanish here,
        # so the passages (and the counts in articleqa_stats) are taken away once.
        ids = [r[0] for r in self._db.execute(
            f"SELECT a.id FROM articleqa_articles a WHERE a.id = ANY(%s){orphans}"
            f" ORDER BY a.id FOR UPDATE", (sorted(set(article_ids)),))]
        if ids:
            self._db.execute(
                "WITH gone AS (DELETE FROM articleqa_passages WHERE article_id = ANY(%s)"
                " RETURNING length) UPDATE articleqa_stats s SET (passages, total_length) ="
                " (SELECT s.passages - count(*), s.total_length - coalesce(sum(gone.length), 0)"
                " FROM gone)",
                (ids,))
            self._db.execute("DELETE FROM articleqa_articles WHERE id = ANY(%s)", (ids,))
        return ids

    def _link(self, files: Sequence[tuple[str, str]]) -> None:
        pairs = sorted(set(files))
        if not pairs:
            return
        self._db.execute(
            "INSERT INTO articleqa_files (path, article_id)"
            " SELECT f.path, f.article_id"
            " FROM unnest(%s::text[], %s::text[]) AS f(path, article_id)"
            " WHERE EXISTS (SELECT 1 FROM articleqa_articles a WHERE a.id = f.article_id)"
            " ON CONFLICT DO NOTHING", ([p for p, _ in pairs], [a for _, a in pairs]))

    def _all(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        return self._db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[object] = ()) -> tuple:
        return self._db.execute(sql, params).fetchone()


#: BM25 over the passages' tsvectors, as SQLite FTS5 computes it for the folder store (k1 =
#: 1.2, b = 0.75, idf = ln((N - n + 0.5) / (n + 0.5)) and at least 1e-6, lengths in terms): the
#: question's lexemes, the passages holding any of them (GIN index) that match the filters,
#: each scored by the question's lexemes it holds (marked with weight A and kept by ts_filter),
#: with the passage count and mean length kept in articleqa_stats by the writers. PostgreSQL's
#: own ts_rank_cd knows no term rarity, and hybrid search ranked by it agreed with the folder
#: store's first hit on half the questions.
_BM25 = """
WITH q AS (SELECT DISTINCT u.lexeme FROM unnest(to_tsvector('{config}', %s)) AS u),
stats AS (SELECT passages::float8 AS n,
                 greatest(total_length::float8 / greatest(passages, 1), 1) AS avgdl
          FROM articleqa_stats),
idf AS (SELECT q.lexeme, greatest(ln((s.n - d.n + 0.5) / (d.n + 0.5)), 1e-6) AS w
        FROM q CROSS JOIN stats s CROSS JOIN LATERAL
            (SELECT count(*)::float8 AS n FROM articleqa_passages p
             WHERE p.terms @@ quote_literal(q.lexeme)::tsquery) d),
query AS (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS match FROM q),
matching AS (SELECT p.vector_id, p.terms, p.length
             FROM articleqa_passages p JOIN articleqa_articles a ON a.id = p.article_id, query
             WHERE p.terms @@ query.match AND {where})
SELECT m.vector_id,
       sum(i.w * t.tf * 2.2 / (t.tf + 1.2 * (0.25 + 0.75 * m.length / s.avgdl))) AS score
FROM matching m CROSS JOIN stats s
CROSS JOIN LATERAL (SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1) AS tf
                    FROM unnest(ts_filter(setweight(m.terms, 'A', (SELECT array_agg(lexeme)
                                                                   FROM q)), '{{a}}')) AS u) t
JOIN idf i ON i.lexeme = t.lexeme
GROUP BY m.vector_id ORDER BY score DESC, m.vector_id LIMIT %s
"""


def redact(url: str) -> str:
    """The URL without its password, to show."""
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = urllib.parse.quote(parts.username or "", safe="")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _connect(url: str) -> Any:
    try:
        import psycopg
    except ImportError as error:
        raise StoreUnavailableError(
            "an index in PostgreSQL needs psycopg and pgvector: pip install 'articleqa[postgres]'"
        ) from error
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.Error as error:
        raise StoreUnavailableError(
            f"cannot connect to the database {redact(url)}: {_first_line(error)}. Check the URL "
            f"(postgresql://USER@HOST:PORT/DBNAME) and the PG* variables (PGPASSWORD, ...)"
        ) from error


def _prepare(db: Any) -> None:
    """Registers the vector type and sets the search parameters of the session."""
    from pgvector.psycopg import register_vector

    register_vector(db)
    db.execute(f"SET hnsw.ef_search = {int(EF_SEARCH)}")
    # Filters apply inside the HNSW scan, which goes on until it has k matching rows.
    db.execute("SET hnsw.iterative_scan = strict_order")


def _has_manifest(db: Any) -> bool:
    (table,) = db.execute("SELECT to_regclass('articleqa_manifest')").fetchone()
    return table is not None and db.execute("SELECT 1 FROM articleqa_manifest").fetchone() \
        is not None


def _read_manifest(db: Any, url: str) -> Manifest:
    (data,) = db.execute("SELECT manifest FROM articleqa_manifest").fetchone()
    try:
        return manifest_from_data(data, f"the index in {redact(url)}", "an empty database")
    except ValueError as error:
        raise IndexCorruptError(
            f"the manifest in {redact(url)} is not a valid articleqa manifest ({error}); rebuild "
            f"the index by ingesting the articles again into an empty database"
        ) from error


def _check_tables(db: Any, url: str, manifest: Manifest) -> None:
    (missing,) = db.execute("SELECT array_agg(t) FROM unnest(%s::text[]) t"
                            " WHERE to_regclass(t) IS NULL", (list(TABLES),)).fetchone()
    if missing:
        raise IndexCorruptError(
            f"the database {redact(url)} lacks the tables {sorted(missing)}; the index is "
            f"damaged: rebuild it by ingesting the articles again into an empty database"
        )
    (column,) = db.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'articleqa_passages'::regclass AND attname = 'embedding'").fetchone()
    if column != f"vector({manifest.dimension})":
        raise IndexCorruptError(
            f"the database {redact(url)} keeps passages as {column}, its manifest says "
            f"vector({manifest.dimension}); rebuild the index in an empty database"
        )


def _filter_sql(filters: Filters | None) -> tuple[str, tuple[object, ...]]:
    """A WHERE clause over ``articleqa_passages p JOIN articleqa_articles a``, with its
    parameters."""
    if filters is None or filters.is_empty():
        return "true", ()
    clauses: list[str] = []
    params: list[object] = []
    for column, value in (("source", filters.source), ("country", filters.country)):
        if value is not None:
            clauses.append(f"lower(a.{column}) = lower(%s)")
            params.append(value)
    if filters.since is not None:
        clauses.append("a.published >= %s")
        params.append(filters.since)
    if filters.until is not None:
        clauses.append("a.published <= %s")
        params.append(filters.until)
    if filters.article_ids is not None:
        clauses.append("p.article_id = ANY(%s)")
        params.append(list(filters.article_ids))
    return " AND ".join(clauses), tuple(params)


def _article_to_row(article: Article) -> tuple:
    return (article.id, article.title, article.body, article.source, article.country,
            article.published, article.url, article.path, json.dumps(list(article.authors)))


def _article_from_row(row: Sequence) -> Article:
    (id_, title, body, source, country, published, url, path, authors) = row
    return Article(id=id_, title=title, body=body, source=source, country=country,
                   published=published, url=url, path=path, authors=tuple(authors))


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
