"""BM25 terms, rank fusion, per-article limits, and lexical search in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from articleqa import ArticleIndex
from articleqa.embedding import HashEncoder
from articleqa.lexical import fts_query, terms
from articleqa.retrieval import fuse_scores, limit_per_article
from tests.conftest import OVERVIEW


def test_terms_drop_case_punctuation_possessives_and_common_words() -> None:
    assert terms("What did Hammouchi's team say about CYBERCRIME?") == [
        "hammouchi", "hamouchi", "team", "cybercrime"]
    assert terms("Café’s owner don't") == ["cafe", "owner", "dont"]
    assert terms("profits rose 76% to $1.13bn") == ["profits", "rose", "76", "1.13bn"]


def test_doubled_letters_meet_their_single_spelling() -> None:
    assert "hamouchi" in terms("Hammouchi") and terms("Hamouchi") == ["hamouchi"]
    assert "randal" in terms("Randall") and terms("Randal") == ["randal"]
    assert terms("2004") == ["2004"]  # numbers are never squashed


def test_fts_query_quotes_terms_and_handles_empty() -> None:
    assert fts_query('say "cybercrime" OR NEAR') == '"cybercrime" OR "near"'
    assert fts_query("what did he say?") is None


def test_fuse_scores_hand_worked() -> None:
    # weight 0.5, best BM25 4: 1 -> .50 + .5 * 2/4 = .75, 2 -> .60 + 0 = .60,
    # 3 -> 0 + .5 * 4/4 = .50 (BM25 only), 4 -> .55 + .5 * 1/4 = .675.
    cosine = {1: 0.50, 2: 0.60, 4: 0.55}
    bm25 = {3: 4.0, 1: 2.0, 4: 1.0}
    assert fuse_scores(cosine, bm25, weight=0.5) == [1, 4, 2, 3]
    assert fuse_scores(cosine, bm25, weight=0.0) == [2, 4, 1, 3]  # cosine alone
    assert fuse_scores(cosine, {}) == [2, 4, 1]
    assert fuse_scores({}, {7: 3.0, 8: 1.5}) == [7, 8]
    assert fuse_scores({}, {}) == []
    # A big weight is BM25's order, whatever the cosines.
    assert fuse_scores(cosine, bm25, weight=100.0)[:3] == [3, 1, 4]


def test_limit_per_article() -> None:
    article_of = {1: "a", 2: "a", 3: "a", 4: "b", 5: "c"}
    assert limit_per_article([1, 2, 3, 4, 5], article_of, 2, 10) == [1, 2, 4, 5]
    assert limit_per_article([1, 2, 3, 4, 5], article_of, 1, 2) == [1, 4]
    assert limit_per_article([1, 2, 3, 4, 5], article_of, None, 3) == [1, 2, 3]
    assert limit_per_article([9, 1], article_of, 1, 5) == [1]  # unknown ids skipped


@pytest.fixture
def small_index(tmp_path: Path) -> ArticleIndex:
    (tmp_path / "a.txt").write_text(
        "Harbour board approves new ferry terminal\n\n"
        "The harbour board voted on Tuesday to build a ferry terminal. Randall Price, the "
        "board's chair, called it overdue.\n\nConstruction starts in spring.\n",
        encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        '{"title": "Orchard growers fear late frost", "text": "Apple growers in the valley '
        'expect a smaller harvest after a late frost.", "source": "Valley Post", '
        '"country": "Canada", "published": "2024-04-02"}\n', encoding="utf-8")
    index = ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder())
    index.ingest([OVERVIEW, tmp_path / "a.txt", tmp_path / "b.jsonl"], progress=False)
    yield index
    index.close()


def test_bm25_matches_variant_spelling_and_pronoun_passages(small_index: ArticleIndex) -> None:
    hits = small_index.search(["What did Hamouchi say about cybercrime?"], k=3, mode="bm25",
                              per_article=None)[0]
    assert hits and all(h.article.source == "Hespress" for h in hits)
    # His words, introduced only by a pronoun, match through the headline's name.
    assert "He stressed that" in hits[0].text and "Cybercrime" in hits[0].text
    randal = small_index.search_one("Randal Price ferry", k=1, mode="bm25")
    assert randal[0].article.title.startswith("Harbour board")


def test_bm25_applies_filters_inside_retrieval(small_index: ArticleIndex) -> None:
    hits = small_index.search_one("frost harvest cybercrime", k=5, mode="bm25",
                                  filters={"country": "Morocco"}, per_article=None)
    assert hits and {h.article.country for h in hits} == {"Morocco"}
    assert small_index.search_one("frost", k=5, mode="bm25", filters={"until": "2023-12-31"}) == []


def test_every_mode_scores_hits_by_cosine(small_index: ArticleIndex) -> None:
    question = "late frost apple harvest"
    by_mode = {m: small_index.search_one(question, k=3, mode=m) for m in ("dense", "bm25",
                                                                          "hybrid")}
    query = small_index.encoder.encode([question])[0]
    for hits in by_mode.values():
        for hit in hits:
            vector = small_index.encoder.encode([f"{hit.article.title}\n{hit.text}"])[0]
            assert hit.score == pytest.approx(float(vector @ query), abs=1e-5)


def test_per_article_limit_applies(small_index: ArticleIndex) -> None:
    hits = small_index.search_one("Hammouchi security Interpol", k=5, per_article=1)
    assert len({h.article.id for h in hits}) == len(hits)
    with pytest.raises(ValueError, match="per_article"):
        small_index.search_one("x", per_article=0)
    with pytest.raises(ValueError, match="mode"):
        small_index.search_one("x", mode="sparse")


def test_removed_article_leaves_bm25(small_index: ArticleIndex) -> None:
    target = small_index.search_one("frost", k=1, mode="bm25")[0].article.id
    small_index.remove(target)
    assert all(h.article.id != target for h in small_index.search_one("frost", k=5, mode="bm25"))
