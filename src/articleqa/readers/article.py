"""The article record, its stable id, and the text normalisation both rest on."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Article:
    """One news article.

    Attributes:
        id: Stable id from the normalised headline and body (see :func:`article_id`).
        title: The headline.
        body: The article text, paragraphs separated by a blank line. Chunk and citation
            offsets index into this string.
        source: The outlet ("Hespress", "BBC News"), if known.
        country: The outlet's country, if known.
        published: The publication date, if known.
        url: The article's address, if known.
        path: The file it was read from (for JSON Lines, ``file.jsonl#N``, N counting from 1).
        authors: Bylines, if known.
    """

    id: str
    title: str
    body: str
    source: str | None = None
    country: str | None = None
    published: dt.date | None = None
    url: str | None = None
    path: str | None = None
    authors: tuple[str, ...] = ()


def normalise_text(text: str) -> str:
    """Unicode NFKC with runs of whitespace collapsed to one space; case is kept."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def article_id(title: str, body: str) -> str:
    """A stable 16-hex-digit id from the normalised headline and body.

    The same article read from two files, or re-wrapped, gets the same id.
    """
    key = normalise_text(title) + "\n" + normalise_text(body)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def make_article(title: str, body: str, **fields: Any) -> Article:
    """An :class:`Article` with its id computed from ``title`` and ``body``."""
    return Article(id=article_id(title, body), title=title, body=body, **fields)


def join_paragraphs(lines: Iterable[str]) -> str:
    """The non-blank lines, trailing whitespace dropped, joined with a blank line between."""
    return "\n\n".join(line.rstrip() for line in lines if line.strip())
