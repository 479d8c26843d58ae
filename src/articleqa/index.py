"""ArticleIndex, the facade: open an index folder, ingest articles, remove them, report on it.

Searching and asking are delegated to :func:`articleqa.retrieval.search` and
:func:`articleqa.asking.ask_stream`; ingest reads (:mod:`articleqa.readers`), cuts
(:mod:`articleqa.chunking`), embeds (:mod:`articleqa.embedding`) and stores
(:mod:`articleqa.store`).
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

from articleqa import asking, retrieval
from articleqa.answering import MAX_SENTENCES, Answer
from articleqa.chunking import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP_TOKENS, Chunk, chunk_article
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
from articleqa.errors import ArticleNotFoundError, ArticleReadError, IndexMismatchError
from articleqa.filters import Filters, parse_filters
from articleqa.lexical import passage_for_embedding
from articleqa.llm import LLMConfig, llm_config_from_env
from articleqa.readers import Article, iter_article_files, read_articles
from articleqa.retrieval import DEFAULT_MODE, DEFAULT_PER_ARTICLE, Hit
from articleqa.store import IndexStore, Manifest

#: Passages embedded and committed together; a crash loses at most one such batch of work.
COMMIT_PASSAGES = 2048
#: The smallest passage budget a very long headline can leave.
MIN_PASSAGE_TOKENS = 32


class _FromEnvironment:
    def __repr__(self) -> str:
        return "FROM_ENVIRONMENT"


#: ``ArticleIndex.open(llm=...)``'s default: the model the ``ARTICLEQA_LLM_*`` variables set.
FROM_ENVIRONMENT = _FromEnvironment()


def default_index_path() -> Path:
    """``$ARTICLEQA_INDEX``, or ``./embeddings``."""
    return Path(os.environ.get("ARTICLEQA_INDEX") or "embeddings")


@dataclass
class IngestReport:
    """What an ingest did.

    Attributes:
        added: Ids of the articles newly stored.
        unchanged: Ids of the articles that were already stored (nothing embedded for them).
        removed: Ids of the articles removed because their file changed or no longer holds them.
        duplicates: ``(path, article_id)`` of articles read twice in this ingest (stored once).
        failed: ``(path, reason)`` of files or records that could not be read.
        passages: Passages embedded.
        seconds: Wall time of the ingest.
    """

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.unchanged)} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicates")
        parts.append(f"{len(self.failed)} failed")
        passages = "1 passage" if self.passages == 1 else f"{self.passages} passages"
        return f"{', '.join(parts)}; {passages} embedded in {self.seconds:.1f}s"


class ArticleIndex:
    """A searchable collection of news articles, kept in a folder on disk.

    Open one with :meth:`open`. Any number of processes may search an index while one process
    ingests into it; searches see each ingest once it has committed. Threads may share one
    ArticleIndex: the store and the encoder each let one thread at a time use them, so a
    search waits at most for one batch of an ingest on the same object (ingest through a
    second object, opened on the same folder, to keep searches from waiting for embedding).
    """

    def __init__(self, store: IndexStore, encoder: Encoder | None = None, *,
                 backend: str | None = None, llm: LLMConfig | None = None,
                 llm_problem: str | None = None) -> None:
        self._store = store
        self._encoder = encoder
        self._backend = backend or preferred_backend(store.manifest.backend)
        self._encoder_lock = threading.Lock()
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
            path: The index folder; ``$ARTICLEQA_INDEX`` or ``./embeddings`` by default.
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
            ModelLoadError: If the model cannot be loaded from this machine.
        """
        folder = Path(path) if path is not None else default_index_path()
        llm_problem = None
        if isinstance(llm, _FromEnvironment):
            try:
                llm = llm_config_from_env()
            except ValueError as error:  # a malformed setting must not stop the answers
                llm, llm_problem = None, str(error)
        if backend is not None:
            check_backend(backend)
        wanted = encoder.name if encoder is not None else model
        if create and not (folder / "manifest.json").exists():
            encoder = encoder or load_encoder(model or DEFAULT_MODEL, backend or DEFAULT_BACKEND)
            manifest = Manifest(encoder.name, encoder.dimension, max_tokens, overlap_tokens,
                                backend=encoder.backend)
            return cls(IndexStore.create(folder, manifest), encoder, llm=llm,
                       llm_problem=llm_problem)
        store = IndexStore.open(folder)
        if wanted is not None and canonical_model_name(wanted) != store.manifest.model:
            store.close()
            raise IndexMismatchError(
                f"{folder} was built with the embedding model {store.manifest.model!r}, not "
                f"{wanted!r}. Open it without choosing a model, or build a new index with "
                f"{wanted!r}: `articleqa ingest --index NEW_FOLDER --model {wanted} ARTICLES...`"
            )
        if backend is not None and not backends_compatible(store.manifest.backend, backend):
            store.close()
            raise IndexMismatchError(_backend_mismatch(folder, store.manifest.backend, backend))
        return cls(store, encoder, backend=backend, llm=llm, llm_problem=llm_problem)

    @property
    def path(self) -> Path:
        return self._store.path

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
    ) -> IngestReport:
        """Reads article files and folders (recursively) and adds what is new or changed.

        Articles already stored are not embedded again. When a file that was ingested before
        now holds other articles (it was edited), the articles it no longer holds are removed
        unless another file still holds them; a file with a record that cannot be read removes
        nothing until it reads cleanly. Files that cannot be read are reported in ``failed`` and
        the others are still added.

        Args:
            paths: Files and folders.
            source: Outlet for articles whose file does not name one (e.g. ``"BBC News"``).
            country: Country for articles whose file does not name one.
            today: The day of ingestion, used to place year-less dates; today by default.
            progress: Show a progress bar; by default only when stderr is a terminal.

        Returns:
            What was added, unchanged, removed and failed.
        """
        started = time.perf_counter()
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
            for path, problem in files:
                bar.update(1)
                if problem is not None:
                    report.failed.append((str(path), problem))
                    continue
                failures = len(report.failed)
                articles = self._read(path, today, report)
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
                    else:
                        filled = _fill(article, source=source, country=country)
                        chunks = self._chunk(filled)
                        pending.append((filled, chunks, file))
                    seen.add(article.id)
                if links:
                    self._store.link_files(links)
                if sum(len(chunks) for _, chunks, _ in pending) >= COMMIT_PASSAGES:
                    self._commit(pending, report)
                    bar.set_postfix(passages=report.passages)
                    pending = []
            self._commit(pending, report)
            for path, keep in read_ok.items():
                report.removed.extend(self._store.unlink_file(path, keep))
            self._store.merge_segments()
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, article_id: str) -> None:
        """Removes an article and its passages.

        Raises:
            ArticleNotFoundError: If no article has that id.
        """
        with self._store.writing():
            if not self._store.remove([article_id]):
                raise ArticleNotFoundError(
                    f"no article with id {article_id!r} in {self.path}; "
                    f"`articleqa search --json` shows the ids of the articles it finds"
                )
            self._store.merge_segments()

    def _chunk(self, article: Article) -> list[Chunk]:
        """The article's passages, each within the index's budget less what its headline
        takes of the model's input (headline and passage are embedded together; the model
        cuts what does not fit)."""
        manifest = self._store.manifest
        room = self.encoder.max_tokens - 2 - self.encoder.count_tokens([article.title])[0]
        budget = max(MIN_PASSAGE_TOKENS, min(manifest.max_tokens, room))
        overlap = min(manifest.overlap_tokens, budget // 2 - 1)
        return chunk_article(article, self.encoder.count_tokens, budget, max(0, overlap))

    def _read(self, path: Path, today: dt.date | None, report: IngestReport
              ) -> list[Article] | None:
        try:
            articles, errors = read_articles(path, today=today)
        except ArticleReadError as error:
            report.failed.append((error.path, error.reason))
            return None
        except OSError as error:
            report.failed.append((str(path), f"cannot read the file: {error.strerror or error}"))
            return None
        report.failed.extend((e.path, e.reason) for e in errors)
        return articles

    def _commit(self, pending: list[tuple[Article, list[Chunk], str]],
                report: IngestReport) -> None:
        if not pending:
            return
        chunks = [chunk for _, article_chunks, _ in pending for chunk in article_chunks]
        titles = {article.id: article.title for article, _, _ in pending}
        vectors = self.encoder.encode([passage_for_embedding(titles[c.article_id], c.text)
                                       for c in chunks])
        self._store.add(
            [article for article, _, _ in pending],
            chunks,
            vectors,
            files=[(path, article.id) for article, _, path in pending],
        )
        report.added.extend(article.id for article, _, _ in pending)
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

        Returns:
            One list of hits per question, in the order of the questions.

        Raises:
            ValueError: If a question is empty or not a string, ``k`` < 1, ``mode`` or
                ``per_article`` is invalid, or a filter is unknown or malformed.
        """
        return retrieval.search(self._store, self.encoder, questions, k,
                                filters=parse_filters(filters), mode=mode,
                                per_article=per_article)

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

        Returns:
            The answer; ``answer.answered`` is False when the articles do not answer.

        Raises:
            ValueError: If the question is empty, or ``k`` or a filter is invalid.
        """
        *_, final = self.ask_stream(question, history, k=k, filters=filters,
                                    max_sentences=max_sentences)
        return final

    def ask_stream(
        self,
        question: str,
        history: Sequence[Mapping[str, object]] | None = None,
        *,
        k: int = asking.ANSWER_PASSAGES,
        filters: Mapping[str, object] | Filters | None = None,
        max_sentences: int = MAX_SENTENCES,
    ) -> Iterator[Answer]:
        """:meth:`ask`, as a stream of growing answers for a chat page; the last is complete.

        When a language model is set (see :meth:`open`), it writes the reply from the retrieved
        passages only, its citations checked against them; when none is set or it fails, the
        extractive answer is given and ``answer.notice`` says why.
        """
        return asking.ask_stream(self._store, self.encoder, question, history, k=k,
                                 filters=parse_filters(filters), max_sentences=max_sentences,
                                 llm=self._llm, llm_problem=self._llm_problem)

    # -- status --------------------------------------------------------------------------

    def info(self) -> dict[str, object]:
        """Counts, model, size on disk, outlets, countries and dates of the index."""
        manifest = self._store.manifest
        facets = self._store.facets()
        return {
            "path": str(self.path),
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
            raise ArticleNotFoundError(f"no article with id {article_id!r} in {self.path}")
        return article


def _check_encoder(store: IndexStore, encoder: Encoder) -> None:
    manifest = store.manifest
    if encoder.name != manifest.model or encoder.dimension != manifest.dimension:
        raise IndexMismatchError(
            f"{store.path} was built with {manifest.model!r} ({manifest.dimension} dimensions); "
            f"the encoder is {encoder.name!r} ({encoder.dimension} dimensions). Open it with "
            f"the model it was built with, or ingest the articles into a new folder"
        )
    if not backends_compatible(manifest.backend, encoder.backend):
        raise IndexMismatchError(_backend_mismatch(store.path, manifest.backend, encoder.backend))


def _backend_mismatch(folder: Path, recorded: str, used: str) -> str:
    return (
        f"{folder} was built with the {recorded!r} encoder backend, whose vectors differ from "
        f"those of {used!r}: searching it with them would rank passages wrongly. Open it with "
        f"backend {preferred_backend(recorded)!r} (or choose none: `--encoder-backend` left "
        f"out), or build a new index with {used!r}: `articleqa ingest --index NEW_FOLDER "
        f"--encoder-backend {used} ARTICLES...`"
    )


def _fill(article: Article, *, source: str | None, country: str | None) -> Article:
    return replace(article, source=article.source or source, country=article.country or country)
