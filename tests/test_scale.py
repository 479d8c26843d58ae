"""Tests of segments by size (articleqa.ann): exact segments when small, IVF when large, with a
lowered threshold and real FAISS; filtered and tombstoned searches against brute force; merges,
checks and old manifests."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from articleqa import ann
from articleqa.chunking import Chunk, chunk_id
from articleqa.errors import IndexCorruptError
from articleqa.filters import Filters
from articleqa.readers import Article
from articleqa.readers.article import article_id
from articleqa.store import MANIFEST, SEGMENTS, IndexStore, Manifest

DIM = 16
#: Small enough that a few hundred vectors make an IVF segment.
PLAN = ann.SegmentPlan(flat_up_to=300, approximate="IVF16,Flat", nprobe=6)


def clustered_rows(rng: np.random.Generator, n: int, clusters: int = 40) -> np.ndarray:
    """Unit rows around a few directions, as passages on a few topics are."""
    centres = np.random.default_rng(0).normal(size=(clusters, DIM))
    rows = centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, DIM))
    rows = rows.astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def scaled_store(folder: Path, plan: ann.SegmentPlan = PLAN) -> IndexStore:
    return IndexStore.create(folder, Manifest("test/model", DIM, 160, flat_up_to=plan.flat_up_to,
                                              approximate=plan.approximate, nprobe=plan.nprobe))


def add_articles(store: IndexStore, vectors: np.ndarray, tag: str,
                 source: str = "Daily") -> dict[str, int]:
    """One article with one passage per vector, ids made from their text (as `check` wants);
    returns article id -> vector id."""
    texts = [(f"Headline {tag} {i}", f"Body {tag} {i}.") for i in range(len(vectors))]
    articles = [Article(article_id(title, body), title, body, source=source)
                for title, body in texts]
    chunks = [Chunk(chunk_id(a.id, a.body), a.id, a.body, 0, len(a.body)) for a in articles]
    with store.writing():
        store.add(articles, chunks, vectors)
    ids = store.matching_vector_ids(Filters(article_ids=tuple(a.id for a in articles)))
    return dict(zip((a.id for a in articles), sorted(ids.tolist())))


def brute_force(vectors: dict[int, np.ndarray], queries: np.ndarray, k: int) -> list[list[int]]:
    ids = np.array(sorted(vectors))
    matrix = np.stack([vectors[i] for i in ids])
    order = np.argsort(-(queries @ matrix.T), axis=1, kind="stable")[:, :k]
    return [ids[row].tolist() for row in order]


def recall(found: np.ndarray, truth: list[list[int]]) -> float:
    return float(np.mean([len(set(row.tolist()) & set(want)) / len(want)
                          for row, want in zip(found, truth)]))


def kinds(store: IndexStore) -> list[str]:
    store.refresh()
    return sorted("ivf" if ann.is_approximate(index) else "flat"
                  for index in store._current().segments.values())


@pytest.fixture()
def big(tmp_path: Path) -> tuple[IndexStore, dict[int, np.ndarray], dict[str, dict[str, int]]]:
    """A store with two IVF segments (800 and 500 vectors, "a" and "b") and a flat one (60,
    "c"): the store, vector id -> vector, and per segment article id -> vector id."""
    rng = np.random.default_rng(5)
    store = scaled_store(tmp_path / "index")
    vectors: dict[int, np.ndarray] = {}
    articles: dict[str, dict[str, int]] = {}
    for tag, n in (("a", 800), ("b", 500), ("c", 60)):
        rows = clustered_rows(rng, n)
        ids = add_articles(store, rows, tag, source="Odd" if tag == "b" else "Daily")
        articles[tag] = ids
        vectors.update(zip(ids.values(), rows))
    return store, vectors, articles


def test_segments_are_exact_up_to_the_threshold_and_ivf_above(big) -> None:
    store, _, _ = big
    assert kinds(store) == ["flat", "ivf", "ivf"]
    manifest = json.loads((store.path / MANIFEST).read_text())
    assert (manifest["flat_up_to"], manifest["approximate"], manifest["nprobe"]) == (
        300, "IVF16,Flat", 6)


def test_ivf_segments_share_the_centroids_trained_first(big) -> None:
    store, _, _ = big
    store.refresh()
    centroids = [ann._centroids(i) for i in store._current().segments.values()
                 if ann.is_approximate(i)]
    np.testing.assert_array_equal(centroids[0], centroids[1])


def test_approximate_search_recalls_the_exact_top_10(big) -> None:
    store, vectors, _ = big
    queries = clustered_rows(np.random.default_rng(6), 50)
    _, ids = store.search(queries, 10)
    assert recall(ids, brute_force(vectors, queries, 10)) >= 0.95


def test_stored_vectors_come_back_from_ivf_segments(big) -> None:
    store, vectors, _ = big
    some = sorted(vectors)[::97]
    np.testing.assert_allclose(store.vectors(some), np.stack([vectors[i] for i in some]),
                               atol=1e-6)


def test_a_small_filtered_set_is_searched_exactly(big) -> None:
    store, vectors, _ = big
    queries = clustered_rows(np.random.default_rng(7), 20)
    allowed = sorted(vectors)[::9]  # 152 of 1,360: far below EXACT_FILTER_UP_TO
    _, ids = store.search(queries, 10, np.array(allowed))
    want = brute_force({i: vectors[i] for i in allowed}, queries, 10)
    assert [row.tolist() for row in ids] == want


def test_a_large_filtered_set_probes_more_lists_and_finds_k(big, monkeypatch) -> None:
    store, vectors, articles = big
    monkeypatch.setattr(ann, "EXACT_FILTER_UP_TO", 100)
    allowed = [*articles["a"].values(), *articles["c"].values()]  # 860 of 1,360 vectors
    assert PLAN.nprobe < ann.probes(PLAN, len(allowed), len(vectors)) < PLAN.nlist
    queries = clustered_rows(np.random.default_rng(8), 30)
    _, ids = store.dense_search(queries, 10, Filters(source="Daily"))
    assert set(ids.ravel().tolist()) <= set(allowed)
    assert (ids >= 0).all()
    assert recall(ids, brute_force({i: vectors[i] for i in allowed}, queries, 10)) >= 0.95


def test_probes_grow_as_the_allowed_share_shrinks() -> None:
    plan = ann.SegmentPlan(flat_up_to=50_000, approximate="IVF1024,Flat", nprobe=32)
    assert ann.probes(plan, 1_000_000, 1_000_000) == 32
    assert ann.probes(plan, 500_000, 1_000_000) == 64
    assert ann.probes(plan, 30_000, 1_000_000) == 1024  # capped at every list
    assert ann.probes(plan, ann.EXACT_FILTER_UP_TO, 1_000_000) == 1024  # exact


def test_removed_vectors_never_come_back_from_ivf_segments(big) -> None:
    store, vectors, articles = big
    gone = list(articles["a"])[::2]
    with store.writing():
        store.remove(gone)
    dead = {articles["a"][a] for a in gone}
    live = {i: v for i, v in vectors.items() if i not in dead}
    queries = clustered_rows(np.random.default_rng(9), 30)
    _, ids = store.search(queries, 10)
    assert not set(ids.ravel().tolist()) & dead
    assert recall(ids, brute_force(live, queries, 10)) >= 0.95
    allowed = sorted(vectors)[::20]  # removed ones among them
    _, ids = store.search(queries, 10, np.array(allowed))
    want = brute_force({i: live[i] for i in allowed if i in live}, queries, 10)
    assert [row.tolist() for row in ids] == want


def test_merging_ivf_segments_copies_their_lists_and_drops_tombstones(big) -> None:
    store, vectors, articles = big
    gone = list(articles["b"])[:100]
    with store.writing():
        store.remove(gone)
    queries = clustered_rows(np.random.default_rng(10), 30)
    before = store.search(queries, 10)
    with store.writing():
        store.merge_segments(max_segments=1)
    assert kinds(store) == ["ivf"]
    assert store.counts()["tombstones"] == 0
    (merged,) = store._current().segments.values()
    live = set(vectors) - {articles["b"][a] for a in gone}
    assert set(ann.segment_ids(merged).tolist()) == live
    after = store.search(queries, 10)
    # The same centroids and lists: the same lists are probed, the same vectors found.
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)
    assert store.check() == []


def test_merging_small_segments_past_the_threshold_makes_an_ivf_segment(tmp_path) -> None:
    rng = np.random.default_rng(11)
    store = scaled_store(tmp_path / "index")
    vectors: dict[int, np.ndarray] = {}
    for part in range(4):
        rows = clustered_rows(rng, 200)
        vectors.update(zip(add_articles(store, rows, f"p{part}").values(), rows))
    assert kinds(store) == ["flat"] * 4
    with store.writing():
        store.merge_segments(max_segments=1)
    assert kinds(store) == ["ivf"]
    queries = clustered_rows(rng, 30)
    assert recall(store.search(queries, 10)[1], brute_force(vectors, queries, 10)) >= 0.95


def test_exact_segments_past_the_threshold_together_become_one_ivf_segment(tmp_path) -> None:
    rng = np.random.default_rng(16)
    store = scaled_store(tmp_path / "index")
    add_articles(store, clustered_rows(rng, 200), "first")
    with store.writing():
        store.merge_segments()
    assert kinds(store) == ["flat"]  # 200: within flat_up_to
    add_articles(store, clustered_rows(rng, 200), "second")
    with store.writing():
        store.merge_segments()  # two segments, well under MAX_SEGMENTS, but 400 > 300
    assert kinds(store) == ["ivf"]


def test_an_ivf_index_reopens_checks_and_reports_damage(big) -> None:
    store, vectors, _ = big
    queries = clustered_rows(np.random.default_rng(12), 5)
    before = store.search(queries, 10)
    assert store.check() == []
    store.close()
    reopened = IndexStore.open(store.path)
    np.testing.assert_array_equal(reopened.search(queries, 10)[1], before[1])
    largest = max((store.path / SEGMENTS).glob("*.faiss"), key=lambda p: p.stat().st_size)
    data = bytearray(largest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    largest.write_bytes(bytes(data))
    assert any("checksum" in line for line in IndexStore.open(store.path).check())
    reopened.close()


def test_an_old_manifest_without_segment_parameters_keeps_every_segment_flat(tmp_path) -> None:
    store = scaled_store(tmp_path / "index")
    store.close()
    file = tmp_path / "index" / MANIFEST
    old = {k: v for k, v in json.loads(file.read_text()).items()
           if k not in ("flat_up_to", "approximate", "nprobe")}
    file.write_text(json.dumps(old))
    store = IndexStore.open(tmp_path / "index")
    assert store.manifest.segment_plan == ann.SegmentPlan()
    rows = clustered_rows(np.random.default_rng(13), 500)
    vectors = dict(zip(add_articles(store, rows, "x").values(), rows))
    assert kinds(store) == ["flat"]
    queries = clustered_rows(np.random.default_rng(14), 10)
    assert [r.tolist() for r in store.search(queries, 10)[1]] == brute_force(vectors, queries, 10)


def test_a_new_index_gets_the_default_plan(tmp_path) -> None:
    store = IndexStore.create(tmp_path / "index", Manifest("test/model", DIM, 160))
    assert store.manifest.segment_plan == ann.DEFAULT_PLAN
    assert IndexStore.open(tmp_path / "index").manifest.segment_plan == ann.DEFAULT_PLAN


@pytest.mark.parametrize("values", [
    {"flat_up_to": 300, "approximate": "HNSW32", "nprobe": 6},
    {"flat_up_to": 300, "approximate": "IVF16,Flat", "nprobe": 99},
    {"flat_up_to": 4, "approximate": "IVF16,Flat", "nprobe": 2},
    {"flat_up_to": 300, "nprobe": 2},
])
def test_segment_parameters_that_cannot_be_built_make_the_manifest_corrupt(tmp_path,
                                                                           values) -> None:
    scaled_store(tmp_path / "index").close()
    file = tmp_path / "index" / MANIFEST
    data = {k: v for k, v in json.loads(file.read_text()).items()
            if k not in ("flat_up_to", "approximate", "nprobe")}
    file.write_text(json.dumps({**data, **values}))
    with pytest.raises(IndexCorruptError, match="manifest"):
        IndexStore.open(tmp_path / "index")


def test_an_ivf_segment_is_memory_mapped(tmp_path) -> None:
    rows = clustered_rows(np.random.default_rng(15), 400)
    index = ann.build_segment(np.arange(400), rows, PLAN)
    file = tmp_path / "segment.faiss"
    faiss.write_index(index, str(file))
    mapped = ann.read_segment(file)
    assert isinstance(mapped, faiss.IndexIVFFlat) and mapped.ntotal == 400
    np.testing.assert_allclose(mapped.reconstruct(7), rows[7], atol=1e-6)


# -- BM25 at scale: common terms left out of the query ----------------------------------------


@pytest.fixture()
def worded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[IndexStore, dict[str, int]]:
    """40 passages that all say "harbour", 3 of which also say "dredging"; BM25 scores at most
    20 passages a question."""
    monkeypatch.setattr("articleqa.store.BM25_POSTINGS", 20)
    store = scaled_store(tmp_path / "index")
    texts = [(f"Harbour report {i}", f"The harbour {'dredging ' * (i < 3)}went on, day {i}.")
             for i in range(40)]
    articles = [Article(article_id(t, b), t, b) for t, b in texts]
    chunks = [Chunk(chunk_id(a.id, a.body), a.id, a.body, 0, len(a.body)) for a in articles]
    with store.writing():
        store.add(articles, chunks, clustered_rows(np.random.default_rng(1), 40))
    ids = store.matching_vector_ids(Filters(article_ids=tuple(a.id for a in articles)))
    return store, dict(zip((a.id for a in articles), sorted(ids.tolist())))


def test_a_common_term_is_left_out_when_the_question_has_a_rarer_one(worded) -> None:
    store, _ = worded
    _, ids = store.lexical_search("dredging in the harbour", 50)
    assert len(ids) == 3  # the passages that say "dredging", not all 40


def test_a_question_of_common_terms_only_keeps_them(worded) -> None:
    store, _ = worded
    assert len(store.lexical_search("the harbour", 50)[1]) == 40


def test_a_term_no_passage_holds_does_not_drop_the_common_ones(worded) -> None:
    store, _ = worded
    assert len(store.lexical_search("harbour zeppelin", 50)[1]) == 40


def test_terms_are_kept_rarest_first_while_the_passages_scored_fit(worded,
                                                                  monkeypatch) -> None:
    store, _ = worded
    assert store._terms_past_budget("dredging in the harbour") == {"harbour"}
    monkeypatch.setattr("articleqa.store.BM25_POSTINGS", 43)  # 3 + 40 passages: both fit
    assert store._terms_past_budget("dredging in the harbour") == set()
    assert len(store.lexical_search("dredging in the harbour", 50)[1]) == 40
