"""Questions in time and other outlets' takes, with the real model over our own multi-outlet
articles (``tests/data/takes``: six events told by three or four outlets of different
countries, stories of other events on the same topics, three weeks of November 2025)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from articleqa import ArticleIndex
from articleqa.coverage import coverage
from articleqa.readers import read_articles
from tests.conftest import TAKES

ARTICLES, _ = read_articles(TAKES / "articles.jsonl")
ID = {article.url.rsplit("/", 1)[1]: article.id for article in ARTICLES}
KEY = {article_id: key for key, article_id in ID.items()}
EVENT = {ID[record["url"].rsplit("/", 1)[1]]: record["event"] for record in (
    json.loads(line) for line in (TAKES / "articles.jsonl").read_text("utf-8").splitlines())}
QUESTIONS = [json.loads(line) for line in
             (TAKES / "questions.jsonl").read_text("utf-8").splitlines()]
THURSDAY = dt.date(2025, 11, 27)


def test_the_set_is_as_labelled() -> None:
    assert len(ARTICLES) >= 30
    events: dict[str, list] = {}
    for article in ARTICLES:
        if EVENT[article.id]:
            events.setdefault(EVENT[article.id], []).append(article)
    assert len(events) >= 5
    for told in events.values():
        assert len({a.source for a in told}) >= 3 and len({a.country for a in told}) >= 3
    days = sorted(a.published for a in ARTICLES if a.published and a.published.month == 11)
    assert (days[-1] - days[0]).days >= 14


def test_this_week_picks_the_story_of_that_week_over_an_older_one(
        takes_index: ArticleIndex) -> None:
    question = "What did Rafael Ortega say about the ferry crews' rosters"
    this_week = takes_index.search_one(f"{question} this week?", k=3, as_of=THURSDAY)
    assert this_week and all(EVENT[hit.article.id] == "ferry-strike" for hit in this_week)
    # Two weeks earlier, the same words find the older story, of that week.
    earlier = takes_index.search_one(f"{question} this week?", k=3, as_of="2025-11-13")
    assert KEY[earlier[0].article.id] == "d-ferry-threat"
    answer = takes_index.ask(f"{question} this week?", as_of=THURSDAY)
    assert answer.answered and answer.window is not None
    assert answer.window.describe() == "Searched articles from 24–27 November 2025"
    assert all(EVENT[c.hit.article.id] == "ferry-strike" for c in answer.citations)
    assert answer.undated_skipped == 2


def test_yesterday_and_last_month_give_their_windows(takes_index: ArticleIndex) -> None:
    yesterday = takes_index.ask("What happened at the port of Tanger Med yesterday?",
                                as_of=THURSDAY)
    assert yesterday.window is not None
    assert (yesterday.window.since, yesterday.window.until) == (dt.date(2025, 11, 26),) * 2
    assert yesterday.hits and all(h.article.published == dt.date(2025, 11, 26)
                                  for h in yesterday.hits)
    last_month = takes_index.ask("How high did the Danube rise in Budapest last month?",
                                 as_of="2025-12-03")
    assert last_month.window is not None
    assert last_month.window.label == "1–30 November 2025"
    assert EVENT[last_month.citations[0].hit.article.id] == "danube-flood"
    assert "8.1 metres" in last_month.text


def test_the_labelled_window_questions_find_their_stories(takes_index: ArticleIndex) -> None:
    for row in QUESTIONS:
        hits = takes_index.search_one(row["question"], k=3, as_of=row["as_of"])
        urls = [hit.article.url for hit in hits]
        assert set(urls) & set(row["relevant"]), (row["question"], urls)
        assert all(row["since"] <= hit.article.published.isoformat() <= row["until"]
                   for hit in hits)


def test_coverage_gives_the_same_event_from_other_outlets(takes_index: ArticleIndex) -> None:
    takes = takes_index.coverage(ID["e1-straits-post"], k=5)
    assert {KEY[take.article.id] for take in takes} == {
        "e1-diario-estrecho", "e1-channel-courier", "e1-quotidien-sud"}
    assert [take.similarity for take in takes] == sorted((t.similarity for t in takes),
                                                         reverse=True)
    for take in takes:
        assert take.outlet != "Straits Post" and take.country and take.published
        assert take.days_apart is not None and take.days_apart <= 1
        assert "ortega" in take.shared_names
    # Ranked without a threshold, the same event comes before a same-topic story of another
    # event: the Marseille crews' strike vote, the day before, in another outlet.
    ranked = coverage(takes_index._store, ID["e1-straits-post"], 10, threshold=-1.0)
    keys = [KEY[take.article.id] for take in ranked]
    assert keys[:3] == [KEY[t.article.id] for t in takes]
    assert "d-marseille-ferry" in keys[3:]
    # The strike threat of two weeks before names the same union leader and company: only the
    # date window keeps it out (30 days: it ranks among the takes).
    wide = coverage(takes_index._store, ID["e1-straits-post"], 3, threshold=-1.0, days=30)
    assert "d-ferry-threat" in [KEY[take.article.id] for take in wide]


def test_coverage_precision_at_3_over_every_event_article(takes_index: ArticleIndex) -> None:
    right = returned = 0
    for article_id, event in EVENT.items():
        if event:
            takes = takes_index.coverage(article_id, k=3)
            assert takes, KEY[article_id]
            right += sum(EVENT[take.article.id] == event for take in takes)
            returned += len(takes)
    assert right / returned >= 0.9


def test_coverage_refuses_an_unknown_article(takes_index: ArticleIndex) -> None:
    from articleqa.errors import ArticleNotFoundError

    with pytest.raises(ArticleNotFoundError):
        takes_index.coverage("0000000000000000")
    with pytest.raises(ValueError, match="k=0"):
        takes_index.coverage(ID["e1-straits-post"], k=0)
    # An undated explainer tells no event: it has no takes, nor is it one.
    assert takes_index.coverage(ID["u-ferry-explainer"]) == []
    assert all(take.published for take in takes_index.coverage(ID["e1-channel-courier"]))


def test_how_did_outlets_cover_it_is_answered_by_outlet_and_country(
        takes_index: ArticleIndex) -> None:
    answer = takes_index.ask("How did different outlets cover the ferry strike at Tanger Med?",
                             as_of=THURSDAY)
    assert answer.answered
    articles = [c.hit.article for c in answer.citations]
    assert {EVENT[a.id] for a in articles} == {"ferry-strike"}
    assert len({a.source for a in articles}) == len(articles) == 4  # one quote an outlet
    for country in ("Morocco", "Spain", "United Kingdom", "France"):
        assert f"{country}:" in answer.text
    for citation in answer.citations:
        assert citation.quote == citation.hit.article.body[citation.start:citation.end]
        assert f"[{citation.number}]" in answer.text
        line = next(line for line in answer.text.splitlines()
                    if f"[{citation.number}]" in line)
        assert citation.hit.article.source in line
