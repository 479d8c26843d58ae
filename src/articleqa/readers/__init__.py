"""Readers: article files in, :class:`Article` records out.

The format is chosen by extension and, for text files, by content (see :func:`read_articles`):

- ``article``: the record, its stable id, and text normalisation;
- ``decoding``: bytes to text, whatever common encoding the file was saved in;
- ``overview``: pages saved from the "Overview" news app;
- ``plain``: headline-first plain text (the BBC layout);
- ``json_records``: JSON objects, arrays and JSON Lines;
- ``walk``: the files and folders given by the user, and the reader for each file.
"""

from __future__ import annotations

from articleqa.readers.article import Article, article_id, normalise_text
from articleqa.readers.decoding import read_text_file
from articleqa.readers.json_records import parse_json_records
from articleqa.readers.overview import parse_overview, resolve_weekday_date
from articleqa.readers.plain import parse_plain
from articleqa.readers.walk import (
    JSON_SUFFIXES,
    TEXT_SUFFIXES,
    iter_article_files,
    read_articles,
)

__all__ = [
    "JSON_SUFFIXES",
    "TEXT_SUFFIXES",
    "Article",
    "article_id",
    "iter_article_files",
    "normalise_text",
    "parse_json_records",
    "parse_overview",
    "parse_plain",
    "read_articles",
    "read_text_file",
    "resolve_weekday_date",
]
