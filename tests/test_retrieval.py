"""Retrieval with the real model and real FAISS over the small real corpus (see conftest)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest

from articleqa import ArticleIndex
from articleqa.store import SEGMENTS
from tests.conftest import SMALL_CORPUS

QUESTION = "What did Hammouchi say about cybercrime?"
QUESTIONS = [
    QUESTION,
    "How much did Time Warner's quarterly profits rise?",
    "Who won the Australian Open?",
    "What did the chancellor say about the economy?",
    "Which mobile phone features do people want?",
]


def test_hammouchi_cybercrime_passage_comes_first(small_index: ArticleIndex) -> None:
    hits = small_index.search([QUESTION], k=5)[0]
    first = hits[0]
    assert first.article.source == "Hespress"
    assert "United Nations Convention against Cybercrime" in first.text
    assert "hybrid warfare" in first.text
    assert first.article.body[first.start : first.end] == first.text


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_finds_the_cybercrime_passage_first(small_index: ArticleIndex,
                                                       mode: str) -> None:
    first = small_index.search_one(QUESTION, k=3, mode=mode)[0]
    assert "United Nations Convention against Cybercrime" in first.text


def test_dense_hits_come_in_score_order(small_index: ArticleIndex) -> None:
    hits = small_index.search_one(QUESTION, k=10, mode="dense", per_article=None)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hits_carry_article_metadata(small_index: ArticleIndex) -> None:
    hit = small_index.search_one(QUESTION, k=1)[0]
    article = hit.article
    assert article.title.startswith("Hammouchi: Morocco links security")
    assert (article.source, article.country, str(article.published)) == (
        "Hespress", "Morocco", "2025-11-24")
    assert article.path.endswith("000_9f3ee334bca204eb.txt")
    assert -1.0 <= hit.score <= 1.0


def test_batch_search_equals_single_searches(small_index: ArticleIndex) -> None:
    batch = small_index.search(QUESTIONS, k=4)
    singles = [small_index.search_one(q, k=4) for q in QUESTIONS]
    assert [[h.chunk_id for h in hits] for hits in batch] == [
        [h.chunk_id for h in hits] for hits in singles]
    for hits_a, hits_b in zip(batch, singles):
        assert [h.score for h in hits_a] == pytest.approx([h.score for h in hits_b], abs=1e-5)


def test_faiss_top_k_equals_brute_force(small_index: ArticleIndex,
                                        small_index_path: Path) -> None:
    ids, vectors = [], []
    for file in sorted((small_index_path / SEGMENTS).glob("*.faiss")):
        segment = faiss.read_index(str(file))
        ids.append(faiss.vector_to_array(segment.id_map))
        vectors.append(segment.index.reconstruct_n(0, segment.ntotal))
    ids, matrix = np.concatenate(ids), np.concatenate(vectors)
    queries = small_index.encoder.encode(QUESTIONS)
    k = 10
    expected_order = np.argsort(-(queries @ matrix.T), axis=1, kind="stable")[:, :k]
    scores, found = small_index._store.search(queries, k)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ matrix.T, expected_order,
                                                          axis=1), atol=1e-5)
    # Equal scores may come in either order; compare ids where scores differ clearly.
    for row in range(len(QUESTIONS)):
        gaps = np.abs(np.diff(scores[row])) > 1e-6
        for j in range(k):
            if (j == 0 or gaps[j - 1]) and (j == k - 1 or gaps[j]):
                assert found[row, j] == ids[expected_order[row, j]]


def test_saved_index_gives_same_hits_in_a_new_process(small_index: ArticleIndex,
                                                      small_index_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from articleqa import ArticleIndex\n"
        "index = ArticleIndex.open(sys.argv[1], create=False)\n"
        "questions = json.loads(sys.argv[2])\n"
        "print(json.dumps([[[h.chunk_id, h.score] for h in hits]\n"
        "                  for hits in index.search(questions, k=5)]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(small_index_path), json.dumps(QUESTIONS)],
        capture_output=True, text=True, check=True, timeout=300,
    )
    other = json.loads(result.stdout)
    here = [[[h.chunk_id, h.score] for h in hits] for hits in small_index.search(QUESTIONS, k=5)]
    assert [[c for c, _ in row] for row in other] == [[c for c, _ in row] for row in here]
    for row_other, row_here in zip(other, here):
        assert [s for _, s in row_other] == pytest.approx([s for _, s in row_here], abs=1e-5)


def test_reingest_embeds_nothing(small_index_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(small_index_path, copy)
    with ArticleIndex.open(copy, create=False) as index:
        before = index.info()
        report = index.ingest(SMALL_CORPUS, progress=False)
        after = index.info()
    assert report.passages == 0 and not report.added and not report.removed
    assert len(report.unchanged) + len(report.duplicates) == len(SMALL_CORPUS)
    assert (after["articles"], after["passages"]) == (before["articles"], before["passages"])
