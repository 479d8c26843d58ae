"""One index shared by many threads: the same results as one thread, searches while the same
object ingests, and no global lock that a long read would hold against every search.

The fake HashEncoder makes the vectors of a text the same in any batch, so results compare
exactly; the stores are the real ones (SQLite and FAISS in a folder, and PostgreSQL).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import articleqa.index as index_module
import articleqa.store as store_module
from articleqa import ArticleIndex
from articleqa.embedding import HashEncoder
from articleqa.store import IndexStore
from tests.test_crash import write_corpus
from tests.test_ingest import QUESTIONS, TODAY

#: How long a test waits for threads that should long have finished (only a hang exceeds it).
PATIENCE = 120
#: Threads that share the index.
THREADS = 12


def open_index(location: Path | str) -> ArticleIndex:
    return ArticleIndex.open(location, encoder=HashEncoder(), llm=None)


def run_threads(work: Callable[[int], None], count: int = THREADS) -> list[BaseException]:
    """Runs ``work(number)`` in ``count`` threads started together; returns their errors."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            start.wait(PATIENCE)
            work(number)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE)
        assert not thread.is_alive(), "a thread still runs: a hang"
    return errors


QUESTION_SET = [*QUESTIONS, "council bridge", "the mayor said jobs", "river library",
                "What did the mayor say about the bridge?"]


def test_many_threads_get_what_one_thread_gets(index_location: Path | str, tmp_path: Path
                                               ) -> None:
    corpus = write_corpus(tmp_path / "corpus", articles=30)
    with open_index(index_location) as shared:
        shared.ingest([corpus], today=TODAY, progress=False)
        alone = {mode: shared.search(QUESTION_SET, k=5, mode=mode, as_of=TODAY)
                 for mode in ("dense", "bm25", "hybrid")}
        answers = [shared.ask(q, as_of=TODAY) for q in QUESTION_SET]
        filtered = shared.search(QUESTION_SET, k=3, filters={"since": "2020-01-01"},
                                 as_of=TODAY)
        seen: dict[int, list] = {}

        def work(number: int) -> None:
            mine = []
            for turn in range(4):  # each thread its own order of modes and questions
                for mode in ("dense", "bm25", "hybrid")[turn % 3 :] + ("dense", "bm25",
                                                                        "hybrid")[: turn % 3]:
                    one = QUESTION_SET[(number + turn) % len(QUESTION_SET)]
                    mine.append((mode, one, shared.search_one(one, k=5, mode=mode,
                                                              as_of=TODAY)))
                question = QUESTION_SET[(number * 3 + turn) % len(QUESTION_SET)]
                mine.append(("ask", question, shared.ask(question, as_of=TODAY)))
                mine.append(("filtered", None, shared.search(
                    QUESTION_SET, k=3, filters={"since": "2020-01-01"}, as_of=TODAY)))
            seen[number] = mine

        assert run_threads(work) == []
    for results in seen.values():
        for kind, question, result in results:
            if kind == "ask":
                assert result == answers[QUESTION_SET.index(question)]
            elif kind == "filtered":
                assert result == filtered
            else:
                assert result == alone[kind][QUESTION_SET.index(question)]


def test_readers_see_whole_commits_while_the_same_object_ingests_and_removes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense search among the first articles gives the same hits before, during and after the
    writes (new articles cannot change it), and no reader sees a passage without its article,
    through many commits, removals and segment merges."""
    monkeypatch.setattr(index_module, "COMMIT_PASSAGES", 6)  # many small commits
    corpus = write_corpus(tmp_path / "corpus", articles=48)
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    for number, file in enumerate(sorted(corpus.iterdir())):
        shutil.copy(file, (first if number < 12 else later) / file.name)
    with open_index(tmp_path / "ix") as shared:
        shared.ingest([first], today=TODAY, progress=False)
        old = {"article_id": [hit.article.id for hits in shared.search(
            ["story"], k=12, per_article=1, mode="bm25") for hit in hits]}
        assert len(old["article_id"]) == 12
        before = shared.search(QUESTION_SET, k=4, mode="dense", filters=old, as_of=TODAY)
        done = threading.Event()
        checks: list[int] = []

        def write() -> None:
            try:
                report = shared.ingest([later], today=TODAY, progress=False)
                for article_id in report.added[:5]:
                    shared.remove(article_id)
            finally:
                done.set()

        def work(number: int) -> None:
            if number == 0:
                write()
                return
            while not done.is_set() or len(checks) < 4 * THREADS:
                hits = shared.search(QUESTION_SET, k=4, mode="dense", filters=old,
                                     as_of=TODAY)
                assert hits == before
                for found in shared.search(QUESTION_SET, k=8, as_of=TODAY):
                    for hit in found:
                        assert hit.article.body[hit.start : hit.end] == hit.text
                checks.append(number)

        assert run_threads(work) == []
        after = shared.info()
        assert after["articles"] == 48 - 5
        assert shared.search(QUESTION_SET, k=4, mode="dense", filters=old,
                             as_of=TODAY) == before
    with open_index(tmp_path / "ix") as reopened:
        assert reopened.check() == []


def test_a_search_is_answered_while_another_thread_is_inside_a_long_read(
        tmp_path: Path) -> None:
    """One thread stops inside a read of the store (checking an article's text, here held
    until the test lets it go); a search from another thread still completes. With one lock
    around every read of the store, it would wait for the first thread."""
    corpus = write_corpus(tmp_path / "corpus", articles=6)
    with open_index(tmp_path / "ix") as index:
        index.ingest([corpus], today=TODAY, progress=False)
    store = IndexStore.open(tmp_path / "ix")
    inside, release = threading.Event(), threading.Event()
    checked = store._verified_article

    def held(*args: object) -> object:
        if threading.current_thread().name == "long-read":
            inside.set()
            assert release.wait(PATIENCE)
        return checked(*args)

    store._verified_article = held
    long_read = threading.Thread(target=store.records, args=([1, 2, 3],), name="long-read")
    long_read.start()
    try:
        assert inside.wait(PATIENCE)
        query = np.zeros((1, 64), dtype=np.float32)
        query[0, 0] = 1.0
        finished: list[tuple] = []
        search = threading.Thread(target=lambda: finished.append(
            (store.search(query, 3), store.records([4]), store.lexical_search("story", 3))))
        search.start()
        search.join(PATIENCE)
        assert finished, "the search waited for the long read"
        scores, ids = finished[0][0]
        assert ids.shape == (1, 3) and (ids >= 0).all()
        assert set(finished[0][1]) == {4} and len(finished[0][2][1]) == 3
    finally:
        release.set()
        long_read.join(PATIENCE)
        store.close()


def test_threads_read_through_connections_of_their_own(tmp_path: Path) -> None:
    """Each thread reads through its own SQLite connection; a thread that has ended gives
    its connection back when a new one comes."""
    corpus = write_corpus(tmp_path / "corpus", articles=3)
    with open_index(tmp_path / "ix") as index:
        index.ingest([corpus], today=TODAY, progress=False)
    store = IndexStore.open(tmp_path / "ix")
    try:
        connections: list[object] = []

        def read() -> None:
            store.counts()
            connections.append(store._thread_db)

        for _ in range(3):  # one after another: each finds the last one's ended
            thread = threading.Thread(target=read)
            thread.start()
            thread.join(PATIENCE)
        assert len({id(c) for c in connections}) == 3
        assert len(store._readers) == 1  # the last thread's, until the next thread reads
        read()
        assert list(store._readers) == [threading.current_thread()]
    finally:
        store.close()
    with pytest.raises(Exception, match="closed"):
        store.counts()


def test_a_reader_holding_a_deleted_segment_never_meets_another_under_its_name(
        tmp_path: Path) -> None:
    # Removing the only article of the newest segment deletes that segment; the next ingest
    # must not reuse its name, or a reader that still holds the old one reads the wrong file.
    for number, text in enumerate(["Harbour lanterns\n\nFishermen lit lanterns on the pier.",
                                   "Orchard frost\n\nA late frost hit the apple orchards.",
                                   "Glacier drones\n\nDrones measured the glacier's tongue."]):
        (tmp_path / f"{number}.txt").write_text(text, encoding="utf-8")
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as writer, \
            ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as reader:
        writer.ingest([tmp_path / "0.txt"], progress=False)
        frost = writer.ingest([tmp_path / "1.txt"], progress=False).added[0]
        assert reader.search_one("apple frost", k=2)[0].article.id == frost  # holds both
        writer.remove(frost)
        writer.ingest([tmp_path / "2.txt"], progress=False)
        titles = [hit.article.title for hit in reader.search_one("glacier drones", k=2)]
        assert titles == ["Glacier drones", "Harbour lanterns"]
        assert len(list((tmp_path / "ix" / "segments").glob("*.faiss"))) == 2


def _three_segments(tmp_path: Path) -> ArticleIndex:
    for number in range(3):
        (tmp_path / f"{number}.txt").write_text(
            f"Bridge story {number}\n\nThe council met about the bridge on day {number}.",
            encoding="utf-8")
    writer = ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None)
    for number in range(3):
        writer.ingest([tmp_path / f"{number}.txt"], progress=False)  # a segment each
    return writer


def test_a_segment_merged_away_while_a_reader_loads_it_is_read_again_not_damage(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = _three_segments(tmp_path)
    with writer, ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as reader:
        digest, merged = store_module._file_digest, []

        def merge_after_the_digest(file: Path) -> str:
            value = digest(file)
            if file.suffix == ".faiss" and not merged:  # between the digest and FAISS's read
                merged.append(file.name)
                with writer._store.writing():  # noqa: SLF001 - the race needs the store
                    writer._store.merge_segments(max_segments=1)  # noqa: SLF001
            return value

        monkeypatch.setattr(store_module, "_file_digest", merge_after_the_digest)
        assert merged == [] and len(reader.search_one("council bridge", k=3)) == 3
        assert merged


def test_the_size_counts_nothing_for_a_file_renamed_while_it_is_walked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _three_segments(tmp_path) as index:
        stray = tmp_path / "ix" / "segments" / "000009.faiss.tmp"  # as a writer leaves it
        stray.write_bytes(b"0" * 10)
        is_file = Path.is_file

        def renamed_after_listing(path: Path) -> bool:
            found = is_file(path)
            if path == stray:
                path.unlink()  # renamed by the writer before its size is read
            return found

        monkeypatch.setattr(Path, "is_file", renamed_after_listing)
        assert index.info()["size_bytes"] > 0


def test_an_index_opens_while_another_writer_merges_its_segments_away(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _three_segments(tmp_path) as writer:
        exists, merged = Path.exists, []

        def merge_after_the_listing(path: Path) -> bool:
            if path.suffix == ".faiss" and not merged:  # the open has read the segment list
                merged.append(path.name)
                with writer._store.writing():  # noqa: SLF001 - the race needs the store
                    writer._store.merge_segments(max_segments=1)  # noqa: SLF001
            return exists(path)

        monkeypatch.setattr(Path, "exists", merge_after_the_listing)
        with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as reader:
            assert merged and len(reader.search_one("council bridge", k=3)) == 3
