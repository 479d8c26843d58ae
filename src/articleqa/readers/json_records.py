"""JSON objects, JSON arrays of objects and JSON Lines, one article a record."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import dateutil.parser

from articleqa.errors import ArticleReadError
from articleqa.readers.article import Article, join_paragraphs, make_article

_TITLE_KEYS = ("title", "headline")
_TEXT_KEYS = ("text", "body", "content")
_SOURCE_KEYS = ("source", "outlet")
_DATE_KEYS = ("published", "publish_date", "date", "published_at")
_TITLE_FROM_TEXT_MAX = 120
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
# (record number, or None for a lone object; the parsed value; why the line failed to parse)
_Record = tuple[int | None, Any, str | None]


def parse_json_records(
    text: str, path: str | Path, *, warnings: list[tuple[str, str]] | None = None
) -> tuple[list[Article], list[ArticleReadError]]:
    """Parse a JSON object, a JSON array of objects, or JSON Lines into articles.

    Fields (the first present wins): ``title``/``headline``; ``text``/``body``/``content``
    (required); ``url``; ``source``/``outlet`` (a string, or an object with ``name``);
    ``country``; ``published``/``publish_date``/``date``/``published_at`` (an ISO date or
    date-time, or a date as feeds write it: "2023/01/24", "January 24, 2023", "Tue, 24 Jan
    2023 10:00:00 GMT"; a record whose date cannot be read is kept undated, with a warning);
    ``authors`` (a list of strings, or one comma-separated string). A record without
    a title takes the first sentence of its text. Other fields are ignored.

    A bad record in a file of many does not stop the others: it is returned as an error and the
    good records are still returned. Record paths are ``file#N`` (N counting records, that is
    non-blank lines, from 1) for arrays and JSON Lines, the plain file name for a single object.
    Files named ``.jsonl`` or ``.ndjson`` are read line by line; other text is read as one JSON
    document, and as JSON Lines only if that fails and its first line is a JSON object.

    Args:
        text: The file's text.
        path: The file it came from.
        warnings: Where ``(record path, message)`` of each date that could not be read is
            added (None: not kept).

    Returns:
        ``(articles, errors)``: the good records, and one :class:`ArticleReadError` per bad one.

    Raises:
        ArticleReadError: If the file as a whole is not JSON (the message gives the line and
            column), is an empty array, or is not an object, an array or JSON Lines.
    """
    where = str(path)
    if not text.strip():
        raise ArticleReadError(where, "the file is empty")
    try:
        return _parse(text, where, [] if warnings is None else warnings)
    except RecursionError:
        raise ArticleReadError(
            where, "the JSON is nested too deeply to read; an article record is an object of "
            "strings, lists of strings and at most one object for the source") from None


def _parse(
    text: str, where: str, warnings: list[tuple[str, str]]
) -> tuple[list[Article], list[ArticleReadError]]:
    named_as_lines = Path(where).suffix.lower() in _JSON_LINES_SUFFIXES
    if named_as_lines:
        records = _json_lines(text)
        if records is not None:
            return _articles_from_records(records, where, warnings)
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
        return _articles_from_records(records, where, warnings)
    if isinstance(document, dict):
        return _articles_from_records([(None, document, None)], where, warnings)
    if isinstance(document, list):
        if not document:
            raise ArticleReadError(where, "the JSON array is empty: there are no articles in it")
        return _articles_from_records(
            [(n, item, None) for n, item in enumerate(document, start=1)], where, warnings
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
        except RecursionError:
            records.append((number, None, f"record {number} (line {line_number}) is JSON "
                            "nested too deeply to read"))
            continue
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
    records: list[_Record], where: str, warnings: list[tuple[str, str]]
) -> tuple[list[Article], list[ArticleReadError]]:
    articles: list[Article] = []
    errors: list[ArticleReadError] = []
    for number, value, parse_error in records:
        record_path = where if number is None else f"{where}#{number}"
        if parse_error is not None:
            errors.append(ArticleReadError(record_path, parse_error))
            continue
        try:
            articles.append(_article_from_record(value, number, record_path, warnings))
        except ArticleReadError as exc:
            errors.append(exc)
    return articles, errors


def _article_from_record(value: Any, number: int | None, record_path: str,
                         warnings: list[tuple[str, str]]) -> Article:
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
    body = join_paragraphs(raw_text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
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

    return make_article(
        title,
        body,
        source=source,
        country=string(("country",)),
        published=_record_date(field(_DATE_KEYS), name, record_path, warnings),
        url=string(("url",)),
        path=record_path,
        authors=_record_authors(value.get("authors"), name, record_path),
    )


def _record_date(key_value: tuple[str, Any], name: str, record_path: str,
                 warnings: list[tuple[str, str]]) -> dt.date | None:
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
        loose = _loose_date(cleaned) if len(cleaned) <= 100 else None
        if loose is not None:
            return loose
    shown = repr(raw) if len(repr(raw)) <= 80 else repr(raw)[:77] + "..."
    warnings.append((record_path, f"{name} has an unreadable date in '{key}': {shown}; it is "
                     "stored undated (write the date as '2024-05-17' or '2024-05-17T09:30:00Z' "
                     "and ingest the file again to date it)"))
    return None


def _loose_date(text: str) -> dt.date | None:
    """A whole date as feeds and scrapers write it ("2023/01/24", "January 24, 2023",
    "Tue, 24 Jan 2023 10:00:00 GMT"), in the writer's own time zone; None when the text is no
    date or lacks its day, month or year."""
    try:  # parsed with two different defaults: a part that is missing shows as a difference
        first = dateutil.parser.parse(text, default=dt.datetime(2000, 1, 1))
        second = dateutil.parser.parse(text, default=dt.datetime(2001, 2, 2))
    except (ValueError, OverflowError):
        return None
    return first.date() if first.date() == second.date() else None


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
