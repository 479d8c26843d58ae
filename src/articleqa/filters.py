"""Filters: which articles a search may return, checked once where they come in.

Search, ask, the command line and the web page take filters as a mapping (``{"source":
"Hespress", "since": "2025-01-01"}``); :func:`parse_filters` checks it once and gives a
:class:`Filters` that the retrievers apply (the store turns it into SQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from articleqa.readers.article import check_unicode

#: The keys a filters mapping may have (``article_ids`` is a synonym of ``article_id``).
FILTER_KEYS = ("source", "country", "since", "until", "article_id")


@dataclass(frozen=True)
class Filters:
    """Restricts a search to articles that match every field given (None: no restriction)."""

    source: str | None = None
    country: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    article_ids: tuple[str, ...] | None = None

    def is_empty(self) -> bool:
        return self == Filters()


def parse_filters(filters: Mapping[str, object] | Filters | None) -> Filters:
    """Checks a filters mapping and returns a :class:`Filters` (a Filters is returned as is).

    The keys are ``source``, ``country`` (matched without regard to case), ``since`` and
    ``until`` (ISO dates or :class:`datetime.date`, inclusive) and ``article_id`` (one id or a
    list). None and empty values are no restriction.

    Raises:
        ValueError: For filters that are not a mapping, an unknown key, a malformed value, or
            ``since`` later than ``until``.
    """
    if isinstance(filters, Filters):
        return filters
    if not filters:
        return Filters()
    if not isinstance(filters, Mapping):
        raise ValueError(f"filters={filters!r} must be a mapping such as "
                         "{'source': 'Hespress', 'since': '2025-01-01'}, not "
                         f"{type(filters).__name__}")
    known = {*FILTER_KEYS, "article_ids"}
    unknown = set(filters) - known
    if unknown:
        raise ValueError(f"unknown filter {sorted(unknown)}; use {sorted(FILTER_KEYS)}")
    values = {key: value for key, value in filters.items() if value not in (None, "")}
    ids = values.get("article_id", values.get("article_ids"))
    if isinstance(ids, str):
        ids = (ids,)
    if ids is not None and (not isinstance(ids, (list, tuple, set, frozenset))
                            or not all(isinstance(i, str) for i in ids)):
        raise ValueError(f"filter article_id={ids!r} must be an article id or a list of ids")
    since, until = _date_filter(values, "since"), _date_filter(values, "until")
    if since is not None and until is not None and since > until:
        raise ValueError(f"filter since={since.isoformat()} is later than until="
                         f"{until.isoformat()}, so no article could match; swap them")
    return Filters(
        source=_text_filter(values, "source"),
        country=_text_filter(values, "country"),
        since=since,
        until=until,
        article_ids=tuple(ids) if ids is not None else None,
    )


def _text_filter(values: Mapping[str, object], key: str) -> str | None:
    value = values.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"filter {key}={value!r} must be a string")
    if value is not None:
        check_unicode(value, f"filter {key}")
    return value


def _date_filter(values: Mapping[str, object], key: str) -> dt.date | None:
    value = values.get(key)
    if isinstance(value, dt.datetime):
        return value.date()  # compared with the day an article was published
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"filter {key}={value!r} is not a date; write it as YYYY-MM-DD") from None
