"""ArticleIndex: the public entry point. Ingest article files, search them in batches."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from articleqa.answering import Answer, build_answer, candidate_sentences, reveal
from articleqa.chat import resolve_follow_up
from articleqa.chunking import DEFAULT_MAX_TOKENS, Chunk, chunk_article
from articleqa.embedding import DEFAULT_MODEL, Encoder, canonical_model_name, load_encoder
from articleqa.errors import (
    ArticleNotFoundError,
    ArticleReadError,
    IndexMismatchError,
    LLMError,
)
from articleqa.llm import llm_answer_stream, llm_config_from_env
from articleqa.readers import Article, iter_article_files, read_articles
from articleqa.retrieval import MODES, Hit, limit_per_article, reciprocal_rank_fusion
from articleqa.store import ChunkRecord, Filters, IndexStore, Manifest

#: Passages embedded and committed together; a crash loses at most one such batch of work.
COMMIT_PASSAGES = 2048
#: Questions encoded and searched together.
QUERY_BATCH = 256
#: Candidates each retriever proposes per question (at least; 4 k when k is larger).
CANDIDATES = 50
DEFAULT_MODE = "hybrid"
DEFAULT_PER_ARTICLE = 3
#: The smallest passage budget a very long headline can leave.
MIN_PASSAGE_TOKENS = 32
#: Passages an answer is built from.
ANSWER_PASSAGES = 6


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
    ingests into it; searches see each ingest once it has committed.
    """

    def __init__(self, store: IndexStore, encoder: Encoder | None = None) -> None:
        self._store = store
        self._encoder = encoder
        if encoder is not None:
            _check_encoder(store, encoder)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        model: str | None = None,
        encoder: Encoder | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        create: bool = True,
    ) -> ArticleIndex:
        """Opens the index in ``path``, creating an empty one there if the folder is new.

        Args:
            path: The index folder; ``$ARTICLEQA_INDEX`` or ``./embeddings`` by default.
            model: Embedding model name or folder. A new index uses it (the default model when
                None); an existing index must have been built with it (None: whatever it was
                built with).
            encoder: An encoder object to use instead of loading ``model`` (tests use a fake).
            max_tokens: Passage budget in tokens, for a new index (an existing one keeps its own).
            create: When False, a missing index is an error instead of being created.

        Raises:
            IndexNotFoundError: If there is no index and ``create`` is False.
            IndexMismatchError: If the index was built with another model or format version.
            IndexCorruptError: If the index files are damaged.
            ModelLoadError: If the model cannot be loaded from this machine.
        """
        folder = Path(path) if path is not None else default_index_path()
        wanted = encoder.name if encoder is not None else model
        if create and not (folder / "manifest.json").exists():
            encoder = encoder or load_encoder(model or DEFAULT_MODEL)
            manifest = Manifest(encoder.name, encoder.dimension, max_tokens)
            return cls(IndexStore.create(folder, manifest), encoder)
        store = IndexStore.open(folder)
        if wanted is not None and canonical_model_name(wanted) != store.manifest.model:
            store.close()
            raise IndexMismatchError(
                f"{folder} was built with the embedding model {store.manifest.model!r}, not "
                f"{wanted!r}. Open it without choosing a model, or build a new index with "
                f"{wanted!r}: `articleqa ingest --index NEW_FOLDER --model {wanted} ARTICLES...`"
            )
        return cls(store, encoder)

    @property
    def path(self) -> Path:
        return self._store.path

    @property
    def encoder(self) -> Encoder:
        """The embedding model, loaded on first use."""
        if self._encoder is None:
            encoder = load_encoder(self._store.manifest.model)
            _check_encoder(self._store, encoder)
            self._encoder = encoder
        return self._encoder

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
                        chunks = chunk_article(filled, self.encoder.count_tokens,
                                               self._passage_budget(filled.title))
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

    def _passage_budget(self, title: str) -> int:
        """The index's passage budget, less what a long headline leaves of the model's input
        (headline and passage are embedded together; the model cuts what does not fit)."""
        room = self.encoder.max_tokens - 2 - self.encoder.count_tokens([title])[0]
        return max(MIN_PASSAGE_TOKENS, min(self._store.manifest.max_tokens, room))

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

    # -- search --------------------------------------------------------------------------

    def search(
        self,
        questions: Iterable[str],
        k: int = 5,
        *,
        filters: Mapping[str, object] | None = None,
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
                ``until`` (ISO dates, inclusive) and ``article_id`` (one id or a list). The
                filters apply inside retrieval: the hits are the best ``k`` that match.
            mode: ``"hybrid"`` (dense and BM25 fused by reciprocal rank), ``"dense"`` or
                ``"bm25"``.
            per_article: At most this many passages of one article (None: no limit).

        Returns:
            One list of hits per question, in the order of the questions.

        Raises:
            ValueError: If a question is empty or not a string, ``k`` < 1, ``mode`` or
                ``per_article`` is invalid, or a filter is unknown or malformed.
        """
        if isinstance(questions, str):
            raise ValueError("search() takes a list of questions; use search_one() for one")
        _check_k(k)
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not a retrieval mode; use one of {MODES}")
        if per_article is not None:
            _check_k(per_article, "per_article")
        wanted = parse_filters(filters)
        allowed = None if wanted.is_empty() else self._store.matching_vector_ids(wanted)
        results: list[list[Hit]] = []
        numbered = enumerate(questions, start=1)
        while batch := list(itertools.islice(numbered, QUERY_BATCH)):
            texts = [_check_question(question, number) for number, question in batch]
            results.extend(self._search_batch(texts, k, mode, per_article, wanted, allowed))
        return results

    def search_one(self, question: str, k: int = 5, **options: object) -> list[Hit]:
        """``search([question], k, **options)[0]``."""
        return self.search([question], k, **options)[0]

    def _search_batch(self, texts: list[str], k: int, mode: str, per_article: int | None,
                      wanted: Filters, allowed: np.ndarray | None) -> list[list[Hit]]:
        live = self._store.live_count() if allowed is None else len(allowed)
        # Each retriever proposes a pool of candidates, no deeper than there are passages.
        depth = min(live, max(CANDIDATES, 4 * k))
        if depth == 0:
            return [[] for _ in texts]
        queries = self.encoder.encode(texts)
        rankings: list[list[list[int]]] = [[] for _ in texts]
        cosine: list[dict[int, float]] = [{} for _ in texts]
        if mode in ("dense", "hybrid"):
            scores, ids = self._store.search(queries, depth, allowed)
            for row, (row_scores, row_ids) in enumerate(zip(scores, ids)):
                valid = row_ids >= 0
                rankings[row].append(row_ids[valid].tolist())
                cosine[row].update(zip(row_ids[valid].tolist(), row_scores[valid].tolist()))
        if mode in ("bm25", "hybrid"):
            for row, text in enumerate(texts):
                rankings[row].append(self._store.lexical_search(text, depth, wanted)[1].tolist())
        fused = [reciprocal_rank_fusion(lists) for lists in rankings]
        article_of = self._store.article_ids_of({i for order in fused for i in order})
        chosen = [limit_per_article(order, article_of, per_article, k) for order in fused]
        records = self._store.records(sorted({i for ids in chosen for i in ids}))
        results = []
        for query, known, ids in zip(queries, cosine, chosen):
            unscored = [i for i in ids if i not in known]
            if unscored:
                known.update(zip(unscored, (self._store.vectors(unscored) @ query).tolist()))
            results.append([_hit(records[i], known[i]) for i in ids if i in records])
        return results

    # -- answers -------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        history: Sequence[Mapping[str, object]] | None = None,
        *,
        k: int = ANSWER_PASSAGES,
        filters: Mapping[str, object] | None = None,
        max_sentences: int = 4,
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
        k: int = ANSWER_PASSAGES,
        filters: Mapping[str, object] | None = None,
        max_sentences: int = 4,
    ) -> Iterator[Answer]:
        """:meth:`ask`, as a stream of growing answers for a chat page; the last is complete.

        When ``ARTICLEQA_LLM_URL`` names an OpenAI-compatible chat endpoint, that model writes
        the reply from the retrieved passages only, its citations checked against them; when it
        is unset or fails, the extractive answer is given and ``answer.notice`` says why.
        """
        question = _check_question(question)
        follow = resolve_follow_up(question, history)
        hits = self.search([follow.question], k, filters=filters)[0]
        notice = None
        try:
            config = llm_config_from_env()
        except ValueError as error:  # a malformed setting must not stop the answer
            config, notice = None, f"{error}; the reply is quoted from the articles."
        if config is None:
            notice = notice or "Quoted from the articles (set ARTICLEQA_LLM_URL to have a " \
                "language model write replies)."
        elif hits:
            try:
                for partial in llm_answer_stream(config, follow.question, hits):
                    yield replace(partial, question=question, resolved_question=follow.question)
                return
            except LLMError as error:
                notice = f"{str(error)[:1].upper()}{str(error)[1:]}."
        sentences = candidate_sentences(hits)
        # "How much will it cost? (When does the PSP go on sale?)": the earlier question in
        # brackets steers the search; the sentences are scored against the question itself.
        scored_as = follow.question.removesuffix(f" ({follow.context})")
        similarities: Sequence[float] = []
        if sentences:
            vectors = self.encoder.encode([scored_as, *(
                passage_for_embedding(hits[s.hit].article.title, s.text) for s in sentences)])
            similarities = (vectors[1:] @ vectors[0]).tolist()
        answer = build_answer(
            question, hits, sentences, similarities, resolved_question=scored_as,
            exclude=follow.quoted if follow.wants_more else (), wants_more=follow.wants_more,
            rarity=self._store.rarity, max_sentences=max_sentences,
        )
        yield from reveal(replace(answer, resolved_question=follow.question, notice=notice))

    # -- status --------------------------------------------------------------------------

    def info(self) -> dict[str, object]:
        """Counts, model, size on disk, outlets, countries and dates of the index."""
        manifest = self._store.manifest
        facets = self._store.facets()
        return {
            "path": str(self.path),
            "model": manifest.model,
            "dimension": manifest.dimension,
            "max_tokens": manifest.max_tokens,
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


def _hit(record: ChunkRecord, score: float) -> Hit:
    chunk = record.chunk
    return Hit(chunk.id, chunk.text, score, chunk.start, chunk.end, record.article)


def passage_for_embedding(title: str, text: str) -> str:
    """What is embedded for a passage: the headline, then the passage."""
    return f"{title}\n{text}"


def parse_filters(filters: Mapping[str, object] | None) -> Filters:
    """Checks a filters mapping (see :meth:`ArticleIndex.search`) and returns a Filters.

    Raises:
        ValueError: For an unknown key or a malformed value.
    """
    if not filters:
        return Filters()
    known = {"source", "country", "since", "until", "article_id", "article_ids"}
    unknown = set(filters) - known
    if unknown:
        raise ValueError(f"unknown filter {sorted(unknown)}; use {sorted(known - {'article_ids'})}")
    values = {key: value for key, value in filters.items() if value not in (None, "")}
    ids = values.get("article_id", values.get("article_ids"))
    if isinstance(ids, str):
        ids = (ids,)
    if ids is not None and (not isinstance(ids, (list, tuple, set, frozenset))
                            or not all(isinstance(i, str) for i in ids)):
        raise ValueError(f"filter article_id={ids!r} must be an article id or a list of ids")
    return Filters(
        source=_text_filter(values, "source"),
        country=_text_filter(values, "country"),
        since=_date_filter(values, "since"),
        until=_date_filter(values, "until"),
        article_ids=tuple(ids) if ids is not None else None,
    )


def _text_filter(values: Mapping[str, object], key: str) -> str | None:
    value = values.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"filter {key}={value!r} must be a string")
    return value


def _date_filter(values: Mapping[str, object], key: str) -> dt.date | None:
    value = values.get(key)
    if isinstance(value, dt.datetime):
        return value.date()  # compared with the day an article was published
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"filter {key}={value!r} is not a date; write it as YYYY-MM-DD") from None


def _check_k(k: object, name: str = "k") -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name}={k!r}: {name} must be a whole number of passages, 1 or more")


def _check_question(question: object, number: int | None = None) -> str:
    which = f"question {number}" if number is not None else "the question"
    if not isinstance(question, str):
        raise ValueError(f"{which} is {type(question).__name__}, not text")
    if not question.strip():
        raise ValueError(f"{which} is empty; ask something")
    return question.strip()


def _check_encoder(store: IndexStore, encoder: Encoder) -> None:
    manifest = store.manifest
    if encoder.name != manifest.model or encoder.dimension != manifest.dimension:
        raise IndexMismatchError(
            f"{store.path} was built with {manifest.model!r} ({manifest.dimension} dimensions); "
            f"the encoder is {encoder.name!r} ({encoder.dimension} dimensions). Open it with "
            f"the model it was built with, or ingest the articles into a new folder"
        )


def _fill(article: Article, *, source: str | None, country: str | None) -> Article:
    return replace(article, source=article.source or source, country=article.country or country)
