"""Files and folders given by the user: which files to read, and the reader for each."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from articleqa.errors import ArticleReadError
from articleqa.readers.article import Article
from articleqa.readers.decoding import DEFAULT_MAX_FILE_BYTES, not_regular_reason, read_text_file
from articleqa.readers.json_records import parse_json_records
from articleqa.readers.overview import parse_overview
from articleqa.readers.plain import parse_plain

JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ""})
SKIPPED_NAME_PREFIXES = ("readme", "license", "licence", "copying")


def read_articles(
    path: Path,
    *,
    today: dt.date | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    warnings: list[tuple[str, str]] | None = None,
) -> tuple[list[Article], list[ArticleReadError]]:
    """Read the articles in one file, choosing the reader by extension and content.

    ``.json``, ``.jsonl`` and ``.ndjson`` files are read as JSON (see
    :func:`parse_json_records`). ``.txt``, ``.text``, ``.md`` and files without an extension are
    Overview pages if their first non-empty line is "Overview Logo", headline-first plain text
    otherwise.

    Args:
        path: The file.
        today: The day of ingestion, for dates shown without a year; defaults to today.
        max_bytes: The largest file read (see :func:`read_text_file`).
        warnings: Where ``(path, message)`` of what was read with a loss is added (a JSON
            record's date that cannot be read: the article is kept undated).

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
        return parse_json_records(read_text_file(path, max_bytes), path, warnings=warnings)
    if suffix not in TEXT_SUFFIXES:
        supported = ", ".join(sorted(s for s in TEXT_SUFFIXES | JSON_SUFFIXES if s))
        raise ArticleReadError(
            str(path),
            f"the format {suffix!r} is not supported; supported are {supported} and files "
            "without an extension (read as plain text or an Overview page)",
        )
    text = read_text_file(path, max_bytes)
    first_line = next(line.strip() for line in text.split("\n") if line.strip())
    if first_line.lower() == "overview logo":
        return [parse_overview(text, path, today or dt.date.today())], []
    return [parse_plain(text, path)], []


def iter_article_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str | None]]:
    """The files to read for some files and folders given by the user.

    Folders are walked recursively in sorted order. Inside folders, hidden files and folders
    (names starting with ".") and files named README*, LICENSE*/LICENCE* or COPYING* (any case)
    are skipped; a file named explicitly is always yielded. Only regular files are read: a
    FIFO, a device or a socket (or a link to one) is yielded with the reason it is not read.

    Args:
        paths: Files and folders.

    Yields:
        ``(path, None)`` for each file to read, and ``(path, reason)`` for a given path that
        does not exist ("no such file or folder"), a folder that cannot be listed, or a file
        that is not a regular file.
    """
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path, set())
        elif path.exists():
            yield path, _not_regular(path)
        else:
            yield path, "no such file or folder"


def _not_regular(path: Path) -> str | None:
    """Why ``path`` (a link is followed) is not read as a file; None for a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    return None if stat.S_ISREG(mode) else not_regular_reason(mode)


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
        elif not child.name.lower().startswith(SKIPPED_NAME_PREFIXES):
            yield child, _not_regular(child)
