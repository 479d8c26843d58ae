"""What :class:`~articleqa.index.ArticleIndex` needs from the place its index is kept, and how
a location picks one.

Two stores implement :class:`Store`: the index folder (:class:`articleqa.store.IndexStore`,
SQLite + FAISS segments, the embedded default for one machine) and a PostgreSQL database with
pgvector (:class:`articleqa.pgstore.PostgresStore`, for several app servers and ingest workers
at once). A location that is a ``postgresql://`` (or ``postgres://``) URL selects the database;
anything else is a folder. Both pass the same contract tests (``tests/test_store_contract.py``).

Passages are named by an integer id the store gives them (the FAISS id of the folder store, an
identity column in PostgreSQL); searches return those ids and :meth:`Store.records` turns them
into passages with their articles.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import numpy as np

from articleqa.chunking import Chunk
from articleqa.errors import IndexMismatchError
from articleqa.filters import Filters
from articleqa.readers.article import Article
from articleqa.store import Batch, ChunkRecord, IndexStore, Manifest

#: The URL schemes that select the PostgreSQL store.
DATABASE_SCHEMES = ("postgresql://", "postgres://")


class Store(Protocol):
    """An index's articles, passages, vectors and manifest (see the module docstring).

    Every method may be called from several threads; a store serialises what must be.
    """

    manifest: Manifest
    #: Where the index is, as given to :func:`open_store` (a folder, or the database URL).
    path: Path | str

    @property
    def location(self) -> str:
        """Where the index is, fit to show (a database URL without its password)."""

    def close(self) -> None: ...

    # -- writing
    def writing(self) -> AbstractContextManager[None]:
        """Held by an ingest or a removal while it writes (the folder store admits one writer
        at a time; the database admits many)."""

    def add(self, articles: Sequence[Article], chunks: Sequence[Chunk], vectors: np.ndarray,
            files: Sequence[tuple[str, str]] = ()) -> list[str]:
        """Stores articles with their passages (``vectors[i]`` is ``chunks[i]``'s) and links
        them to the ``(path, article_id)`` files they were read from, in one transaction.

        Returns:
            The ids of the articles stored by this call; an article another writer stored
            meanwhile is left as it is (and not returned).
        """

    def link_files(self, files: Sequence[tuple[str, str]]) -> None:
        """Records that stored articles were (also) read from these ``(path, article_id)``."""

    def unlink_file(self, path: str, keep: set[str]) -> list[str]:
        """Forgets the articles ``path`` no longer holds; removes (and returns) those no file
        holds."""

    def remove(self, article_ids: Sequence[str]) -> list[str]:
        """Deletes articles with their passages; returns the ids that were stored."""

    def compact(self) -> None:
        """Tidies after writes (the folder store merges segments); may do nothing."""

    def fill_missing(self, articles: Sequence[Article]) -> list[str]:
        """Gives stored articles (same ids) the outlet, country, date and address they lack,
        without embedding again; returns the ids of those that gained a field."""

    # -- reading
    def known_article_ids(self, ids: Iterable[str]) -> set[str]: ...

    def article(self, article_id: str) -> Article | None: ...

    def files_of_article(self, article_id: str) -> list[str]: ...

    def records(self, vector_ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """The passages (with their articles) of these ids; ids no longer stored are absent."""

    def article_ids_of(self, vector_ids: Iterable[int]) -> dict[int, str]: ...

    def vectors(self, vector_ids: Sequence[int]) -> np.ndarray:
        """The stored vectors, one row per id (zeros for an id no longer stored)."""

    def dense_search(self, queries: np.ndarray, k: int, filters: Filters | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` passages of largest inner product with each query row that match
        ``filters``: ``(scores, vector_ids)``, both ``(len(queries), columns)``, best first,
        with no more than ``k`` columns nor many more than there are passages; a row short of
        results is padded with id -1 and score -inf."""

    def lexical_search(self, question: str, k: int, filters: Filters | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best full-text matches of a question among the passages that match
        ``filters``: ``(scores, vector_ids)``, best first (higher is better); empty when the
        question shares no term with any passage."""

    def rarities(self, terms: Iterable[str]) -> dict[str, float]:
        """``log((passages + 1) / (passages holding the term + 1))`` of each lexical term,
        all read from one committed state."""

    def holding(self, terms: Iterable[str]) -> dict[str, int]:
        """The passages holding each lexical term, all read from one committed state."""

    def export(self, size: int = 256) -> Iterator[Batch]:
        """Every stored article with its passages, vectors and files, ``size`` articles at a
        time, as :meth:`add` takes them."""

    def facets(self) -> dict[str, object]:
        """``sources``, ``countries`` and the ``published`` (first, last) span."""

    def counts(self) -> dict[str, int]:
        """At least ``articles`` and ``passages``."""

    def meta(self, key: str) -> str | None:
        """Bookkeeping values; ``last_ingest`` is the time of the last write."""

    def size_bytes(self) -> int: ...

    def published_of(self, vector_ids: Iterable[int]) -> dict[int, dt.date | None]:
        """The publication day of the article of each live passage (None: undated)."""

    def lead_passages(self, filters: Filters) -> list[tuple[str, int, str | None]]:
        """``(article id, vector id, outlet)`` of the first passage of every matching
        article."""

    def undated_count(self, filters: Filters) -> int:
        """Articles matching ``filters`` other than their dates that have no date."""

    def check(self) -> list[str]:
        """What is wrong with the stored index, one line each; empty when sound."""


def is_database_url(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names a PostgreSQL database rather than a folder."""
    return isinstance(location, str) and location.lower().startswith(DATABASE_SCHEMES)


def index_exists(location: str | os.PathLike[str]) -> bool:
    """Whether an index is kept at ``location`` (a database: whether it holds a manifest).

    Raises:
        StoreUnavailableError: If the database cannot be reached.
    """
    if is_database_url(location):
        from articleqa.pgstore import PostgresStore

        return PostgresStore.exists(str(location))
    return (Path(location) / "manifest.json").exists()


def open_store(location: str | os.PathLike[str]) -> Store:
    """Opens the index at ``location`` and checks its manifest.

    Raises:
        IndexNotFoundError: If there is no index there.
        IndexMismatchError: If it was written by an incompatible format version.
        IndexCorruptError: If it is damaged.
        StoreUnavailableError: If the database cannot be reached.
    """
    if is_database_url(location):
        from articleqa.pgstore import PostgresStore

        return PostgresStore.open(str(location))
    return IndexStore.open(location)


def create_store(location: str | os.PathLike[str], manifest: Manifest) -> Store:
    """Creates an empty index at ``location`` (a database that another process has just made an
    index in is opened instead, and its manifest checked)."""
    if is_database_url(location):
        from articleqa.pgstore import PostgresStore

        return PostgresStore.create(str(location), manifest)
    return IndexStore.create(location, manifest)


def copy_index(source: Store, location: str | os.PathLike[str],
               progress: Callable[[int], None] | None = None) -> int:
    """Copies every article of ``source``, with its passages, vectors and files, into the index
    at ``location`` (created with the source's manifest when there is none), embedding nothing:
    how a folder index moves to PostgreSQL, or a database is kept as a folder. Articles the
    target already holds are left as they are.

    Args:
        source: The index to copy.
        location: A folder or a database URL.
        progress: Called with the number of articles copied after each batch.

    Returns:
        The number of articles copied.

    Raises:
        IndexMismatchError: If the target holds an index of another model or passage size.
    """
    if index_exists(location):
        target = open_store(location)
    else:
        target = create_store(location, source.manifest)
    try:
        mine, theirs = source.manifest, target.manifest
        differ = [name for name in ("model", "dimension", "max_tokens", "overlap_tokens")
                  if getattr(mine, name) != getattr(theirs, name)]
        if differ:
            raise IndexMismatchError(
                f"{target.location} holds an index whose {', '.join(differ)} differ from "
                f"{source.location}'s; copy into a new folder or an empty database"
            )
        copied = 0
        with target.writing():
            for batch in source.export():
                known = target.known_article_ids(a.id for a in batch.articles)
                keep = [i for i, chunk in enumerate(batch.chunks) if chunk.article_id not in known]
                copied += len(target.add([a for a in batch.articles if a.id not in known],
                                         [batch.chunks[i] for i in keep], batch.vectors[keep],
                                         files=batch.files))
                if progress is not None:
                    progress(copied)
            target.compact()
    finally:
        target.close()
    return copied
