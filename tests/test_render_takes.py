"""What the page and the /ask endpoint show of a date window and of other outlets' takes
(pure rendering, made-up records)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from articleqa.answering import Answer, Citation
from articleqa.coverage import Take, coverage_answer, coverage_question
from articleqa.readers.article import Article
from articleqa.retrieval import Hit
from articleqa.timewindow import TimeWindow
from articleqa.web.render import render_reply, render_sources, reply_as_text

BODY = "Crews stopped work on Wednesday. No ferry sailed."


def _article(n: int, source: str, country: str, title: str = "Ferry crews strike") -> Article:
    return Article(id=f"a{n}", title=title, body=BODY, source=source, country=country,
                   published=dt.date(2025, 11, 26), url=f"https://example.org/{n}", path=None)


def _answer(window: TimeWindow | None = None, skipped: int = 0) -> Answer:
    hit = Hit("c1", BODY, 0.7, 0, len(BODY), _article(1, "Straits Post", "Morocco"))
    citation = Citation(1, hit, "Crews stopped work on Wednesday.", 0, 32)
    return Answer("What did the crews do last week?", "Crews stopped work on Wednesday. [1]",
                  True, (citation,), (hit,), window=window, undated_skipped=skipped)


WINDOW = TimeWindow(dt.date(2025, 11, 17), dt.date(2025, 11, 23), "last week")


def test_the_window_is_shown_with_the_reply_and_the_sources() -> None:
    answer = _answer(WINDOW, skipped=2)
    reply = render_reply(answer)
    assert reply.startswith("*Searched articles from 17–23 November 2025 \\(2 undated articles "
                            "left out\\)*\n")
    assert "[1]</a>" in reply
    assert ("Searched articles from 17–23 November 2025 (2 undated articles left out)."
            in render_sources(answer))
    assert "Searched articles from 17–23 November 2025 (2 undated articles left out)." in (
        reply_as_text(answer))
    plain = _answer()
    assert "Searched" not in render_reply(plain) + render_sources(plain) + reply_as_text(plain)
    assert WINDOW.describe(1) == "Searched articles from 17–23 November 2025 (1 undated article " \
                                 "left out)"


def test_the_sources_show_other_outlets_takes_on_the_cited_article() -> None:
    answer = _answer()
    other = Hit("c9", BODY, 0.6, 0, len(BODY), _article(3, "Channel Courier", "United Kingdom"))
    answer = replace(answer, citations=(*answer.citations, Citation(2, other, BODY[:32], 0, 32)))
    takes = [Take(_article(2, "Diario del Estrecho", "Spain", "Huelga <b>en</b> el Estrecho"),
                  0.91, 0.7, ("ortega",), 0),
             Take(_article(3, "Channel Courier", "United Kingdom"), 0.8, 0.6, (), 1)]
    panel = render_sources(answer, takes=takes)
    assert "Other outlets' takes on “Ferry crews strike” (2)" in panel
    section = panel[panel.index("aq-takes"):]
    assert "Diario del Estrecho · Spain · 26 Nov 2025 · similarity 0.91</div>" in section
    assert "Channel Courier · United Kingdom · 26 Nov 2025 · similarity 0.80 · cited [2]" in (
        section)
    assert "Straits Post" not in section
    assert "Huelga &lt;b&gt;en&lt;/b&gt; el Estrecho" in section  # escaped
    assert 'href="https://example.org/2"' in section
    assert "aq-takes" not in render_sources(answer)
    refused = replace(answer, answered=False, citations=())
    assert "aq-takes" not in render_sources(refused, takes=takes)


def test_coverage_questions_are_recognised() -> None:
    assert coverage_question("How did different outlets cover the ferry strike?") == (
        "the ferry strike")
    assert coverage_question("How did other countries' papers cover the Interpol assembly?") == (
        "the Interpol assembly")
    assert coverage_question("How was the jet order covered by foreign media?") == (
        "the jet order")
    assert coverage_question("What did other outlets say about the Danube flood?") == (
        "the Danube flood")
    assert coverage_question("Other outlets' takes on the solar plant") == "the solar plant"
    for question in ("How did the BBC cover the election?", "How did Wydad sign Ramos?",
                     "What did Hammouchi say about cybercrime?"):
        assert coverage_question(question) is None


def test_a_coverage_answer_quotes_each_outlet_once_by_country() -> None:
    hits = [Hit(f"c{n}", BODY, 0.7, 0, len(BODY), _article(n, source, country))
            for n, (source, country) in enumerate([("Straits Post", "Morocco"),
                                                   ("Diario del Estrecho", "Spain"),
                                                   ("Casablanca Sport", "Morocco")], start=1)]
    answer = coverage_answer("How did different outlets cover it?", hits)
    assert answer.answered and len(answer.citations) == 3
    assert answer.text.splitlines() == [
        "How 3 outlets in 2 countries told “Ferry crews strike”:", "",
        "Morocco:",
        "- Straits Post (26 November 2025): “Crews stopped work on Wednesday.” [1]",
        "- Casablanca Sport (26 November 2025): “Crews stopped work on Wednesday.” [2]", "",
        "Spain:",
        "- Diario del Estrecho (26 November 2025): “Crews stopped work on Wednesday.” [3]"]
    for citation in answer.citations:
        assert citation.quote == citation.hit.article.body[citation.start:citation.end]
    alone = coverage_answer("How did different outlets cover it?", hits[:1])
    assert alone.text.startswith("Only Straits Post tells “Ferry crews strike”")
    assert not coverage_answer("How did different outlets cover it?", []).answered
