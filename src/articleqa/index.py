"""ArticleIndex, the facade: open an index folder, ingest articles, remove them, report on it.

Searching and asking are delegated to :func:`articleqa.retrieval.search` and
:func:`articleqa.asking.ask_stream`; ingest reads (:mod:`articleqa.readers`), cuts
(:mod:`articleqa.chunking`), embeds (:mod:`articleqa.embedding`) and stores: in a folder
(:mod:`articleqa.store`) or a PostgreSQL database (:mod:`articleqa.pgstore`), chosen by the
location (:mod:`articleqa.storage`).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from articleqa import asking, coverage, retrieval, storage
from articleqa.answering import MAX_SENTENCES, Answer
from articleqa.batching import BatchingEncoder
from articleqa.chunking import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP_TOKENS, Chunk, chunk_article
from articleqa.coverage import Take
from articleqa.embedding import (
    DEFAULT_BACKEND,
    DEFAULT_MODEL,
    Encoder,
    backends_compatible,
    canonical_model_name,
    check_backend,
    load_encoder,
    preferred_backend,
)
from articleqa.errors import (
    ArticleNotFoundError,
    ArticleQAError,
    ArticleReadError,
    IndexMismatchError,
)
from articleqa.filters import Filters, parse_filters
from articleqa.lexical import passage_for_embedding
from articleqa.llm import LLMConfig, llm_config_from_env
from articleqa.readers import Article, iter_article_files, read_articles
from articleqa.readers.decoding import DEFAULT_MAX_FILE_BYTES
from articleqa.retrieval import DEFAULT_MODE, DEFAULT_PER_ARTICLE, Hit
from articleqa.storage import Store
from articleqa.store import Manifest

#: Passages embedded and committed together; a crash loses at most one such batch of work.
COMMIT_PASSAGES = 2048
#: The smallest passage budget a very long headline can leave.
MIN_PASSAGE_TOKENS = 32


class _FromEnvironment:
    def __repr__(self) -> str:
        return "FROM_ENVIRONMENT"


#: ``ArticleIndex.open(llm=...)``'s default: the model the ``ARTICLEQA_LLM_*`` variables set.
FROM_ENVIRONMENT = _FromEnvironment()


def default_index_path() -> Path | str:
    """``$ARTICLEQA_INDEX`` (a folder, or a ``postgresql://`` URL), or ``./embeddings``."""
    location = os.environ.get("ARTICLEQA_INDEX") or "embeddings"
    return location if storage.is_database_url(location) else Path(location)


@dataclass
class IngestReport:
    """What an ingest did.

    Attributes:
        added: Ids of the articles newly stored.
        unchanged: Ids of the articles that were already stored (nothing embedded for them).
        updated: Ids of stored articles given fields they lacked (outlet, country, date,
            address: from ``source=``/``country=`` or the file), without embedding again.
        removed: Ids of the articles removed because their file changed or no longer holds them.
        duplicates: ``(path, article_id)`` of articles read twice in this ingest (stored once).
        failed: ``(path, reason)`` of files or records that could not be read.
        warnings: ``(path, message)`` of what was stored with a loss (an unreadable date: the
            article is stored undated).
        passages: Passages embedded.
        seconds: Wall time of the ingest.
    """

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.unchanged)} unchanged"]
        if self.updated:
            parts.append(f"{len(self.updated)} updated")
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicates")
        parts.append(f"{len(self.failed)} failed")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning" + "s" * (len(self.warnings) != 1))
        passages = "1 passage" if self.passages == 1 else f"{self.passages} passages"
        return f"{', '.join(parts)}; {passages} embedded in {self.seconds:.1f}s"


class ArticleIndex:
    """A searchable collection of news articles, kept in a folder on disk or in PostgreSQL.

    Open one with :meth:`open`. Any number of processes may search an index while one process
    (in PostgreSQL: several) ingests into it; searches see each ingest batch once it has
    committed. Threads may share one ArticleIndex: searches and answers run side by side
    (the questions of callers who ask at the same time are encoded in one call, see
    :mod:`articleqa.batching`), and an ingest on the same object commits while they run; its
    embedding then competes with them for the cores (ingest through a second object, opened
    on the same folder, to keep its encoder apart).
    """

    def __init__(self, store: Store, encoder: Encoder | None = None, *,
                 backend: str | None = None, llm: LLMConfig | None = None,
                 llm_problem: str | None = None) -> None:
        self._store = store
        self._encoder = encoder
        self._backend = backend or preferred_backend(store.manifest.backend)
        self._encoder_lock = threading.Lock()
        self._batching: BatchingEncoder | None = None
        self._llm = llm
        self._llm_problem = llm_problem
        if encoder is not None:
            _check_encoder(store, encoder)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        model: str | None = None,
        backend: str | None = None,
        encoder: Encoder | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
        create: bool = True,
        llm: LLMConfig | None | _FromEnvironment = FROM_ENVIRONMENT,
    ) -> ArticleIndex:
        """Opens the index in ``path``, creating an empty one there if the folder is new.

        Args:
            path: The index folder, or a PostgreSQL database with pgvector as a
                ``postgresql://user@host:port/dbname`` URL (what the URL leaves out, password
                included, comes from the ``PG*`` environment variables and ``~/.pgpass``);
                ``$ARTICLEQA_INDEX`` or ``./embeddings`` by default.
            model: Embedding model name or folder. A new index uses it (the default model when
                None); an existing index must have been built with it (None: whatever it was
                built with).
            backend: What computes the vectors: ``"openvino"`` (the default for a new index),
                ``"onnx-int8"``, ``"onnx"`` or ``"torch"`` (see :mod:`articleqa.embedding`). An
                existing index is searched and extended only by backends whose vectors match
                those it was built with (None: the fastest of those).
            encoder: An encoder object to use instead of loading ``model`` (tests use a fake).
            max_tokens: Passage budget in tokens, for a new index (an existing one keeps its own).
                The headline embedded in front of each passage shortens it to what the model
                reads.
            overlap_tokens: Tokens of whole sentences a passage repeats from the one before it,
                for a new index (an existing one keeps its own).
            create: When False, a missing index is an error instead of being created.
            llm: The language model that writes the replies of :meth:`ask`: an
                :class:`~articleqa.llm.LLMConfig`, or None to quote the articles. By default,
                the one ``ARTICLEQA_LLM_URL`` (and ``ARTICLEQA_LLM_MODEL``,
                ``ARTICLEQA_LLM_API_KEY``, ``ARTICLEQA_LLM_TIMEOUT``) set, read here once; a
                malformed setting does not stop the index from opening, and each answer's
                ``notice`` names it.

        Raises:
            IndexNotFoundError: If there is no index and ``create`` is False.
            IndexMismatchError: If the index was built with another model or format version,
                or with a backend whose vectors differ from ``backend``'s.
            ValueError: If ``backend`` is unknown.
            IndexCorruptError: If the index files are damaged.
            IndexReadOnlyError: If the folder is new and cannot be written. (An existing index
                on read-only media opens for searching; writing it raises this error.)
            ModelLoadError: If the model cannot be loaded from this machine.
            StoreUnavailableError: If the database cannot be reached or lacks pgvector.
        """
        location = path if path is not None else default_index_path()
        if not storage.is_database_url(location):
            location = Path(location)
        llm_problem = None
        if isinstance(llm, _FromEnvironment):
            try:
                llm = llm_config_from_env()
            except ValueError as error:  # a malformed setting must not stop the answers
                llm, llm_problem = None, str(error)
        if backend is not None:
            check_backend(backend)
        wanted = encoder.name if encoder is not None else model
        if create and not storage.index_exists(location):
            encoder = encoder or load_encoder(model or DEFAULT_MODEL, backend or DEFAULT_BACKEND)
            manifest = Manifest(encoder.name, encoder.dimension, max_tokens, overlap_tokens,
                                backend=encoder.backend)
            store = storage.create_store(location, manifest)
        else:
            store = storage.open_store(location)
        if wanted is not None and canonical_model_name(wanted) != store.manifest.model:
            store.close()
            raise IndexMismatchError(
                f"{store.location} was built with the embedding model {store.manifest.model!r}, "
                f"not {wanted!r}. Open it without choosing a model, or build a new index with "
                f"{wanted!r}: `articleqa ingest --index NEW_FOLDER --model {wanted} ARTICLES...`"
            )
        if backend is not None and not backends_compatible(store.manifest.backend, backend):
            store.close()
            raise IndexMismatchError(
                _backend_mismatch(store.location, store.manifest.backend, backend))
        try:
            return cls(store, encoder, backend=backend, llm=llm, llm_problem=llm_problem)
        except BaseException:
            store.close()
            raise

    @property
    def path(self) -> Path | str:
        """The index folder, or the database URL it was opened with."""
        return self._store.path

    @property
    def location(self) -> str:
        """Where the index is, fit to show (a database URL without its password)."""
        return self._store.location

    @property
    def encoder(self) -> Encoder:
        """The embedding model, loaded on first use."""
        with self._encoder_lock:
            if self._encoder is None:
                encoder = load_encoder(self._store.manifest.model, self._backend)
                _check_encoder(self._store, encoder)
                self._encoder = encoder
            return self._encoder

    @property
    def _question_encoder(self) -> BatchingEncoder:
        """The encoder behind a queue that encodes concurrent questions together (searches
        and answers; an ingest's large batches use :attr:`encoder` directly)."""
        encoder = self.encoder
        with self._encoder_lock:
            if self._batching is None:
                self._batching = BatchingEncoder(encoder)
            return self._batching

    @property
    def llm(self) -> LLMConfig | None:
        """The language model that writes replies (see :meth:`open`); None to quote them."""
        return self._llm

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> ArticleIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ingest --------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
        *,
        source: str | None = None,
        country: str | None = None,
        today: dt.date | None = None,
        progress: bool | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> IngestReport:
        """Reads article files and folders (recursively) and adds what is new or changed.

        Articles already stored are not embedded again, but get the outlet, country, date and
        address they lack from ``source``, ``country`` or the file (``report.updated``). When a
        file that was ingested before now holds other articles (it was edited), the articles it
        no longer holds are removed unless another file still holds them; a file with a record
        that cannot be read removes nothing until it reads cleanly. Files that cannot be read
        (whatever the reason) are reported in ``failed`` and the others are still added; only
        regular files are read, each of at most ``max_file_bytes``.

        Args:
            paths: Files and folders.
            source: Outlet for articles whose file does not name one (e.g. ``"BBC News"``).
            country: Country for articles whose file does not name one.
            today: The day of ingestion, used to place year-less dates; today by default.
            progress: Show a progress bar; by default only when stderr is a terminal.
            max_file_bytes: The largest file read (64 MiB by default); a larger one fails
                with a message.

        Returns:
            What was added, unchanged, updated, removed and failed, and the warnings.

        Raises:
            ValueError: If ``max_file_bytes`` is not a whole number of bytes, 1 or more.
            IndexReadOnlyError: If the index folder cannot be written.
            IndexCorruptError: If the index is damaged (``check`` lists what).
        """
        started = time.perf_counter()
        if isinstance(max_file_bytes, bool) or not isinstance(max_file_bytes, int) \
                or max_file_bytes < 1:
            raise ValueError(f"max_file_bytes={max_file_bytes!r} must be a whole number of "
                             "bytes, 1 or more")
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        report = IngestReport()
        if progress is None:
            progress = sys.stderr.isatty()
        files = list(iter_article_files(paths))

        from tqdm import tqdm  # only ingest needs it: searches start sooner

        bar = tqdm(total=len(files), unit="file", desc="ingest", disable=not progress)
        with self._store.writing(), bar:
            read_ok: dict[str, set[str]] = {}
            pending: list[tuple[Article, list[Chunk], str]] = []
            seen: set[str] = set()
            fills: list[Article] = []  # known articles, with what they may fill in
            for path, problem in files:
                bar.update(1)
                if problem is not None:
                    report.failed.append((str(path), problem))
                    continue
                failures = len(report.failed)
                articles = self._read(path, today, max_file_bytes, report)
                if articles is None:
                    continue
                file = str(path.resolve())  # one key per file, however it was spelled
                if len(report.failed) == failures:  # a file with bad records drops nothing
                    read_ok[file] = {a.id for a in articles}
                known = self._store.known_article_ids(a.id for a in articles)
                links = []
                for article in articles:
                    if article.id in seen:
                        report.duplicates.append((article.path or str(path), article.id))
                        links.append((file, article.id))
                    elif article.id in known:
                        report.unchanged.append(article.id)
                        links.append((file, article.id))
                        fills.append(_fill(article, source=source, country=country))
                    else:
                        filled = _fill(article, source=source, country=country)
                        try:
                            chunks = self._chunk(filled)
                        except ArticleQAError:  # the model cannot load: no article can be cut
                            raise
                        except Exception as error:  # noqa: BLE001 - this article's failure
                            report.failed.append((article.path or str(path), "cannot cut into "
                                                  f"passages ({type(error).__name__}: "
                                                  f"{str(error)[:200] or 'no details'})"))
                            continue
                        pending.append((filled, chunks, file))
                    seen.add(article.id)
                if links:
                    self._store.link_files(links)
                if len(fills) >= COMMIT_PASSAGES:  # one transaction for many files
                    report.updated.extend(self._store.fill_missing(fills))
                    fills = []
                if sum(len(chunks) for _, chunks, _ in pending) >= COMMIT_PASSAGES:
                    self._commit(pending, report)
                    bar.set_postfix(passages=report.passages)
                    pending = []
            self._commit(pending, report)
            report.updated.extend(self._store.fill_missing(fills))
            for path, keep in read_ok.items():
                report.removed.extend(self._store.unlink_file(path, keep))
            self._store.compact()
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, article_id: str) -> None:
        """Removes an article and its passages.

        Raises:
            ArticleNotFoundError: If no article has that id.
            IndexReadOnlyError: If the index folder cannot be written.
        """
        with self._store.writing():
            if not self._store.remove([article_id]):
                raise ArticleNotFoundError(
                    f"no article with id {article_id!r} in {self.location}; "
                    f"`articleqa search --json` shows the ids of the articles it finds"
                )
            self._store.compact()

    def _chunk(self, article: Article) -> list[Chunk]:
        """The article's passages, each within the index's budget less what its headline
        takes of the model's input (headline and passage are embedded together; the model
        cuts what does not fit)."""
        manifest = self._store.manifest
        room = self.encoder.max_tokens - 2 - self.encoder.count_tokens([article.title])[0]
        budget = max(MIN_PASSAGE_TOKENS, min(manifest.max_tokens, room))
        overlap = min(manifest.overlap_tokens, budget // 2 - 1)
        return chunk_article(article, self.encoder.count_tokens, budget, max(0, overlap))

    def _read(self, path: Path, today: dt.date | None, max_bytes: int, report: IngestReport
              ) -> list[Article] | None:
        warnings: list[tuple[str, str]] = []
        try:
            articles, errors = read_articles(path, today=today, max_bytes=max_bytes,
                                             warnings=warnings)
        except ArticleReadError as error:
            report.failed.append((error.path, error.reason))
            return None
        except OSError as error:
            report.failed.append((str(path), f"cannot read the file: {error.strerror or error}"))
            return None
        except Exception as error:  # noqa: BLE001 - RecursionError, MemoryError, a bug
            # A reader's bug or an input no reader foresaw must cost only this file.
            report.failed.append((str(path), f"cannot read the file ({type(error).__name__}: "
                                              f"{str(error)[:200] or 'no details'})"))
            return None
        report.failed.extend((e.path, e.reason) for e in errors)
        report.warnings.extend(warnings)
        return articles

    def _commit(self, pending: list[tuple[Article, list[Chunk], str]],
                report: IngestReport) -> None:
        if not pending:
            return
        chunks = [chunk for _, article_chunks, _ in pending for chunk in article_chunks]
        titles = {article.id: article.title for article, _, _ in pending}
        vectors = self.encoder.encode([passage_for_embedding(titles[c.article_id], c.text)
                                       for c in chunks])
        stored = set(self._store.add(
            [article for article, _, _ in pending],
            chunks,
            vectors,
            files=[(path, article.id) for article, _, path in pending],
        ))
        # An article another writer stored meanwhile (a database shared by several ingests)
        # was left as it was, and its file linked to it: it is unchanged.
        report.added.extend(article.id for article, _, _ in pending if article.id in stored)
        report.unchanged.extend(article.id for article, _, _ in pending
                                if article.id not in stored)
        report.passages += len(chunks)

    # -- search and ask -------------------------------------------------------------------

    def search(
        self,
        questions: Iterable[str],
        k: int = 5,
        *,
        filters: Mapping[str, object] | Filters | None = None,
        mode: str = DEFAULT_MODE,
        per_article: int | None = DEFAULT_PER_ARTICLE,
        as_of: dt.date | str | None = None,
    ) -> list[list[Hit]]:
        """The ``k`` best passages for each question, best first.

        Questions are encoded and searched in batches. Fewer than ``k`` hits come back when
        fewer passages match. Each hit's ``score`` is the cosine similarity of question and
        passage whatever the mode; the order comes from the mode.

        Args:
            questions: Any iterable of questions (a list, a generator, a file's lines).
            k: Passages per question.
            filters: Restrict to articles matching all of ``source``, ``country``, ``since``,
                ``until`` (ISO dates, inclusive) and ``article_id`` (one id or a list), as a
                mapping or a :class:`~articleqa.filters.Filters`. The filters apply inside
                retrieval: the hits are the best ``k`` that match.
            mode: ``"hybrid"`` (dense and BM25 fused by reciprocal rank), ``"dense"`` or
                ``"bm25"``.
            per_article: At most this many passages of one article (None: no limit).
            as_of: The day the questions are asked (a date or ``YYYY-MM-DD``; today when
                None). Time words in a question ("this week", "yesterday", "in March",
                "since 2024", "the latest") are counted from it and limit the search to
                articles published then (undated articles are left out; when no article is
                dated then, articles of any date are searched, the time words as words); a
                question without them ranks recent articles a little higher, and leaves none
                out.

        Returns:
            One list of hits per question, in the order of the questions.

        Raises:
            ValueError: If a question is empty, not a string or not valid Unicode (a lone
                surrogate), ``k`` < 1, ``mode`` or ``per_article`` is invalid, a filter is
                unknown or malformed, or ``as_of`` is not a date.
            IndexCorruptError: If a file the search reads is damaged; the message names it.
        """
        return retrieval.search(self._store, self._question_encoder, questions, k,
                                filters=parse_filters(filters), mode=mode,
                                per_article=per_article, as_of=as_of)

    def search_one(self, question: str, k: int = 5, **options: object) -> list[Hit]:
        """``search([question], k, **options)[0]``."""
        return self.search([question], k, **options)[0]

    def ask(
        self,
        question: str,
        history: Sequence[Mapping[str, object]] | None = None,
        *,
        k: int = asking.ANSWER_PASSAGES,
        filters: Mapping[str, object] | Filters | None = None,
        max_sentences: int = MAX_SENTENCES,
        as_of: dt.date | str | None = None,
    ) -> Answer:
        """Answers a question from the articles, quoting them with ``[n]`` citations.

        Args:
            question: The question.
            history: The conversation so far, as Gradio chat messages
                (``[{"role": "user", "content": ...}, {"role": "assistant", ...}]``); used to
                resolve follow-ups such as "What did he say about ...?".
            k: Passages to retrieve and quote from.
            filters: As for :meth:`search`.
            max_sentences: At most this many quoted sentences.
            as_of: The day the question is asked, as for :meth:`search`; the window its time
                words set is ``answer.window`` (``answer.undated_skipped`` counts the undated
                articles it left out; ``answer.widened`` is True when no article is dated in
                it and articles of any date were searched; ``answer.window_note()`` says so).

        Returns:
            The answer; ``answer.answered`` is False when the articles do not answer.

        Raises:
            ValueError: If the question is empty or not valid Unicode, ``k`` or a filter is
                invalid, or ``as_of`` is not a date.
            IndexCorruptError: If a file the answer reads is damaged; the message names it.
        """
        *_, final = self.ask_stream(question, history, k=k, filters=filters,
                                    max_sentences=max_sentences, as_of=as_of)
        return final

    def ask_stream(
        self,
        question: str,
        history: Sequence[Mapping[str, object]] | None = None,
        *,
        k: int = asking.ANSWER_PASSAGES,
        filters: Mapping[str, object] | Filters | None = None,
        max_sentences: int = MAX_SENTENCES,
        as_of: dt.date | str | None = None,
    ) -> Iterator[Answer]:
        """:meth:`ask`, as a stream of growing answers for a chat page; the last is complete.

        When a language model is set (see :meth:`open`), it writes the reply from the retrieved
        passages only, its citations checked against them; when none is set or it fails, the
        extractive answer is given and ``answer.notice`` says why.
        """
        return asking.ask_stream(self._store, self._question_encoder, question, history, k=k,
                                 filters=parse_filters(filters), max_sentences=max_sentences,
                                 llm=self._llm, llm_problem=self._llm_problem, as_of=as_of)

    def coverage(self, article_id: str, k: int = 5) -> list[Take]:
        """Other outlets' takes: up to ``k`` articles of other outlets that tell the same event
        as the article ``article_id``, best first.

        Same event means close headlines and ledes and shared names, published within
        :data:`~articleqa.coverage.COVERAGE_DAYS` days of each other (see
        :mod:`articleqa.coverage`); a story of another event on the same topic is left out.
        Each :class:`~articleqa.coverage.Take` has the ``article`` (``outlet``, ``country``
        and ``published`` too) and a ``similarity``.

        Raises:
            ArticleNotFoundError: If no article has that id.
            ValueError: If ``k`` < 1.
        """
        return coverage.coverage(self._store, article_id, k)

    # -- status --------------------------------------------------------------------------

    def info(self) -> dict[str, object]:
        """Counts, model, size on disk, outlets, countries and dates of the index."""
        manifest = self._store.manifest
        facets = self._store.facets()
        return {
            "path": self.location,
            "model": manifest.model,
            "backend": manifest.backend,
            "dimension": manifest.dimension,
            "max_tokens": manifest.max_tokens,
            "overlap_tokens": manifest.overlap_tokens,
            "format_version": manifest.format_version,
            "created": manifest.created,
            "last_ingest": self._store.meta("last_ingest"),
            **self._store.counts(),
            "size_bytes": self._store.size_bytes(),
            **facets,
        }

    def check(self) -> list[str]:
        """Checks the whole index (see :meth:`articleqa.store.IndexStore.check`): SQLite
        integrity, segment checksums, vectors and BM25 rows against passages, orphans, and
        every article's text against its id.

        Returns:
            What is wrong, one line each; empty when the index is sound.
        """
        return self._store.check()

    def copy_to(self, location: str | os.PathLike[str]) -> int:
        """Copies the index, vectors included, to a folder or a PostgreSQL database (see
        :func:`articleqa.storage.copy_index`); returns the number of articles copied."""
        return storage.copy_index(self._store, location)

    def article_paths(self, article_id: str) -> list[str]:
        """Every file the article was read from (the same article under several names)."""
        return self._store.files_of_article(article_id)

    def article(self, article_id: str) -> Article:
        """The stored article with this id.

        Raises:
            ArticleNotFoundError: If no article has that id.
        """
        article = self._store.article(article_id)
        if article is None:
            raise ArticleNotFoundError(f"no article with id {article_id!r} in {self.location}")
        return article


def _check_encoder(store: Store, encoder: Encoder) -> None:
    manifest = store.manifest
    if encoder.name != manifest.model or encoder.dimension != manifest.dimension:
        raise IndexMismatchError(
            f"{store.location} was built with {manifest.model!r} ({manifest.dimension} "
            f"dimensions); the encoder is {encoder.name!r} ({encoder.dimension} dimensions). "
            f"Open it with the model it was built with, or ingest the articles into a new folder"
        )
    if not backends_compatible(manifest.backend, encoder.backend):
        raise IndexMismatchError(_backend_mismatch(store.path, manifest.backend, encoder.backend))


def _backend_mismatch(location: str, recorded: str, used: str) -> str:
    return (
        f"{location} was built with the {recorded!r} encoder backend, whose vectors differ from "
        f"those of {used!r}: searching it with them would rank passages wrongly. Open it with "
        f"backend {preferred_backend(recorded)!r} (or choose none: `--encoder-backend` left "
        f"out), or build a new index with {used!r}: `articleqa ingest --index NEW_FOLDER "
        f"--encoder-backend {used} ARTICLES...`"
    )


def _fill(article: Article, *, source: str | None, country: str | None) -> Article:
    return replace(article, source=article.source or source, country=article.country or country)
