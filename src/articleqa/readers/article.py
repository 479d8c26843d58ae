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


#: The longest headline kept; a longer one is cut at a word and ends with "…".
MAX_TITLE_CHARS = 500
#: The longest outlet, country, address or author name kept (cut the same way).
MAX_FIELD_CHARS = 2000
#: At most this many authors are kept.
MAX_AUTHORS = 50
# Lone surrogates: JSON escapes such as "\\ud800" decode to them; they are no text.
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """The text with lone surrogates (never valid Unicode) replaced by U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def check_unicode(text: str, which: str) -> None:
    """Raises ValueError if ``text`` holds a lone surrogate: no valid Unicode, as bytes that are
    not UTF-8 become when a command line is read with ``surrogateescape``, or a JSON
    ``"\\ud800"`` escape. ``which`` names the text in the message ("the question")."""
    bad = _SURROGATES.search(text)
    if bad is not None:
        raise ValueError(
            f"{which} is not valid Unicode text: character {bad.start() + 1} is "
            f"{ascii(bad.group())[1:-1]}, a lone surrogate (bytes that are not UTF-8?); type "
            "it again, or save it as UTF-8")


def bounded(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else cut at a word and ended with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def make_article(title: str, body: str, **fields: Any) -> Article:
    """An :class:`Article` with its id computed from ``title`` and ``body``.

    Every text is cleaned of lone surrogates; the headline and the short fields are bounded
    (:data:`MAX_TITLE_CHARS`, :data:`MAX_FIELD_CHARS`, :data:`MAX_AUTHORS`), so a hostile file
    cannot make a headline of megabytes.
    """
    title = bounded(clean_text(title), MAX_TITLE_CHARS)
    body = clean_text(body)
    for name in ("source", "country", "url"):
        if isinstance(fields.get(name), str):
            fields[name] = bounded(clean_text(fields[name]), MAX_FIELD_CHARS)
    if "authors" in fields:
        fields["authors"] = tuple(bounded(clean_text(a), MAX_FIELD_CHARS)
                                  for a in fields["authors"][:MAX_AUTHORS])
    return Article(id=article_id(title, body), title=title, body=body, **fields)


def join_paragraphs(lines: Iterable[str]) -> str:
    """The non-blank lines, trailing whitespace dropped, joined with a blank line between."""
    return "\n\n".join(line.rstrip() for line in lines if line.strip())
