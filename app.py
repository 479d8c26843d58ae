"""The articleqa web page: `python app.py [--index DIR] [--articles DIR ...]`."""

from __future__ import annotations

import argparse
import sys

from articleqa import ArticleIndex, ArticleQAError
from articleqa.index import default_index_path
from articleqa.web import CSS, build_app


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve the articleqa page.")
    parser.add_argument("--index", default=default_index_path(), metavar="DIR",
                        help="index folder (default: $ARTICLEQA_INDEX or ./embeddings)")
    parser.add_argument("--articles", nargs="+", default=[], metavar="PATH",
                        help="article files or folders to ingest before serving")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    args = parser.parse_args()
    try:
        index = ArticleIndex.open(args.index)
        if args.articles:
            report = index.ingest(args.articles)
            print(f"ingest: {report.summary()}", file=sys.stderr)
            for path, reason in report.failed:
                print(f"  failed: {path}: {reason}", file=sys.stderr)
    except ArticleQAError as error:
        print(f"app.py: error: {error}", file=sys.stderr)
        return 1
    build_app(index).launch(server_name=args.host, server_port=args.port, css=CSS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
