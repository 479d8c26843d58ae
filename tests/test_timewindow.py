"""Time words in questions: the windows they set, counted from the asking day, and the recency
preference. The labelled questions of ``tests/data/takes/questions.jsonl`` are checked too."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from articleqa.filters import Filters
from articleqa.timewindow import (
    RECENCY_WEIGHT,
    TimeQuery,
    TimeWindow,
    as_of_date,
    date_range_label,
    narrow,
    parse_time,
    recency_prior,
)

QUESTIONS = Path(__file__).parent / "data" / "takes" / "questions.jsonl"
#: A Thursday.
THURSDAY = dt.date(2025, 11, 27)


def _window(question: str, as_of: object = THURSDAY) -> tuple[dt.date, dt.date] | None:
    window = parse_time(question, as_of).window
    return None if window is None else (window.since, window.until)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(("question", "since", "until"), [
    ("What happened at the port yesterday?", "2025-11-26", "2025-11-26"),
    ("What did Hammouchi say today?", "2025-11-27", "2025-11-27"),
    ("What did Hammouchi say this week?", "2025-11-24", "2025-11-27"),
    ("What did Hammouchi say last week?", "2025-11-17", "2025-11-23"),
    ("What did the minister say on Monday?", "2025-11-24", "2025-11-24"),
    ("What did the minister say on Thursday?", "2025-11-20", "2025-11-20"),  # not today
    ("What happened last month?", "2025-10-01", "2025-10-31"),
    ("What happened this month?", "2025-11-01", "2025-11-27"),
    ("What happened in March?", "2025-03-01", "2025-03-31"),
    ("What happened in December?", "2024-12-01", "2024-12-31"),  # the latest December
    ("What happened in March 2024?", "2024-03-01", "2024-03-31"),
    ("Which deals were signed this year?", "2025-01-01", "2025-11-27"),
    ("Which deals were signed last year?", "2024-01-01", "2024-12-31"),
    ("What has Interpol done since 2024?", "2024-01-01", "2025-11-27"),
    ("What has Interpol done since 3 November?", "2025-11-03", "2025-11-27"),
    ("What happened between 1 and 15 November 2025?", "2025-11-01", "2025-11-15"),
    ("What happened between 3 March 2025 and 2025-04-10?", "2025-03-03", "2025-04-10"),
    ("What happened from November 3 to November 10?", "2025-11-03", "2025-11-10"),
    ("What happened over the past two weeks?", "2025-11-14", "2025-11-27"),
    ("What is the latest on the ferry strike?", "2025-10-29", "2025-11-27"),
    ("What did the union say recently?", "2025-10-29", "2025-11-27"),
    ("Who won on 2025-11-20?", "2025-11-20", "2025-11-20"),
])
def test_time_words_set_a_window_counted_from_the_asking_day(question: str, since: str,
                                                             until: str) -> None:
    assert _window(question) == (d(since), d(until))


def test_yesterday_and_last_month_across_a_month_and_a_year_end() -> None:
    assert _window("What happened yesterday?", "2025-12-01") == (d("2025-11-30"), d("2025-11-30"))
    assert _window("What happened last month?", "2026-01-05") == (d("2025-12-01"),
                                                                   d("2025-12-31"))
    assert _window("What happened last month?", dt.datetime(2025, 3, 31, 23, 0)) == (
        d("2025-02-01"), d("2025-02-28"))
    # The week starts on Monday; asked on a Monday, "this week" is that day.
    assert _window("What happened this week?", "2025-11-24") == (d("2025-11-24"), d("2025-11-24"))


@pytest.mark.parametrize("question", [
    "How much profit did the insurance unit make in 2004?",  # a year dates the event
    "What did Madeley say about this year's Richard and Judy book club selection?",
    "When did Brazil's unemployment rate reach its recent peak?",
    "Who was Howard confident would set out the Tory position in next week's debate?",
    "Since when has the dollar been falling?",
    "What did Hammouchi say about cybercrime?",
    "Who is the chief executive of May Holdings?",
    "What did Brown tell the Today programme?",
])
def test_words_that_date_the_event_or_a_thing_are_no_window(question: str) -> None:
    assert parse_time(question, THURSDAY) == TimeQuery(question, None)


def test_the_time_words_are_taken_out_of_the_question() -> None:
    query = parse_time("What did Hammouchi say this week?", THURSDAY)
    assert query.text == "What did Hammouchi say?"
    assert query.window == TimeWindow(d("2025-11-24"), d("2025-11-27"), "this week")
    assert parse_time("Yesterday, what happened at the port?", THURSDAY).text == (
        "what happened at the port?")
    assert parse_time("yesterday", THURSDAY).text == "yesterday"  # nothing else to search


def test_the_window_reads_as_a_reader_writes_it() -> None:
    window = parse_time("What did he say last week?", THURSDAY).window
    assert window is not None
    assert window.describe() == "Searched articles from 17–23 November 2025"
    assert date_range_label(d("2025-11-24"), d("2025-11-24")) == "24 November 2025"
    assert date_range_label(d("2025-10-29"), d("2025-11-27")) == "29 October – 27 November 2025"
    assert date_range_label(d("2025-12-29"), d("2026-01-04")) == (
        "29 December 2025 – 4 January 2026")


def test_as_of_takes_a_date_a_datetime_or_iso_text_and_defaults_to_today() -> None:
    assert as_of_date("2025-11-27") == THURSDAY
    assert as_of_date(dt.datetime(2025, 11, 27, 8, 30)) == THURSDAY
    assert as_of_date(THURSDAY) == THURSDAY
    assert as_of_date(None) == dt.date.today()
    for bad in ("next Tuesday", 20251127, "2025-13-01"):
        with pytest.raises(ValueError, match="as_of"):
            as_of_date(bad)


def test_a_window_narrows_the_filters_dates() -> None:
    window = TimeWindow(d("2025-11-17"), d("2025-11-23"), "last week")
    assert narrow(Filters(), None) == Filters()
    assert narrow(Filters(source="Hespress"), window) == Filters(
        source="Hespress", since=d("2025-11-17"), until=d("2025-11-23"))
    assert narrow(Filters(since=d("2025-11-20")), window) == Filters(
        since=d("2025-11-20"), until=d("2025-11-23"))


def test_recency_prior_is_mild_and_gives_undated_articles_nothing() -> None:
    prior = recency_prior({1: THURSDAY, 2: d("2025-11-13"), 3: None, 4: d("2025-12-05"),
                           5: d("2004-02-01")}, THURSDAY)
    assert prior[1] == pytest.approx(RECENCY_WEIGHT)
    assert prior[2] == pytest.approx(RECENCY_WEIGHT / 2)  # one half-life old
    assert prior[3] == 0.0
    assert prior[4] == pytest.approx(RECENCY_WEIGHT)  # after the asking day: as new
    assert 0 <= prior[5] < 1e-6
    assert max(prior.values()) <= 0.05  # mild: well under the gap between passages


def test_the_labelled_window_questions() -> None:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 12
    for row in rows:
        assert _window(row["question"], row["as_of"]) == (d(row["since"]), d(row["until"])), row
