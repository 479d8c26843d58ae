"""Tests of the index folder: top-k merging, FAISS segments against brute force, tombstones,
merging, manifest and file checks, crashes mid-write, and a reader beside a writer."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from articleqa.chunking import Chunk
from articleqa.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from articleqa.filters import Filters
from articleqa.readers import Article
from articleqa.store import MANIFEST, RECORDS, SEGMENTS, IndexStore, Manifest, merge_top_k

DIM = 8
TOLERANCE = 1e-5


# -- merge_top_k ---------------------------------------------------------------------------------


def reference_top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """merge_top_k the slow way: sort each row's real candidates, earlier column first on ties."""
    out_scores = np.full((len(scores), k), -np.inf, dtype=np.float32)
    out_ids = np.full((len(scores), k), -1, dtype=np.int64)
    for row in range(len(scores)):
        candidates = sorted(
            (-float(scores[row, col]), col, int(ids[row, col]))
            for col in range(scores.shape[1])
            if ids[row, col] >= 0
        )[:k]
        for rank, (negated, _, vector_id) in enumerate(candidates):
            out_scores[row, rank] = -negated
            out_ids[row, rank] = vector_id
    return out_scores, out_ids


@pytest.mark.parametrize("rows", [1, 17])
@pytest.mark.parametrize("width", [1, 5, 17])
@pytest.mark.parametrize("k", [1, 4, 17, 40])
def test_merge_top_k_matches_a_brute_force_reference(rows: int, width: int, k: int) -> None:
    rng = np.random.default_rng(rows * 1000 + width * 10 + k)
    scores = rng.uniform(-1, 1, size=(rows, width)).round(1).astype(np.float32)  # many ties
    ids = rng.integers(0, 1000, size=(rows, width))
    ids[rng.random(size=(rows, width)) < 0.25] = -1  # FAISS's "no result"
    got_scores, got_ids = merge_top_k(scores, ids, k)
    want_scores, want_ids = reference_top_k(scores, ids, k)
    assert got_scores.shape == got_ids.shape == (rows, k)
    assert got_ids.dtype == np.int64
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_array_equal(got_scores, want_scores)


def test_merge_top_k_of_no_results_is_all_padding() -> None:
    scores, ids = merge_top_k(np.zeros((3, 4), np.float32), np.full((3, 4), -1), 6)
    assert (ids == -1).all() and np.isneginf(scores).all()


# -- a store and a brute-force model of it -------------------------------------------------------


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.normal(size=(n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def new_store(folder: Path) -> IndexStore:
    return IndexStore.create(folder, Manifest("test/hash-encoder", DIM, 160))


def add_articles(store: IndexStore, vectors: np.ndarray, tag: str) -> dict[str, int]:
    """Adds one article with one passage per vector; returns article id -> vector id."""
    articles = [Article(f"{tag}-{i}", f"Headline {tag} {i}", f"Body {tag} {i}.")
                for i in range(len(vectors))]
    chunks = [Chunk(f"{a.id}-c", a.id, a.body, 0, len(a.body)) for a in articles]
    store.add(articles, chunks, vectors)
    ids = store.matching_vector_ids(Filters(article_ids=tuple(a.id for a in articles)))
    assert len(ids) == len(articles)
    return dict(zip((a.id for a in articles), sorted(ids.tolist())))


class Model:
    """What the store should hold: live vector id -> vector, article id -> vector id."""

    def __init__(self) -> None:
        self.vectors: dict[int, np.ndarray] = {}
        self.articles: dict[str, int] = {}

    def add(self, store: IndexStore, vectors: np.ndarray, tag: str) -> None:
        ids = add_articles(store, vectors, tag)
        self.articles.update(ids)
        self.vectors.update(zip(ids.values(), vectors))

    def remove(self, store: IndexStore, article_ids: list[str]) -> None:
        assert sorted(store.remove(article_ids)) == sorted(article_ids)
        for article_id in article_ids:
            del self.vectors[self.articles.pop(article_id)]

    def top_k(self, queries: np.ndarray, k: int, allowed: set[int] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        ids = np.array(sorted(i for i in self.vectors if allowed is None or i in allowed))
        scores = queries @ np.stack([self.vectors[i] for i in ids]).T
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return reference_top_k(np.take_along_axis(scores, order, 1), ids[order], k)


def assert_same_top_k(store: IndexStore, model: Model, queries: np.ndarray, k: int,
                      allowed: set[int] | None = None) -> None:
    """FAISS top-k equals brute force; among tied scores any order is right."""
    passed = None if allowed is None else np.array(sorted(allowed), dtype=np.int64)
    scores, ids = store.search(queries, k, passed)
    want_scores, want_ids = model.top_k(queries, k, allowed)
    assert scores.shape == ids.shape == (len(queries), k)
    np.testing.assert_allclose(scores, want_scores, atol=TOLERANCE)
    for row, query in enumerate(queries):
        found = [int(i) for i in ids[row] if i >= 0]
        assert found == [int(i) for i in ids[row][: len(found)]], "padding before results"
        assert len(found) == len(set(found)) == int((want_ids[row] >= 0).sum())
        for rank, vector_id in enumerate(found):
            assert vector_id in model.vectors, f"vector {vector_id} is not live"
            assert allowed is None or vector_id in allowed
            true_score = float(query @ model.vectors[vector_id])
            assert abs(true_score - float(want_scores[row, rank])) < TOLERANCE


@pytest.fixture
def filled(tmp_path: Path) -> tuple[IndexStore, Model]:
    """A store of 63 vectors in four segments of uneven sizes, one vector repeated (a tie)."""
    rng = np.random.default_rng(7)
    store, model = new_store(tmp_path / "index"), Model()
    for tag, size in (("one", 1), ("seventeen", 17), ("five", 5), ("forty", 40)):
        vectors = unit_rows(rng, size)
        if tag == "forty":
            vectors[3] = model.vectors[model.articles["five-2"]]  # an exact tie across segments
        model.add(store, vectors, tag)
    assert store.counts() == {"articles": 63, "passages": 63, "segments": 4, "tombstones": 0}
    yield store, model
    store.close()


# -- search --------------------------------------------------------------------------------------


def test_search_over_segments_equals_brute_force(filled) -> None:
    store, model = filled
    rng = np.random.default_rng(1)
    queries = np.vstack([unit_rows(rng, 12), model.vectors[model.articles["five-2"]][None]])
    for k in (1, 5, 17, 63, 100):
        assert_same_top_k(store, model, queries, k)
        assert_same_top_k(store, model, queries[:1], k)


def test_search_of_an_empty_store_returns_padding(tmp_path: Path) -> None:
    store = new_store(tmp_path / "index")
    scores, ids = store.search(unit_rows(np.random.default_rng(0), 2), 3)
    assert ids.shape == (2, 3) and (ids == -1).all() and np.isneginf(scores).all()


def test_removed_vectors_are_never_returned(filled) -> None:
    store, model = filled
    gone = ["one-0", "seventeen-3", "seventeen-4", "forty-0", "forty-3", "five-2"]
    gone_ids = {model.articles[a] for a in gone}
    gone_vectors = np.stack([model.vectors[i] for i in sorted(gone_ids)])
    model.remove(store, gone)
    assert store.counts()["tombstones"] == len(gone)
    assert store.remove(["no-such-article", "one-0"]) == []
    queries = np.stack([np.eye(DIM, dtype=np.float32)[0], *unit_rows(np.random.default_rng(3), 8)])
    for k in (1, 10, 57, 80):
        assert_same_top_k(store, model, queries, k)
        _, ids = store.search(queries, k)
        assert not gone_ids & set(ids.ravel().tolist())
    # Searching for a removed vector itself finds anything but it.
    assert_same_top_k(store, model, gone_vectors, 3)
    _, ids = store.search(gone_vectors, 3)
    assert not gone_ids & set(ids.ravel().tolist())


def test_merge_segments_drops_tombstones_and_keeps_results(filled) -> None:
    store, model = filled
    model.remove(store, ["seventeen-0", "forty-7", "forty-8", "one-0"])
    queries = unit_rows(np.random.default_rng(11), 9)
    store.merge_segments(max_segments=1)
    assert store.counts() == {"articles": 59, "passages": 59, "segments": 1, "tombstones": 0}
    assert len(list((store.path / SEGMENTS).glob("*.faiss"))) == 1
    for k in (1, 5, 59, 70):
        assert_same_top_k(store, model, queries, k)
    reopened = IndexStore.open(store.path)
    assert_same_top_k(reopened, model, queries, 7)
    reopened.close()


def test_a_mostly_removed_segment_is_rewritten(filled) -> None:
    store, model = filled
    model.remove(store, [f"seventeen-{i}" for i in range(10)])
    store.merge_segments()  # four segments are few enough; the dead ones still go
    assert store.counts()["tombstones"] == 0
    assert store.counts()["segments"] == 4
    assert_same_top_k(store, model, unit_rows(np.random.default_rng(5), 6), 10)


def test_a_wholly_removed_segment_disappears(filled) -> None:
    store, model = filled
    model.remove(store, ["one-0"])
    store.merge_segments()
    assert store.counts() == {"articles": 62, "passages": 62, "segments": 3, "tombstones": 0}
    assert_same_top_k(store, model, unit_rows(np.random.default_rng(5), 6), 10)


def test_merge_segments_leaves_at_most_max_segments(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    store, model = new_store(tmp_path / "index"), Model()
    for batch in range(12):
        model.add(store, unit_rows(rng, 1 + batch % 4), f"b{batch}")
    assert store.counts()["segments"] == 12
    store.merge_segments(max_segments=8)
    assert store.counts()["segments"] <= 8
    assert len(list((store.path / SEGMENTS).glob("*.faiss"))) == store.counts()["segments"]
    assert_same_top_k(store, model, unit_rows(rng, 5), 9)
    model.add(store, unit_rows(rng, 2), "late")  # one over the limit
    store.merge_segments(max_segments=8)
    assert store.counts()["segments"] <= 8
    assert_same_top_k(store, model, unit_rows(rng, 5), 9)


def test_allowed_returns_the_k_best_allowed(filled) -> None:
    store, model = filled
    rng = np.random.default_rng(4)
    allowed = set(rng.choice(sorted(model.vectors), size=12, replace=False).tolist())
    queries = unit_rows(rng, 10)
    assert_same_top_k(store, model, queries, 5, allowed)  # enough allowed: exactly 5 each
    _, ids = store.search(queries, 5, np.array(sorted(allowed)))
    assert (ids >= 0).all()
    assert_same_top_k(store, model, queries, 20, allowed)  # fewer allowed than k: all 12


def test_allowed_never_brings_back_removed_vectors(filled) -> None:
    store, model = filled
    removed = model.articles["forty-1"]
    model.remove(store, ["forty-1"])
    allowed = {removed, model.articles["forty-2"], model.articles["five-0"]}
    _, ids = store.search(np.eye(DIM, dtype=np.float32), 3, np.array(sorted(allowed)))
    assert removed not in set(ids.ravel().tolist())
    assert_same_top_k(store, model, np.eye(DIM, dtype=np.float32), 3, allowed - {removed})


def test_add_checks_its_arguments(tmp_path: Path) -> None:
    store = new_store(tmp_path / "index")
    article = Article("a", "Headline", "Body.")
    chunk = Chunk("a-c", "a", "Body.", 0, 5)
    with pytest.raises(ValueError, match="1 chunks but 2 vectors"):
        store.add([article], [chunk], unit_rows(np.random.default_rng(0), 2))
    with pytest.raises(IndexMismatchError, match="dimension 4"):
        store.add([article], [chunk], np.ones((1, 4), np.float32) / 2)
    assert store.counts()["articles"] == 0


# -- opening, the manifest and damaged files ----------------------------------------------------


def built(tmp_path: Path) -> Path:
    store = new_store(tmp_path / "index")
    add_articles(store, unit_rows(np.random.default_rng(0), 5), "a")
    add_articles(store, unit_rows(np.random.default_rng(1), 3), "b")
    store.close()
    return tmp_path / "index"


def open_and_search(folder: Path) -> None:
    store = IndexStore.open(folder)
    try:
        store.search(unit_rows(np.random.default_rng(0), 1), 3)
    finally:
        store.close()


def test_a_folder_without_an_index_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="no articleqa index"):
        IndexStore.open(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFoundError):
        IndexStore.open(tmp_path / "empty")


def test_a_reopened_index_has_its_manifest_and_contents(tmp_path: Path) -> None:
    folder = built(tmp_path)
    store = IndexStore.open(folder)
    assert store.manifest.model == "test/hash-encoder"
    assert store.manifest.dimension == DIM
    assert store.manifest.created
    assert store.counts() == {"articles": 8, "passages": 8, "segments": 2, "tombstones": 0}
    store.close()


def test_another_format_version_is_a_mismatch(tmp_path: Path) -> None:
    folder = built(tmp_path)
    data = json.loads((folder / MANIFEST).read_text())
    data["format_version"] = 99
    (folder / MANIFEST).write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="version 99"):
        IndexStore.open(folder)


def test_a_garbage_manifest_is_corrupt(tmp_path: Path) -> None:
    folder = built(tmp_path)
    for content in ["not json at all", "", "[1, 2]", "42", "null", "{}",
                    '{"format": "something-else"}',
                    '{"format": "articleqa-index", "format_version": 1}']:
        (folder / MANIFEST).write_text(content)
        with pytest.raises(IndexCorruptError, match=MANIFEST):
            IndexStore.open(folder)


def test_a_manifest_that_is_not_utf8_is_corrupt(tmp_path: Path) -> None:
    folder = built(tmp_path)
    (folder / MANIFEST).write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(IndexCorruptError, match=MANIFEST):
        IndexStore.open(folder)


def test_missing_records_are_corrupt(tmp_path: Path) -> None:
    folder = built(tmp_path)
    for file in folder.glob(RECORDS + "*"):
        file.unlink()
    with pytest.raises(IndexCorruptError, match=RECORDS):
        IndexStore.open(folder)


def test_garbage_records_are_corrupt(tmp_path: Path) -> None:
    folder = built(tmp_path)
    for file in folder.glob(RECORDS + "*"):
        file.unlink()
    (folder / RECORDS).write_bytes(b"these are not the records you are looking for" * 100)
    with pytest.raises(IndexCorruptError, match=RECORDS):
        IndexStore.open(folder)


def test_a_missing_segment_is_corrupt(tmp_path: Path) -> None:
    folder = built(tmp_path)
    segment = sorted((folder / SEGMENTS).glob("*.faiss"))[0]
    segment.unlink()
    with pytest.raises(IndexCorruptError, match=segment.name):
        open_and_search(folder)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "other dimension"])
def test_a_damaged_segment_is_corrupt_and_named(tmp_path: Path, damage: str) -> None:
    folder = built(tmp_path)
    segment = sorted((folder / SEGMENTS).glob("*.faiss"))[-1]
    data = segment.read_bytes()
    if damage == "truncated":
        segment.write_bytes(data[: len(data) - 20])
    elif damage == "garbage":
        segment.write_bytes(b"\x00garbage\x01" * 40)
    elif damage == "empty":
        segment.write_bytes(b"")
    else:
        other = tmp_path / "other"
        store = IndexStore.create(other, Manifest("test/hash-encoder", DIM * 2, 160))
        rows = np.ones((3, DIM * 2), np.float32) / np.sqrt(DIM * 2)
        store.add([Article(f"o{i}", "H", "Body.") for i in range(3)],
                  [Chunk(f"o{i}-c", f"o{i}", "Body.", 0, 5) for i in range(3)], rows)
        store.close()
        shutil.copy(next((other / SEGMENTS).glob("*.faiss")), segment)
    with pytest.raises(IndexCorruptError, match=segment.name):
        open_and_search(folder)


def test_create_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "holiday-photos"
    folder.mkdir()
    (folder / "beach.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(ValueError, match="beach.jpg"):
        new_store(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["beach.jpg"]
    file = tmp_path / "a-file"
    file.write_text("hello")
    with pytest.raises(ValueError, match="is a file"):
        new_store(file)


def test_create_accepts_a_new_or_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "new" / "nested"):
        store = new_store(folder)
        assert store.counts()["articles"] == 0
        store.close()
        assert IndexStore.open(folder).manifest.dimension == DIM


# -- crashes and concurrent readers --------------------------------------------------------------


def test_a_crash_mid_add_leaves_the_last_good_index(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    store, model = new_store(tmp_path / "index"), Model()
    model.add(store, unit_rows(rng, 6), "before")
    queries = unit_rows(rng, 4)
    before = store.search(queries, 4)
    written = IndexStore._write_segment

    def write_then_crash(self: IndexStore, name: str, ids: np.ndarray, vectors: np.ndarray):
        written(self, name, ids, vectors)
        raise OSError("the machine lost power")

    monkeypatch.setattr(IndexStore, "_write_segment", write_then_crash)
    with pytest.raises(OSError, match="lost power"):
        add_articles(store, unit_rows(rng, 3), "lost")
    monkeypatch.undo()
    orphans = [p.name for p in (store.path / SEGMENTS).iterdir()]
    assert len(orphans) == 2  # the good segment and the one no transaction recorded
    store.close()

    reopened = IndexStore.open(tmp_path / "index")
    assert reopened.counts() == {"articles": 6, "passages": 6, "segments": 1, "tombstones": 0}
    after = reopened.search(queries, 4)
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_allclose(after[0], before[0], atol=TOLERANCE)
    with reopened.writing():  # the next writer clears the orphan
        pass
    assert len(list((store.path / SEGMENTS).iterdir())) == 1
    with reopened.writing():
        model.add(reopened, unit_rows(rng, 3), "after")
    assert reopened.counts()["articles"] == 9
    assert_same_top_k(reopened, model, queries, 9)
    reopened.close()


def test_a_reader_sees_what_the_writer_commits(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    writer, model = new_store(tmp_path / "index"), Model()
    reader = IndexStore.open(tmp_path / "index")
    queries = unit_rows(rng, 5)
    _, ids = reader.search(queries, 3)
    assert (ids == -1).all()
    with writer.writing():
        model.add(writer, unit_rows(rng, 4), "first")
    assert_same_top_k(reader, model, queries, 3)
    with writer.writing():
        model.add(writer, unit_rows(rng, 6), "second")
        model.remove(writer, ["first-0", "second-5"])
    assert_same_top_k(reader, model, queries, 10)
    assert reader.counts()["articles"] == 8
    with writer.writing():
        writer.merge_segments(max_segments=1)
    assert_same_top_k(reader, model, queries, 10)
    assert reader.counts()["segments"] == 1
    reader.close()
    writer.close()


def test_reader_survives_a_merge_that_deletes_segments_while_it_refreshes(tmp_path) -> None:
    from articleqa.store import IndexStore, Manifest

    writer = IndexStore.create(tmp_path / "ix", Manifest("test/model", 4, 64))
    rng = np.random.default_rng(7)
    for round_ in range(3):
        vectors = rng.normal(size=(2, 4)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        article = Article(f"a{round_}", f"Title {round_}", "One. Two.")
        chunks = [Chunk(f"c{round_}{i}", article.id, "One.", 0, 4) for i in range(2)]
        writer.add([article], chunks, vectors)
    reader = IndexStore.open(tmp_path / "ix")
    real_load = reader._load_segment
    merged = []

    def load_during_merge(name: str, expected: int, checksum: str | None):
        if not merged:  # the writer merges (and deletes the old files) mid-refresh
            merged.append(True)
            writer.merge_segments(max_segments=1)
        return real_load(name, expected, checksum)

    reader._load_segment = load_during_merge
    scores, ids = reader.search(rng.normal(size=(1, 4)).astype(np.float32), 6)
    assert merged and sorted(ids[0].tolist()) == [1, 2, 3, 4, 5, 6]
    assert reader.counts()["segments"] == 1


def test_rarity_is_counted_once_per_committed_state(tmp_path: Path) -> None:
    store = new_store(tmp_path / "index")
    rng = np.random.default_rng(3)
    add_articles(store, unit_rows(rng, 3), "a")  # bodies "Body a 0." ...: "body" in each
    assert store.rarity("body") == pytest.approx(math.log(4 / 4))
    assert store.rarity("headline") == store.rarity("headline")
    add_articles(store, unit_rows(rng, 2), "b")
    assert store.rarity("body") == pytest.approx(math.log(6 / 6))
    assert store.rarity("nowhere") == pytest.approx(math.log(6 / 1))
    other = IndexStore.open(tmp_path / "index")  # a second reader of the same folder
    assert other.rarity("nowhere") == pytest.approx(math.log(6 / 1))
    store.remove(["a-0", "a-1"])
    assert other.rarity("nowhere") == pytest.approx(math.log(4 / 1))  # sees the commit
    other.close()
    store.close()


def test_rarity_counts_its_passages_in_the_state_it_counts_the_term_in(tmp_path: Path) -> None:
    """A writer that commits between a reader loading its state and counting a term must not
    give the term more holding passages than the count it is divided by (a negative rarity)."""
    store = new_store(tmp_path / "index")
    rng = np.random.default_rng(4)
    add_articles(store, unit_rows(rng, 3), "a")  # "body" in each of the 3 passages
    writer = IndexStore.open(tmp_path / "index")
    loaded_before_the_commit = store._current
    committed: list[bool] = []

    def commit_right_after_loading():
        loaded = loaded_before_the_commit()
        if not committed:
            committed.append(True)
            add_articles(writer, unit_rows(rng, 5), "b")  # 8 passages, all holding "body"
        return loaded

    store._current = commit_right_after_loading
    assert store.rarities(["body", "nowhere"]) == {
        "body": pytest.approx(math.log(9 / 9)), "nowhere": pytest.approx(math.log(9 / 1))}
    writer.close()
    store.close()


def test_a_writer_keeps_its_sqlite_locks_when_it_seals(tmp_path: Path) -> None:
    """Sealing hashes records.sqlite. Were that done through a descriptor this process opens
    and closes, POSIX would drop every lock SQLite holds on the file here; a reader in another
    process would then, on closing, delete the WAL under the writer, and other processes would
    never see the writer's later commits."""
    import subprocess
    import sys

    from articleqa.store import RECORDS, RECORDS_DIGEST

    folder = tmp_path / "index"
    store = new_store(folder)
    rng = np.random.default_rng(11)
    reader = ("import sys; from articleqa.store import IndexStore;"
              " s = IndexStore.open(sys.argv[1]); print(s.counts()['passages']); s.close()")

    def passages_seen_elsewhere() -> str:
        return subprocess.run([sys.executable, "-c", reader, str(folder)], check=True,
                              capture_output=True, text=True).stdout.strip()

    with store.writing():
        add_articles(store, unit_rows(rng, 3), "a")
    assert (folder / RECORDS_DIGEST).exists()  # sealed
    assert passages_seen_elsewhere() == "3"
    # That reader, closing, found this process's connections still there: the WAL stays.
    assert (folder / f"{RECORDS}-wal").exists() and (folder / f"{RECORDS}-shm").exists()
    with store.writing():
        add_articles(store, unit_rows(rng, 2), "b")
    assert passages_seen_elsewhere() == "5"
    store.close()
