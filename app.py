"""The articleqa chat page: `python app.py [--index DIR|URL] [--articles PATH ...]`."""

from __future__ import annotations

import argparse
import sys

from articleqa import ArticleIndex, ArticleQAError
from articleqa.embedding import BACKENDS
from articleqa.index import default_index_path
from articleqa.web import build_app, serve
from articleqa.web.page import QUESTIONS_AT_ONCE


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Serve the articleqa chat page over an index.",
        epilog="example: python app.py --index embeddings --articles ../shared/corpus/overview",
    )
    parser.add_argument("--index", default=default_index_path(), metavar="DIR|URL",
                        help="index folder, or a PostgreSQL database with pgvector as "
                             "postgresql://USER@HOST:PORT/DBNAME (default: $ARTICLEQA_INDEX or "
                             "./embeddings)")
    parser.add_argument("--articles", nargs="+", default=[], metavar="PATH",
                        help="article files or folders to ingest before serving")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default: 127.0.0.1, this machine only; "
                             "0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--encoder-backend", choices=tuple(BACKENDS), metavar="BACKEND",
                        help="what computes the vectors (as in `articleqa ask`): openvino, "
                             "onnx-int8, onnx or torch (default: the fastest the index takes)")
    parser.add_argument("--questions-at-once", type=int, default=QUESTIONS_AT_ONCE, metavar="N",
                        help="questions answered at once; more wait in the queue (default: "
                             f"{QUESTIONS_AT_ONCE})")
    args = parser.parse_args()
    try:
        index = ArticleIndex.open(args.index, backend=args.encoder_backend)
        if args.articles:
            report = index.ingest(args.articles)
            print(f"ingest: {report.summary()}", file=sys.stderr)
            for path, reason in report.failed:
                print(f"  failed: {path}: {reason}", file=sys.stderr)
            for path, message in report.warnings:
                print(f"  warning: {path}: {message}", file=sys.stderr)
        page = build_app(index, questions_at_once=args.questions_at_once)
    except ArticleQAError as error:
        print(f"app.py: error: {error}", file=sys.stderr)
        return 1
    serve(page, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
