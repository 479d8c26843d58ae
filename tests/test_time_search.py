"""Time inside search and ask, over a small index with a fake encoder: a window from the
question's time words, undated articles left out by it (and counted), the recency preference."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from articleqa import Answer, ArticleIndex, Citation
from articleqa.embedding import HashEncoder

THURSDAY = dt.date(2025, 11, 27)


def _article(title: str, published: str | None, text: str | None = None) -> dict:
    body = text or (f"{title}. The harbour ferry crews of Portmere stopped work and the "
                    "union said talks would go on.")
    record = {"title": title, "text": body, "source": "Portmere Post", "country": "Ireland"}
    if published:
        record["published"] = published
    return record


@pytest.fixture
def index(tmp_path: Path):
    records = [
        _article("Ferry strike at Portmere harbour", "2025-11-26"),
        _article("Ferry strike threat at Portmere harbour", "2025-11-12"),
        _article("Ferry strike history at Portmere harbour", None),
        _article("Ferry fares at Portmere harbour", "2025-10-15"),
    ]
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with ArticleIndex.open(tmp_path / "index", encoder=HashEncoder(), llm=None) as opened:
        opened.ingest([path], progress=False)
        yield opened


def _titles(hits) -> list[str]:
    return [hit.article.title for hit in hits]


def test_time_words_limit_the_search_to_their_window(index: ArticleIndex) -> None:
    question = "What happened with the Portmere ferry strike"
    this_week = index.search_one(f"{question} this week?", k=5, as_of=THURSDAY)
    assert _titles(this_week) == ["Ferry strike at Portmere harbour"]
    yesterday = index.search_one(f"{question} yesterday?", k=5, as_of="2025-11-13")
    assert _titles(yesterday) == ["Ferry strike threat at Portmere harbour"]
    last_month = index.search_one(f"{question} last month?", k=5, as_of=THURSDAY)
    assert _titles(last_month) == ["Ferry fares at Portmere harbour"]
    # No article is dated in March: rather than nothing, articles of any date are searched.
    in_march = index.search_one(f"{question} in March?", k=5, as_of=THURSDAY)
    assert len(in_march) == 4
    assert index.search_one(f"{question} in March?", k=5, as_of=THURSDAY,
                            filters={"country": "France"}) == []
    # A window and the filters both apply.
    assert index.search_one(f"{question} this month?", k=5, as_of=THURSDAY,
                            filters={"until": "2025-11-20"}) == index.search_one(
        f"{question}?", k=5, filters={"since": "2025-11-01", "until": "2025-11-20"})


def test_a_batch_searches_each_question_in_its_own_window(index: ArticleIndex) -> None:
    questions = ["Portmere ferry strike this week?", "Portmere ferry strike?",
                 "Portmere ferry strike last month?", "Portmere ferry strike this week?"]
    results = index.search(questions, k=5, as_of=THURSDAY)
    assert [len(hits) for hits in results] == [1, 4, 1, 1]
    assert results[0] == results[3]
    assert results[1] == index.search_one("Portmere ferry strike?", k=5, as_of=THURSDAY)


def test_without_time_words_recent_articles_rank_a_little_higher(index: ArticleIndex) -> None:
    same_words = "Ferry strike at Portmere harbour"
    hits = index.search_one(same_words, k=4, as_of=THURSDAY)
    assert len(hits) == 4  # undated and old articles are all still there
    assert "Ferry strike history at Portmere harbour" in _titles(hits)
    # Asked long after, no article is recent: the order is the plain one.
    late = index.search_one(same_words, k=4, as_of="2030-01-01")
    assert {h.chunk_id for h in late} == {h.chunk_id for h in hits}
    assert [h.score for h in late] == sorted((h.score for h in late), reverse=True)


def test_the_recency_preference_lifts_a_newer_article_a_little(tmp_path: Path) -> None:
    words = "The Portmere harbour ferry crews stopped work on the quay"
    records = [_article("Portmere quay", "2025-11-01", f"{words}."),
               # one more word: a little further from the question than the older one
               _article("Portmere quay", "2025-11-26", f"{words} again."),
               _article("Portmere quay", "2025-11-26", "Portmere gardens open in spring.")]
    path = tmp_path / "same.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with ArticleIndex.open(tmp_path / "index", encoder=HashEncoder(), llm=None) as index:
        index.ingest([path], progress=False)
        question = "Portmere quay ferry crews stopped work"
        fresh = index.search_one(question, k=3, as_of="2025-11-27")
        assert [h.article.published for h in fresh[:2]] == [dt.date(2025, 11, 26),
                                                            dt.date(2025, 11, 1)]
        assert fresh[0].score < fresh[1].score  # the score stays the cosine
        # Years later neither is recent: the closer passage comes first.
        late = index.search_one(question, k=3, as_of="2030-01-01")
        assert [h.article.published for h in late[:2]] == [dt.date(2025, 11, 1),
                                                           dt.date(2025, 11, 26)]
        # The unrelated new article is not lifted above either.
        assert "gardens" in fresh[2].text


def test_ask_gives_its_window_and_the_undated_articles_it_left_out(index: ArticleIndex) -> None:
    answer = index.ask("What happened with the Portmere ferry strike last week?",
                       as_of="2025-11-20")
    assert answer.window is not None
    assert (answer.window.since, answer.window.until) == (dt.date(2025, 11, 10),
                                                          dt.date(2025, 11, 16))
    assert answer.window.describe() == "Searched articles from 10–16 November 2025"
    assert answer.undated_skipped == 1
    assert {hit.article.title for hit in answer.hits} == {
        "Ferry strike threat at Portmere harbour"}
    plain = index.ask("What happened with the Portmere ferry strike?", as_of=THURSDAY)
    assert plain.window is None and plain.undated_skipped == 0 and plain.window_note() is None


def test_a_window_no_article_is_dated_in_searches_articles_of_any_date(
        index: ArticleIndex) -> None:
    # An archive without dates (the BBC files of the shared corpus), or a question from long
    # after its articles ("this week" asked of a quiz archive of 2023): rather than nothing,
    # articles of any date are searched, the time words kept as words, and the answer says so.
    question = "What happened with the Portmere ferry strike in March?"
    answer = index.ask(question, as_of=THURSDAY)
    assert answer.widened and answer.undated_skipped == 0
    assert answer.window_note() == ("No article is dated 1–31 March 2025: searched articles of "
                                    "any date instead")
    dates = {hit.article.published for hit in answer.hits}
    assert None in dates and len(dates) >= 3  # undated, and dated outside March
    # A window that holds dated articles still leaves the undated ones out.
    last_week = index.ask("What happened with the Portmere ferry strike last week?",
                          as_of="2025-11-20")
    assert not last_week.widened and last_week.undated_skipped == 1
    # In batches too, each question in its own window.
    results = index.search(["Portmere ferry strike in March?", "Portmere ferry strike last week?"],
                           k=5, as_of="2025-11-20")
    assert [len(hits) for hits in results] == [4, 1]
    with pytest.raises(ValueError, match="as_of"):
        index.ask("What happened?", as_of="last Tuesday")
    with pytest.raises(ValueError, match="as_of"):
        index.search(["What happened?"], as_of="27/11/2025")


def test_a_window_no_article_is_dated_in_searches_its_words(tmp_path: Path) -> None:
    records = [_article("Portmere crews in June", None, "The Portmere ferry crews were paid "
                        "in June."),
               _article("Portmere crews in March", None, "The Portmere ferry crews were paid "
                        "in March.")]
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as index:
        index.ingest([path], progress=False)
        for mode in ("dense", "bm25", "hybrid"):
            for month in ("March", "June"):  # both ways: a tie broken by luck cannot pass
                hits = index.search_one(f"When were the Portmere ferry crews paid in {month}?",
                                        k=2, mode=mode, as_of=THURSDAY)
                assert [h.article.title for h in hits][:1] == [f"Portmere crews in {month}"], (
                    mode, month)


def test_the_page_passes_the_readers_day_and_finds_takes(tmp_path: Path) -> None:
    from articleqa.web.page import PageActions

    records = [
        {**_article("Ferry strike at Portmere harbour", "2025-11-26"), "source": "Portmere Post"},
        {**_article("Ferry strike at Portmere harbour", "2025-11-26",
                    "Ferry strike at Portmere harbour. The harbour ferry crews of Portmere "
                    "stopped work, the union said."), "source": "Kerry Courier"},
        _article("Ferry strike threat at Portmere harbour", "2025-11-12"),
    ]
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as index, \
            ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as writer:
        index.ingest([path], progress=False)
        actions = PageActions(index, writer)
        answer = actions.ask("What did the Portmere ferry crews do yesterday?", None, None,
                             "2025-11-27")
        assert answer.window is not None and answer.window.label == "26 November 2025"
        assert {hit.article.published for hit in actions.search(
            "Portmere ferry strike this week?", 5, None, "2025-11-27")} == {
            dt.date(2025, 11, 26)}
        hit = next(h for h in actions.search("Portmere ferry strike", 5, None, "2025-11-27")
                   if h.article.source == "Portmere Post" and h.article.published)
        cited = Answer("q", "[1]", True, (Citation(1, hit, hit.text, hit.start, hit.end),),
                       (hit,))
        takes = actions.takes(cited)  # the same day, another outlet: not the older threat
        assert [(t.outlet, t.published) for t in takes] == [("Kerry Courier",
                                                             dt.date(2025, 11, 26))]
        assert actions.takes(replace(answer, citations=())) == []
        actions.close()
