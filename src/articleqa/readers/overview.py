"""Pages saved from the "Overview" news app: headline, outlet, country, a year-less date, body."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from articleqa.errors import ArticleReadError
from articleqa.readers.article import Article, make_article
from articleqa.vocab import MONTHS, WEEKDAYS

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
    return make_article(
        headline, body, source=source, country=country, published=published, path=where
    )


def _parse_overview_date(line: str, where: str, today: dt.date) -> dt.date:
    expected = "expected a weekday, month and day such as 'Monday, November 24'"
    match = _OVERVIEW_DATE.match(line)
    if match is None:
        raise ArticleReadError(where, f"the Overview date line {line!r} is not a date: {expected}")
    weekday = _name_index(match["weekday"], WEEKDAYS)
    month = _name_index(match["month1"] or match["month2"], MONTHS)
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
