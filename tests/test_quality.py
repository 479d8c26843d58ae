"""Retrieval and answer quality on the labelled eval set, over the real index of the whole
corpus (the ``whole_index`` fixture).

The thresholds sit a little below what the eval measured on its dev split, the questions they
were chosen on (see the README's tables), so a change that makes retrieval or answers clearly
worse fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from articleqa import ArticleIndex, evaluation

EVALSET = Path(__file__).parent / "data" / "evalset.jsonl"


@pytest.fixture(scope="module")
def results(whole_index: ArticleIndex) -> dict[str, evaluation.EvalResult]:
    questions = evaluation.select_split(evaluation.load_evalset(EVALSET), "dev")

    def searcher(mode: str) -> evaluation.Search:
        return lambda texts, k: whole_index.search(texts, k, mode=mode)

    return evaluation.compare(
        questions, {mode: searcher(mode) for mode in ("dense", "bm25", "hybrid")},
        paths_of=lambda article: whole_index.article_paths(article.id),
    )


def _metric(results: dict[str, evaluation.EvalResult], mode: str, name: str) -> float:
    return results[mode].headline.metrics[name]


def test_search_uses_hybrid_by_default(whole_index: ArticleIndex) -> None:
    questions = [q.question for q in evaluation.load_evalset(EVALSET)[:40]]
    ids = [[h.chunk_id for h in hits] for hits in whole_index.search(questions, 5)]
    assert ids == [[h.chunk_id for h in hits]
                   for hits in whole_index.search(questions, 5, mode="hybrid")]
    assert ids != [[h.chunk_id for h in hits]
                   for hits in whole_index.search(questions, 5, mode="dense")]


@pytest.mark.parametrize("metric", ["recall@5", "mrr@10"])
def test_hybrid_beats_the_best_single_mode(results: dict, metric: str) -> None:
    best_single = max(_metric(results, "dense", metric), _metric(results, "bm25", metric))
    assert _metric(results, "hybrid", metric) >= best_single + 0.01


def test_hybrid_reaches_the_recall_target(results: dict) -> None:
    assert results["hybrid"].headline.questions >= 150
    assert _metric(results, "hybrid", "recall@5") >= 0.91
    assert _metric(results, "hybrid", "mrr@10") >= 0.74
    assert _metric(results, "hybrid", "answer_recall@5") >= 0.90


def test_misspelled_names_are_found(results: dict) -> None:
    assert results["hybrid"].groups["tag:misspelling"].metrics["recall@5"] >= 0.85


@pytest.mark.parametrize("question", [
    "What did Hamouchi say about cybercrime?",   # variant spelling used in the article
    "What did Hammouchi say about cybercrime?",  # his words there start with "He stressed"
])
def test_name_variants_and_pronouns_reach_his_words(whole_index: ArticleIndex,
                                                    question: str) -> None:
    first = whole_index.search_one(question, k=1)[0]
    assert "He stressed that" in first.text and "Convention against Cybercrime" in first.text


def test_filters_give_the_best_k_that_match(whole_index: ArticleIndex) -> None:
    hits = whole_index.search_one("security cooperation", k=5, filters={"country": "Morocco"},
                                 per_article=None)
    assert len(hits) == 5 and {h.article.country for h in hits} == {"Morocco"}
    dated = whole_index.search_one("Interpol", k=3, filters={"since": "2025-11-01",
                                                           "until": "2025-11-30"})
    assert dated and all(h.article.source == "Hespress" for h in dated)
    bbc = whole_index.search_one("What did Hammouchi say about cybercrime?", k=5,
                                filters={"source": "BBC News"})
    assert len(bbc) == 5 and all(h.article.source == "BBC News" for h in bbc)


def test_diversity_limits_passages_per_article(whole_index: ArticleIndex) -> None:
    unlimited = whole_index.search_one("Hammouchi Interpol security", k=8, per_article=None)
    assert sum(h.article.source == "Hespress" for h in unlimited) > 2
    limited = whole_index.search_one("Hammouchi Interpol security", k=8, per_article=2)
    assert sum(h.article.source == "Hespress" for h in limited) == 2 and len(limited) == 8


def test_unanswerable_eval_questions_are_refused(whole_index: ArticleIndex) -> None:
    questions = [q for q in evaluation.select_split(evaluation.load_evalset(EVALSET), "dev")
                 if not q.answerable]
    report = evaluation.evaluate_answers(questions, whole_index.ask)
    assert len(questions) >= 10
    assert report.refused >= 0.42  # measured 0.48 (45 of 94) on dev; a clear drop fails


# -- the questions a new user tried (the quality issue) ----------------------------------------

def test_who_hosted_the_assembly_is_answered_with_morocco(whole_index: ArticleIndex) -> None:
    answer = whole_index.ask("Who hosted the Interpol General Assembly?")
    assert answer.answered
    first = answer.citations[0].quote
    assert "Morocco" in first and "host" in first


def test_the_chancellors_lead_stands_only_over_his_own_words(whole_index: ArticleIndex) -> None:
    answer = whole_index.ask("What did the Chancellor say about the economy?")
    assert answer.answered and "economy" in answer.citations[0].quote.lower()
    # The person behind the role is named, and it is not the shadow chancellor.
    assert "the Chancellor (Gordon Brown) said:" in answer.text, answer.text
    assert "(Oliver Letwin)" not in answer.text and answer.speaker == "Gordon Brown"
    for paragraph in answer.text.split("\n\n"):
        if paragraph.endswith("the Chancellor said:") or "the Chancellor (" in paragraph:
            quotes = answer.text.split(paragraph, 1)[1].split("\n\n")[1]
            assert "Letwin" not in quotes, quotes


def test_who_won_quotes_a_winner_or_refuses(whole_index: ArticleIndex) -> None:
    answer = whole_index.ask("Who won the Australian Open?")
    if answer.answered:
        assert any("won" in c.quote and "Australian Open" in c.quote for c in answer.citations)


@pytest.mark.parametrize(("question", "why"), [
    ("Who was elected president of Interpol at the Marrakech General Assembly?",
     "who was elected"),  # the speech names no one elected
    ("What did Hammouchi say about drone smuggling?", None),  # he spoke of no drones
    # The article speaks of police (a form of "policing"), so it passes the article's check;
    # his words in it hold no word of the subject.
    ("What did Hammouchi say about artificial intelligence in policing?",
     "anything Hammouchi said about artificial intelligence in policing"),
    ("Who is the president of Interpol?", "who the president is"),  # it names none
])
def test_what_the_overview_article_does_not_say_is_refused(whole_index: ArticleIndex,
                                                             question: str,
                                                             why: str | None) -> None:
    answer = whole_index.ask(question)
    assert not answer.answered, answer.text
    assert answer.lacking == why
    assert "Hammouchi" in answer.hits[0].article.title  # the closest article is still offered


@pytest.fixture(scope="module")
def whole_postgres(whole_index: ArticleIndex, postgres):
    """The whole index copied into PostgreSQL (the same vectors); read-only."""
    with postgres.copy_of(whole_index) as index:
        yield index


@pytest.fixture(scope="module")
def postgres_results(whole_postgres: ArticleIndex) -> dict[str, evaluation.EvalResult]:
    """The dev figures of the whole index in PostgreSQL."""
    questions = evaluation.select_split(evaluation.load_evalset(EVALSET), "dev")
    return evaluation.compare(
        questions,
        {mode: (lambda texts, k, mode=mode: whole_postgres.search(texts, k, mode=mode))
         for mode in ("dense", "hybrid")},
        paths_of=lambda article: whole_postgres.article_paths(article.id),
    )


def test_postgres_filters_give_the_folder_hits(whole_index: ArticleIndex,
                                               whole_postgres: ArticleIndex) -> None:
    """A filter that leaves few passages is searched exactly in PostgreSQL: HNSW with the filter
    missed the best passage of these four articles."""
    questions = ["What did the minister say about the economy?", "Who won the match?",
                 "What did Hammouchi say about cybercrime?", "film awards ceremony"]
    some = sorted({h.article.id for h in whole_index.search_one("football transfer", 10,
                                                                per_article=1)})[:4]
    for filters in ({"article_id": some}, {"source": "Hespress"}):
        for mode in ("dense", "hybrid"):
            mine = whole_index.search(questions, 5, mode=mode, filters=filters)
            theirs = whole_postgres.search(questions, 5, mode=mode, filters=filters)
            assert [[h.chunk_id for h in hits] for hits in theirs] == \
                [[h.chunk_id for h in hits] for hits in mine]


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
@pytest.mark.parametrize("metric", ["recall@5", "mrr@5", "ndcg@5", "answer_recall@5"])
def test_postgres_gives_the_folder_figures(results: dict, postgres_results: dict, mode: str,
                                           metric: str) -> None:
    """The issue's bar: within 0.01 of the folder store at k = 5 (HNSW ef_search 100)."""
    assert abs(_metric(postgres_results, mode, metric) - _metric(results, mode, metric)) <= 0.01


def test_a_quote_comes_with_the_speakers_words_that_go_on(whole_index: ArticleIndex) -> None:
    # The strategist is named in one sentence; his reason is the quotation after it.
    answer = whole_index.ask("Why can nobody sue the Russian state over the Yuganskneftegas "
                             "sale, according to a Sovlink strategist?")
    quote = next(c.quote for c in answer.citations if "Sovlink" in c.quote)
    assert "sovereign immunity" in quote, answer.text
    assert "Eric Kraus said:" in answer.text
