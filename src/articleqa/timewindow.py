"""Time in questions: the words that set a publication window, and the mild recency preference.

"What did Hammouchi say this week?" asked on 27 November 2025 searches the articles published
from 24 to 27 November; :func:`parse_time` finds the time words, gives the window and the
question without them (what retrieval scores). Relative words (today, yesterday, this/last
week, month or year, on Monday, the past 10 days, the latest, recently) are our own small
grammar, counted from the day the question is asked (``as_of``); dates after "since", "in",
"between ... and", "from ... to" are read by :func:`dateutil.parser.parse`.

A bare year ("How much profit did it make in 2004?") is not a window: in news questions it
mostly dates the event asked about, which is often reported after that year (annual results).
"this year's" and "last year's" qualify a thing, not the news, and are not windows either.

A question without time words gets :func:`recency_prior`: a small bonus for recent articles,
added to the retrieval score, never a filter (undated articles get none and lose nothing else).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import dateutil.parser

from articleqa.filters import Filters
from articleqa.vocab import MONTHS, WEEKDAYS

#: Days "the latest" and "recently" look back, the asking day included.
RECENT_DAYS = 30
#: Largest bonus of the recency preference (an article of the asking day), in cosine units;
#: a relevant passage scores about 0.5-0.8. Chosen on the eval set (docs/quality.md).
RECENCY_WEIGHT = 0.03
#: Age in days at which the recency bonus has halved.
RECENCY_HALF_LIFE = 14.0


@dataclass(frozen=True)
class TimeWindow:
    """The publication dates a question asks about (both inclusive).

    Attributes:
        since: First day.
        until: Last day.
        phrase: The words of the question it was read from ("this week").
    """

    since: dt.date
    until: dt.date
    phrase: str

    @property
    def label(self) -> str:
        """The days, as a reader writes them: "17–23 November 2025", "24 November 2025",
        "28 October – 27 November 2025"."""
        return date_range_label(self.since, self.until)

    def describe(self, undated_skipped: int = 0, *, widened: bool = False) -> str:
        """"Searched articles from 17–23 November 2025", and "(2 undated articles left out)"
        when ``undated_skipped`` is 2; "No article is dated 1–31 January 2026: searched
        articles of any date instead" when ``widened``."""
        if widened:
            return f"No article is dated {self.label}: searched articles of any date instead"
        note = f"Searched articles from {self.label}"
        if undated_skipped:
            plural = "s" if undated_skipped != 1 else ""
            note += f" ({undated_skipped} undated article{plural} left out)"
        return note

    def holds(self, day: dt.date | None) -> bool:
        """Whether ``day`` (a publication date; None for an undated article) is in the window."""
        return day is not None and self.since <= day <= self.until

    def to_json(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(),
                "phrase": self.phrase, "label": self.label}


@dataclass(frozen=True)
class TimeQuery:
    """A question read for time.

    Attributes:
        text: The question without its time words (the question itself when it has none).
        window: The publication window its time words set; None when it has none.
    """

    text: str
    window: TimeWindow | None


def as_of_date(value: object = None) -> dt.date:
    """The asking day: ``value`` as a date (a date, a date-time or an ISO string); today when
    None.

    Raises:
        ValueError: If ``value`` is not a date.
    """
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ValueError(f"as_of={value!r} is not a date; give a datetime.date or YYYY-MM-DD")


def date_range_label(first: dt.date, last: dt.date) -> str:
    """"17–23 November 2025", "24 November 2025", "28 October – 27 November 2025",
    "29 December 2025 – 4 January 2026"."""
    def day(d: dt.date, month: bool = True, year: bool = True) -> str:
        return " ".join([str(d.day), *([f"{d:%B}"] if month else []),
                         *([str(d.year)] if year else [])])

    if first == last:
        return day(first)
    if first.year != last.year:
        return f"{day(first)} – {day(last)}"
    if first.month != last.month:
        return f"{day(first, year=False)} – {day(last)}"
    return f"{first.day}–{day(last)}"


# -- the grammar --------------------------------------------------------------------------------

_MONTH_NAMES = {name: number for number, name in enumerate(MONTHS, start=1)}
_MONTH_NAMES.update({name[:3]: number for name, number in list(_MONTH_NAMES.items())})
_MONTH_NAMES["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\b\.?"
_WEEKDAY = r"(?:" + "|".join(WEEKDAYS) + r")"
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
#: A date as people write it: 2025-11-24, 24 November (2025), November 24(, 2025), November
#: 2025, November, 2025.
_DATE = (rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{_ORDINAL}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
         rf"|{_MONTH}\s+{_ORDINAL}(?:,?\s+{_YEAR})?(?!\d)|{_MONTH}(?:\s+{_YEAR})?|{_YEAR})")
_NOT_POSSESSIVE = r"(?!['’]s)\b"
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "a": 1, "few": 3}

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(pattern, re.IGNORECASE)) for
                                                name, pattern in [
    ("between", rf"\b(?:between|from)\s+(?P<a>{_DATE}|{_ORDINAL})\s+(?:and|to|until|till|-|–)"
                rf"\s+(?P<b>{_DATE})"),
    ("on_date", rf"\b(?:on|dated)\s+(?:the\s+)?(?:{_WEEKDAY},?\s+)?(?P<a>{_DATE})"),
    ("since", rf"\bsince\s+(?:the\s+start\s+of\s+)?(?P<a>{_DATE})"),
    ("past", r"\b(?:in|over|during|within|from)\s+the\s+(?:past|last)\s+"
             r"(?:(?P<n>\d{1,3}|" + "|".join(_NUMBERS) + r")\s+)?(?P<unit>days?|weeks?|months?)"
             r"\b"),
    ("day_before", r"\bthe\s+day\s+before\s+yesterday\b"),
    ("yesterday", r"\byesterday\b"),
    # (not the "Today programme" of BBC radio)
    ("today", r"\b(?:today|this\s+morning|tonight)(?!\s+programme)" + _NOT_POSSESSIVE),
    ("this_week", r"\b(?:this|the\s+current)\s+week" + _NOT_POSSESSIVE),
    ("last_week", r"\b(?:last|past|previous)\s+week" + _NOT_POSSESSIVE),
    ("this_month", r"\bthis\s+month" + _NOT_POSSESSIVE),
    ("last_month", r"\b(?:last|past|previous)\s+month" + _NOT_POSSESSIVE),
    ("this_year", r"\bthis\s+year" + _NOT_POSSESSIVE),
    ("last_year", r"\b(?:last|past|previous)\s+year" + _NOT_POSSESSIVE),
    ("weekday", rf"\b(?:on|last)\s+(?P<day>{_WEEKDAY})\b"),
    ("in_month", rf"\b(?:in|during)\s+(?:early\s+|late\s+|mid-?)?(?P<month>{_MONTH})"
                 rf"(?:\s+(?P<year>{_YEAR}))?(?!\s*\d)"),
    ("latest", r"\b(?:the\s+)?latest\b|\brecently\b|\blately\b|\bin\s+recent\s+(?:days|weeks)\b"
               r"|\brecent\s+(?=(?:news|reports?|coverage|stories|articles|developments|events)"
               r"\b)"),
]]


def parse_time(question: str, as_of: object = None) -> TimeQuery:
    """Reads the time words of a question (see the module docstring).

    Args:
        question: The question.
        as_of: The day it is asked (a date or ISO string); today when None.

    Returns:
        The question without its time words, and the window they set (None without them).

    Raises:
        ValueError: If ``as_of`` is not a date.
    """
    today = as_of_date(as_of)
    for name, pattern in _PATTERNS:
        for match in pattern.finditer(question):
            span = _window(name, match, today)
            if span is None:
                continue
            since, until = span
            window = TimeWindow(since, until, " ".join(match.group(0).split()))
            return TimeQuery(_without(question, match.start(), match.end()), window)
    return TimeQuery(question, None)


def _window(name: str, match: re.Match[str], today: dt.date) -> tuple[dt.date, dt.date] | None:
    monday = today - dt.timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    if name == "between":
        end = _date_span(match.group("b"), today)
        if end is None:
            return None
        start = _date_span(match.group("a"), today, default=end[1])
        if start is None or start[0] > end[1]:
            return None
        return start[0], end[1]
    if name == "on_date":
        day = _date_span(match.group("a"), today)
        return day if day is not None and day[0] == day[1] else None
    if name == "since":
        start = _date_span(match.group("a"), today)
        return (start[0], today) if start is not None and start[0] <= today else None
    if name == "past":
        count = match.group("n")
        number = 1 if count is None else int(count) if count.isdigit() else _NUMBERS[count.lower()]
        days = number * _UNITS[match.group("unit").lower()]
        return today - dt.timedelta(days=days - 1), today
    if name in ("today", "yesterday", "day_before"):
        day = today - dt.timedelta(days={"today": 0, "yesterday": 1, "day_before": 2}[name])
        return day, day
    if name == "this_week":
        return monday, today
    if name == "last_week":
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if name == "this_month":
        return first_of_month, today
    if name == "last_month":
        last = first_of_month - dt.timedelta(days=1)
        return last.replace(day=1), last
    if name == "this_year":
        return today.replace(month=1, day=1), today
    if name == "last_year":
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    if name == "weekday":
        wanted = WEEKDAYS.index(match.group("day").lower())
        back = (today.weekday() - wanted) % 7 or 7  # the latest one before the asking day
        day = today - dt.timedelta(days=back)
        return day, day
    if name == "in_month":
        month = _MONTH_NAMES[match.group("month").lower().rstrip(".")]
        year = int(match.group("year")) if match.group("year") else (
            today.year if month <= today.month else today.year - 1)
        first = dt.date(year, month, 1)
        return first, min(_month_end(first), max(today, first))
    if name == "latest":
        return today - dt.timedelta(days=RECENT_DAYS - 1), today
    raise AssertionError(name)


def _date_span(text: str, today: dt.date, default: dt.date | None = None
               ) -> tuple[dt.date, dt.date] | None:
    """The days a date phrase names: one day, a whole month or a whole year. A phrase without
    a year is the latest such date not after ``today`` (or takes ``default``'s month and year,
    for the first date of "between 1 and 15 November")."""
    words = text.strip().rstrip(".")
    if re.fullmatch(_YEAR, words):
        year = int(words)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", words):
        try:
            day = dt.date.fromisoformat(words)
        except ValueError:
            return None
        return day, day
    has_day = re.search(r"(?<!\d)\d{1,2}(?:st|nd|rd|th)?(?!\d)", words)
    has_year = re.search(_YEAR, words)
    base = default or today
    try:
        parsed = dateutil.parser.parse(words, default=dt.datetime(base.year, base.month, 1),
                                       dayfirst=True).date()
    except (ValueError, OverflowError):
        return None
    if not has_year and default is None and parsed > today:
        parsed = parsed.replace(year=parsed.year - 1)
    if has_day:
        return parsed, parsed
    return parsed.replace(day=1), _month_end(parsed)


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _without(question: str, start: int, end: int) -> str:
    """The question with ``[start, end)`` taken out, its spaces and punctuation tidied."""
    text = f"{question[:start].rstrip()} {question[end:].lstrip()}".strip()
    text = re.sub(r"\s+([?.!,;:])", r"\1", text)
    text = re.sub(r"^[,;:\s]+|(?<=[,;:])[,;:]+", "", text)
    return re.sub(r"\s{2,}", " ", text) or question


# -- applying a window, and the recency preference ----------------------------------------------


def narrow(filters: Filters, window: TimeWindow | None) -> Filters:
    """``filters`` with their dates narrowed to ``window`` (both apply)."""
    if window is None:
        return filters
    since = max(filter(None, (filters.since, window.since)))
    until = min(filter(None, (filters.until, window.until)))
    return replace(filters, since=since, until=until)


def recency_prior(published: Mapping[int, dt.date | None], as_of: dt.date,
                  weight: float = RECENCY_WEIGHT,
                  half_life: float = RECENCY_HALF_LIFE) -> dict[int, float]:
    """The recency bonus of each id: ``weight * 0.5 ** (age / half_life)``, age in days before
    ``as_of`` (an article after it counts as age 0); undated ids get 0."""
    bonus: dict[int, float] = {}
    for key, day in published.items():
        if day is None:
            bonus[key] = 0.0
        else:
            age = max(0, (as_of - day).days)
            bonus[key] = weight * math.pow(0.5, age / half_life)
    return bonus
