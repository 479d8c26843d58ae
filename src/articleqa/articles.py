"""Articles: the record, the readers for each input format, boilerplate removal and ids.

Readers turn files into :class:`Article` records. The format is chosen by extension and, for
text files, by content: the "Overview" app page, headline-first plain text (the BBC layout), and
JSON / JSON Lines records.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from articleqa.errors import ArticleReadError


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


# --------------------------------------------------------------------------------------------
# Reading bytes
# --------------------------------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # (mark, codec, name). UTF-32 first: its little-endian mark begins with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or a .docx/.xlsx/.epub file)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
)

# C0 controls other than tab, newline, vertical tab, form feed and carriage return, plus DEL.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# C1 controls: in decoded text they mean bytes were read with the wrong encoding.
_C1_CHARS = re.compile(r"[\x80-\x9f]")

_CONVERT_HINT = "convert the file to UTF-8 and try again"


def read_text_file(path: Path) -> str:
    """Read an article file as text, whatever common encoding it was saved in.

    Byte-order marks (UTF-8, UTF-16, UTF-32) are honoured; otherwise the bytes are tried as
    strict UTF-8, then as Windows-1252 (which reads Latin-1 text the same for letters and signs).
    Newlines are normalised to ``\\n``.

    Args:
        path: The file to read.

    Returns:
        The decoded text with ``\\n`` newlines.

    Raises:
        ArticleReadError: If the file cannot be opened, is empty or only whitespace, looks like a
            binary file (an image, an archive, bytes with NULs), or is in an encoding that is
            not recognised.
    """
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise ArticleReadError(str(path), "is a folder, not a file") from None
    except OSError as exc:
        raise ArticleReadError(str(path), f"cannot read the file: {exc.strerror or exc}") from exc
    text = _decode(data, str(path))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleReadError(str(path), "the file is empty (it holds only whitespace)")
    return text


def _decode(data: bytes, where: str) -> str:
    if not data:
        raise ArticleReadError(where, "the file is empty")
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ArticleReadError(
                    where,
                    f"the file starts with a {name} byte-order mark but is not valid {name} "
                    f"(at byte {exc.start}); {_CONVERT_HINT}",
                ) from None
    if not data.strip():
        raise ArticleReadError(where, "the file is empty (it holds only whitespace)")
    for signature, kind in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ArticleReadError(
                where, f"this looks like {kind}, a binary file, not an article in text form"
            )
    if b"\x00" in data:
        if _looks_like_wide_unicode(data):
            raise ArticleReadError(
                where,
                "the encoding is not recognised (it looks like UTF-16 or UTF-32 without a "
                f"byte-order mark); {_CONVERT_HINT}",
            )
        raise ArticleReadError(
            where, "the file contains NUL bytes: it looks like a binary file, not an article"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ArticleReadError(
                where,
                f"the encoding is not recognised (byte 0x{data[exc.start]:02X} at offset "
                f"{exc.start} is neither UTF-8 nor Windows-1252/Latin-1); {_CONVERT_HINT}",
            ) from None
    if _CONTROL_CHARS.search(text):
        raise ArticleReadError(
            where,
            "the file contains control characters: it looks like a binary file, not an article",
        )
    if _C1_CHARS.search(text):
        raise ArticleReadError(
            where,
            "the encoding is not recognised (the text holds C1 control characters "
            f"U+0080-U+009F, a sign of a wrong conversion); {_CONVERT_HINT}",
        )
    return text


def _looks_like_wide_unicode(data: bytes) -> bool:
    """True if NUL bytes sit in a regular column, as ASCII text in UTF-16/32 without a BOM."""
    for width in (2, 4):
        if len(data) % width:
            continue
        columns = [data[i::width] for i in range(width)]
        if any(col and col.count(0) < len(col) * 0.05 for col in columns) and any(
            col and col.count(0) > len(col) * 0.6 for col in columns
        ):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Overview app pages
# --------------------------------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_OVERVIEW_DATE = re.compile(
    r"^(?P<weekday>[A-Za-z]+),?\s+(?:(?P<month1>[A-Za-z]+)\.?\s+(?P<day1>\d{1,2})"
    r"|(?P<day2>\d{1,2})\s+(?P<month2>[A-Za-z]+)\.?)$"
)
_OVERVIEW_APP_LINES = {"overview logo", "article main image"}
_OVERVIEW_RELATED_MARKER = "alternative takes"


def _is_overview_footer(line: str) -> bool:
    lowered = line.lower()
    return lowered.startswith("get the full experience") or (
        "badge" in lowered and ("app store" in lowered or "google play" in lowered)
    )


def _name_index(name: str, names: tuple[str, ...]) -> int | None:
    """Index of a full or abbreviated (at least three letters) English name, or None."""
    lowered = name.lower()
    if len(lowered) < 3:
        return None
    for i, full in enumerate(names):
        if full.startswith(lowered):
            return i
    return None


def resolve_weekday_date(
    month: int, day: int, weekday: int, today: dt.date, *, search_years: int = 28
) -> dt.date:
    """The latest date, not after ``today``, with this month and day falling on this weekday.

    Dates shown without a year ("Monday, November 24") are resolved this way. If no year in the
    last ``search_years`` years fits the weekday, the weekday is ignored and the latest year, not
    after ``today``, in which the month and day exist is used.

    Args:
        month: 1-12.
        day: Day of the month.
        weekday: 0 for Monday to 6 for Sunday (as :meth:`datetime.date.weekday`).
        today: The day of ingestion; the result is never after it.
        search_years: How many years before ``today``'s year to search for the weekday.

    Returns:
        The resolved date.

    Raises:
        ValueError: If the month and day never form a real date (say, November 31), or
            ``weekday`` is not 0-6.
    """
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday={weekday} must be 0 (Monday) to 6 (Sunday)")
    candidates: list[dt.date] = []
    for year in range(today.year, today.year - search_years - 1, -1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            candidates.append(candidate)
    for candidate in candidates:
        if candidate.weekday() == weekday:
            return candidate
    if candidates:
        return candidates[0]
    # Nothing in the window (only possible for February 29 with a tiny window): look further.
    for year in range(today.year - search_years - 1, today.year - search_years - 9, -1):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise ValueError(f"month={month}, day={day} is not a date in any year")


def parse_overview(text: str, path: str | Path, today: dt.date) -> Article:
    """Parse a page saved from the "Overview" news app into an :class:`Article`.

    The page starts with the app's lines ("Overview Logo", "Article Main Image"), then the
    headline, the outlet, its country and a date without a year, an optional "Alternative Takes"
    block with one related topic, the body paragraphs, and an app promotion footer from "Get the
    full experience in the app" to "Apple App Store Badge". The app lines and the footer are
    dropped; the date is resolved with :func:`resolve_weekday_date`.

    Args:
        text: The page text (``\\n`` newlines).
        path: The file it came from, recorded on the article.
        today: The day of ingestion, for resolving the year of the date.

    Returns:
        The article.

    Raises:
        ArticleReadError: If the page does not have the expected shape; the message names the
            part that is missing or malformed.
    """
    where = str(path)
    lines = [line.strip() for line in text.split("\n")]
    content = [line for line in lines if line]
    if not content or content[0].lower() != "overview logo":
        raise ArticleReadError(where, "not an Overview page: the first line is not 'Overview Logo'")
    position = 1
    while position < len(content) and content[position].lower() in _OVERVIEW_APP_LINES:
        position += 1
    header_names = ("headline", "source outlet", "country", "date")
    header = content[position : position + len(header_names)]
    if len(header) < len(header_names):
        missing = ", ".join(header_names[len(header) :])
        raise ArticleReadError(
            where, f"the Overview page ends early: missing the {missing} line(s)"
        )
    headline, source, country, date_line = header
    for name, value in zip(header_names, header, strict=True):
        if _is_overview_footer(value) or value.lower() == _OVERVIEW_RELATED_MARKER:
            raise ArticleReadError(
                where, f"the Overview page has no {name} line (found {value!r} in its place)"
            )
    published = _parse_overview_date(date_line, where, today)
    position += len(header_names)
    if position < len(content) and content[position].lower() == _OVERVIEW_RELATED_MARKER:
        position += 2  # the marker and the related-topic line after it
    paragraphs: list[str] = []
    for line in content[position:]:
        if _is_overview_footer(line):
            break
        paragraphs.append(line)
    if not paragraphs:
        raise ArticleReadError(where, "the Overview page has a headline but no article paragraphs")
    body = "\n\n".join(paragraphs)
    return _make_article(
        headline, body, source=source, country=country, published=published, path=where
    )


def _parse_overview_date(line: str, where: str, today: dt.date) -> dt.date:
    expected = "expected a weekday, month and day such as 'Monday, November 24'"
    match = _OVERVIEW_DATE.match(line)
    if match is None:
        raise ArticleReadError(where, f"the Overview date line {line!r} is not a date: {expected}")
    weekday = _name_index(match["weekday"], _WEEKDAYS)
    month = _name_index(match["month1"] or match["month2"], _MONTHS)
    day = int(match["day1"] or match["day2"])
    if weekday is None or month is None:
        raise ArticleReadError(
            where, f"the Overview date line {line!r} names an unknown weekday or month: {expected}"
        )
    try:
        return resolve_weekday_date(month + 1, day, weekday, today)
    except ValueError:
        raise ArticleReadError(
            where, f"the Overview date line {line!r} is not a real day of the year"
        ) from None


# --------------------------------------------------------------------------------------------
# Headline-first plain text (BBC layout)
# --------------------------------------------------------------------------------------------


def parse_plain(text: str, path: str | Path) -> Article:
    """Parse headline-first plain text: the first line is the headline, the rest the body.

    Every non-blank line after the headline is a paragraph (most BBC files separate paragraphs
    with a blank line, a few put list items on consecutive lines). Paragraphs lose trailing
    whitespace only and are joined with a blank line.

    Args:
        text: The file's text (``\\n`` newlines).
        path: The file it came from, recorded on the article.

    Returns:
        The article, with no source, country or date.

    Raises:
        ArticleReadError: If the text is empty or has a headline but no body.
    """
    where = str(path)
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise ArticleReadError(where, "the file is empty")
    headline = lines[start].strip()
    body = _join_paragraphs(lines[start + 1 :])
    if not body:
        raise ArticleReadError(
            where, f"the file has a headline ({headline[:60]!r}) but no body text"
        )
    return _make_article(headline, body, path=where)


def _join_paragraphs(lines: Iterable[str]) -> str:
    return "\n\n".join(line.rstrip() for line in lines if line.strip())


def _make_article(title: str, body: str, **fields: Any) -> Article:
    return Article(id=article_id(title, body), title=title, body=body, **fields)


# --------------------------------------------------------------------------------------------
# JSON, JSON arrays and JSON Lines
# --------------------------------------------------------------------------------------------

_TITLE_KEYS = ("title", "headline")
_TEXT_KEYS = ("text", "body", "content")
_SOURCE_KEYS = ("source", "outlet")
_DATE_KEYS = ("published", "publish_date", "date", "published_at")
_TITLE_FROM_TEXT_MAX = 120
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
# (record number, or None for a lone object; the parsed value; why the line failed to parse)
_Record = tuple[int | None, Any, str | None]


def parse_json_records(text: str, path: str | Path) -> tuple[list[Article], list[ArticleReadError]]:
    """Parse a JSON object, a JSON array of objects, or JSON Lines into articles.

    Fields (the first present wins): ``title``/``headline``; ``text``/``body``/``content``
    (required); ``url``; ``source``/``outlet`` (a string, or an object with ``name``);
    ``country``; ``published``/``publish_date``/``date``/``published_at`` (an ISO date or
    date-time); ``authors`` (a list of strings, or one comma-separated string). A record without
    a title takes the first sentence of its text. Other fields are ignored.

    A bad record in a file of many does not stop the others: it is returned as an error and the
    good records are still returned. Record paths are ``file#N`` (N counting records, that is
    non-blank lines, from 1) for arrays and JSON Lines, the plain file name for a single object.
    Files named ``.jsonl`` or ``.ndjson`` are read line by line; other text is read as one JSON
    document, and as JSON Lines only if that fails and its first line is a JSON object.

    Args:
        text: The file's text.
        path: The file it came from.

    Returns:
        ``(articles, errors)``: the good records, and one :class:`ArticleReadError` per bad one.

    Raises:
        ArticleReadError: If the file as a whole is not JSON (the message gives the line and
            column), is an empty array, or is not an object, an array or JSON Lines.
    """
    where = str(path)
    if not text.strip():
        raise ArticleReadError(where, "the file is empty")
    named_as_lines = Path(where).suffix.lower() in _JSON_LINES_SUFFIXES
    if named_as_lines:
        records = _json_lines(text)
        if records is not None:
            return _articles_from_records(records, where)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole_error:
        records = None if named_as_lines or not _may_be_json_lines(text) else _json_lines(text)
        if records is None:
            raise ArticleReadError(
                where,
                f"invalid JSON at line {whole_error.lineno}, column {whole_error.colno}: "
                f"{whole_error.msg}",
            ) from None
        return _articles_from_records(records, where)
    if isinstance(document, dict):
        return _articles_from_records([(None, document, None)], where)
    if isinstance(document, list):
        if not document:
            raise ArticleReadError(where, "the JSON array is empty: there are no articles in it")
        return _articles_from_records(
            [(n, item, None) for n, item in enumerate(document, start=1)], where
        )
    raise ArticleReadError(
        where,
        f"expected a JSON object, an array of objects or JSON Lines, found {_json_type(document)}",
    )


def _may_be_json_lines(text: str) -> bool:
    """True if text that is not one JSON document may be JSON Lines.

    It must not open an array, and its first line must be a JSON object on its own; a broken
    array or pretty-printed object is then reported once, with its line, not line by line.
    """
    first = next(line for line in text.split("\n") if line.strip())
    if first.lstrip().startswith("["):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


def _json_lines(text: str) -> list[_Record] | None:
    """One record per non-blank line, or None if no line at all is valid JSON."""
    records: list[_Record] = []
    number = 0
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            records.append(
                (
                    number,
                    None,
                    f"record {number} (line {line_number}) is not valid JSON: {exc.msg} "
                    f"at column {exc.colno}",
                )
            )
            continue
        records.append((number, value, None))
    if all(parse_error is not None for _, _, parse_error in records):
        return None
    return records


def _articles_from_records(
    records: list[_Record], where: str
) -> tuple[list[Article], list[ArticleReadError]]:
    articles: list[Article] = []
    errors: list[ArticleReadError] = []
    for number, value, parse_error in records:
        record_path = where if number is None else f"{where}#{number}"
        if parse_error is not None:
            errors.append(ArticleReadError(record_path, parse_error))
            continue
        try:
            articles.append(_article_from_record(value, number, record_path))
        except ArticleReadError as exc:
            errors.append(exc)
    return articles, errors


def _article_from_record(value: Any, number: int | None, record_path: str) -> Article:
    name = "the record" if number is None else f"record {number}"
    if not isinstance(value, dict):
        raise ArticleReadError(record_path, f"{name} is {_json_type(value)}, not a JSON object")

    def field(keys: tuple[str, ...]) -> tuple[str, Any]:
        for key in keys:
            if value.get(key) is not None:
                return key, value[key]
        return keys[0], None

    def string(keys: tuple[str, ...]) -> str | None:
        key, raw = field(keys)
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise ArticleReadError(
                record_path, f"{name} has {_json_type(raw)} in '{key}', expected a string"
            )
        return " ".join(raw.split()) or None

    text_key, raw_text = field(_TEXT_KEYS)
    if raw_text is None:
        raise ArticleReadError(record_path, f"{name} has no 'text' or 'body' field")
    if not isinstance(raw_text, str):
        raise ArticleReadError(
            record_path, f"{name} has {_json_type(raw_text)} in '{text_key}', expected a string"
        )
    body = _join_paragraphs(raw_text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    if not body:
        raise ArticleReadError(record_path, f"{name} has an empty '{text_key}' field")

    title = string(_TITLE_KEYS) or _first_sentence(body)

    source_key, raw_source = field(_SOURCE_KEYS)
    if isinstance(raw_source, dict):
        raw_name = raw_source.get("name")
        if not isinstance(raw_name, str):
            raise ArticleReadError(
                record_path, f"{name} has an object in '{source_key}' without a 'name' string"
            )
        source: str | None = " ".join(raw_name.split()) or None
    else:
        source = string(_SOURCE_KEYS)

    return _make_article(
        title,
        body,
        source=source,
        country=string(("country",)),
        published=_record_date(field(_DATE_KEYS), name, record_path),
        url=string(("url",)),
        path=record_path,
        authors=_record_authors(value.get("authors"), name, record_path),
    )


def _record_date(key_value: tuple[str, Any], name: str, record_path: str) -> dt.date | None:
    key, raw = key_value
    if raw is None:
        return None
    if isinstance(raw, str) and raw.strip():
        cleaned = raw.strip()
        if cleaned.endswith(("Z", "z")):
            cleaned = cleaned[:-1] + "+00:00"
        try:
            if len(cleaned) == 10:
                return dt.date.fromisoformat(cleaned)
            return dt.datetime.fromisoformat(cleaned).date()
        except ValueError:
            pass
    raise ArticleReadError(
        record_path,
        f"{name} has an unreadable date in '{key}': {raw!r}; use an ISO date such as "
        "'2024-05-17' or '2024-05-17T09:30:00Z'",
    )


def _record_authors(raw: Any, name: str, record_path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        items: list[Any] = raw.split(",")
    elif isinstance(raw, list):
        items = raw
    else:
        raise ArticleReadError(
            record_path,
            f"{name} has {_json_type(raw)} in 'authors', expected a list of names or a "
            "comma-separated string",
        )
    authors: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ArticleReadError(
                record_path, f"{name} has {_json_type(item)} among its 'authors', expected names"
            )
        if item.strip():
            authors.append(" ".join(item.split()))
    return tuple(authors)


def _first_sentence(body: str) -> str:
    """The first sentence of the text, cut at a word boundary to about 120 characters."""
    first = " ".join(body.split("\n\n", 1)[0].split())
    match = re.match(r"(.+?[.!?])(?=\s|$)", first)
    sentence = match.group(1) if match else first
    if len(sentence) <= _TITLE_FROM_TEXT_MAX:
        return sentence
    cut = sentence[:_TITLE_FROM_TEXT_MAX].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def _json_type(value: Any) -> str:
    """The JSON type of a value with its article, for messages: "a string", "an array"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------------------------
# Files and folders
# --------------------------------------------------------------------------------------------

JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ""})
_SKIPPED_NAME_PREFIXES = ("readme", "license", "licence", "copying")


def read_articles(
    path: Path, *, today: dt.date | None = None
) -> tuple[list[Article], list[ArticleReadError]]:
    """Read the articles in one file, choosing the reader by extension and content.

    ``.json``, ``.jsonl`` and ``.ndjson`` files are read as JSON (see
    :func:`parse_json_records`). ``.txt``, ``.text``, ``.md`` and files without an extension are
    Overview pages if their first non-empty line is "Overview Logo", headline-first plain text
    otherwise.

    Args:
        path: The file.
        today: The day of ingestion, for dates shown without a year; defaults to today.

    Returns:
        ``(articles, errors)``: the articles read, and the records that could not be read in a
        file of many (only JSON files hold many; the list is empty otherwise).

    Raises:
        ArticleReadError: If the format is not supported, or the file as a whole cannot be read
            or parsed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return parse_json_records(read_text_file(path), path)
    if suffix not in TEXT_SUFFIXES:
        supported = ", ".join(sorted(s for s in TEXT_SUFFIXES | JSON_SUFFIXES if s))
        raise ArticleReadError(
            str(path),
            f"the format {suffix!r} is not supported; supported are {supported} and files "
            "without an extension (read as plain text or an Overview page)",
        )
    text = read_text_file(path)
    first_line = next(line.strip() for line in text.split("\n") if line.strip())
    if first_line.lower() == "overview logo":
        return [parse_overview(text, path, today or dt.date.today())], []
    return [parse_plain(text, path)], []


def iter_article_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str | None]]:
    """The files to read for some files and folders given by the user.

    Folders are walked recursively in sorted order. Inside folders, hidden files and folders
    (names starting with ".") and files named README*, LICENSE*/LICENCE* or COPYING* (any case)
    are skipped; a file named explicitly is always yielded.

    Args:
        paths: Files and folders.

    Yields:
        ``(path, None)`` for each file to read, and ``(path, reason)`` for a given path that
        does not exist ("no such file or folder") or a folder that cannot be listed.
    """
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path, set())
        elif path.exists():
            yield path, None
        else:
            yield path, "no such file or folder"


def _walk(folder: Path, seen: set[Path]) -> Iterator[tuple[Path, str | None]]:
    real = folder.resolve()
    if real in seen:  # a symbolic link back up the tree
        return
    seen.add(real)
    try:
        children = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        yield folder, f"cannot read the folder: {exc.strerror or exc}"
        return
    for child in children:
        if child.name.startswith("."):
            continue
        if child.is_dir():
            yield from _walk(child, seen)
        elif not child.name.lower().startswith(_SKIPPED_NAME_PREFIXES):
            yield child, None
