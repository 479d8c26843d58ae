"""Crash safety and concurrency, proven: SIGKILLs during ingest, remove and merge leave an
index that `check` finds sound and that a rerun completes to the counts of a clean run; readers
search while two writers ingest, remove and merge.

The kills run the work in a child process with the fake encoder (and once with the real
model); both tests are slow (processes and many commits), so they run with the whole suite.
"""

from __future__ import annotations

import random
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import articleqa.index as index_module
from articleqa import ArticleIndex
from articleqa.embedding import HashEncoder
from articleqa.readers import read_articles
from tests.conftest import BBC

ROOT = Path(__file__).resolve().parents[1]

#: The child: ingest the corpus, remove some articles, merge the segments down to one.
WORKER = r"""
import sys
import articleqa.index as index_module
from articleqa import ArticleIndex
from articleqa.embedding import HashEncoder

folder, corpus, model, commit, victims = sys.argv[1:6]
index_module.COMMIT_PASSAGES = int(commit)
encoder = HashEncoder() if model == "hash" else None
with ArticleIndex.open(folder, encoder=encoder, llm=None) as index:
    index.encoder  # the model is loaded before "ready": the kills fall in the work
    print("ready", flush=True)
    index.ingest([corpus], progress=False)
    for article_id in victims.split(","):
        if index._store.known_article_ids([article_id]):
            index.remove(article_id)
    with index._store.writing():
        index._store.merge_segments(max_segments=1)
print("done", flush=True)
"""

SENTENCES = ("The council met on {day} to discuss the {thing}.",
             "Residents said the {thing} had been delayed for {n} years.",
             "A spokesperson promised a decision before the end of {month}.",
             "Critics called the plan for the {thing} too expensive.",
             "The mayor said {n} jobs depended on the {thing}.",
             "Work on the {thing} would start in {month}, officials said.")
THINGS = ("bridge", "library", "tram line", "harbour wall", "school", "stadium", "hospital",
          "market", "park", "museum", "ferry", "airport")


def write_corpus(folder: Path, articles: int = 48) -> Path:
    folder.mkdir(parents=True)
    for n in range(articles):
        thing = THINGS[n % len(THINGS)]
        body = "\n\n".join(s.format(day=f"day {n}", thing=thing, n=n + 2, month=f"month {n}")
                           for s in SENTENCES)
        (folder / f"{n:03d}.txt").write_text(f"Story {n} about the {thing}\n\n{body}\n",
                                            encoding="utf-8")
    return folder


def start(folder: Path, corpus: Path, model: str, commit: int, victims: list[str]
          ) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(folder), str(corpus), model, str(commit),
         ",".join(victims)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([child.stdout], [], [], 300)
    assert ready and child.stdout.readline().strip() == "ready", child.stderr.read()
    return child


def run_to_end(folder: Path, corpus: Path, model: str, commit: int, victims: list[str]
               ) -> float:
    """Runs the work without a kill; returns its seconds after "ready"."""
    child = start(folder, corpus, model, commit, victims)
    started = time.perf_counter()
    out, err = child.communicate(timeout=600)
    assert child.returncode == 0 and out.strip() == "done", err
    return time.perf_counter() - started


def state(folder: Path, encoder=None) -> tuple[dict, list[str]]:
    with ArticleIndex.open(folder, encoder=encoder, llm=None) as index:
        info = index.info()
        return ({key: info[key] for key in ("articles", "passages")}, index.check())


def kill_and_check(folder: Path, corpus: Path, model: str, commit: int, victims: list[str],
                   clean: dict, work: float, kills: int, seed: int,
                   encoder_factory=HashEncoder) -> int:
    """Kills the work ``kills`` times at random moments; after each kill the index must be
    sound, and after all of them a rerun must reach the counts of a clean run. Returns the
    number of runs started."""
    rng = random.Random(seed)
    killed, runs = 0, 0
    while killed < kills:
        runs += 1
        assert runs <= 3 * kills, "the work ends before the kills land; lengthen it"
        if runs % 6 == 1:  # now and then from nothing: kills inside a long first ingest
            shutil.rmtree(folder, ignore_errors=True)
        child = start(folder, corpus, model, commit, victims)
        time.sleep(rng.uniform(0, work))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            killed += 1
        child.communicate(timeout=60)
        if (folder / "manifest.json").exists():
            counts, problems = state(folder, encoder_factory())
            assert problems == [], f"after kill {killed}: {problems}"
    run_to_end(folder, corpus, model, commit, victims)
    counts, problems = state(folder, encoder_factory())
    assert problems == [] and counts == clean
    return runs


@pytest.mark.slow
def test_sigkills_during_ingest_remove_and_merge_lose_nothing(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    victims = [read_articles(corpus / f"{n:03d}.txt")[0][0].id for n in (3, 7, 11, 19, 30)]
    work = run_to_end(tmp_path / "clean", corpus, "hash", 4, victims)
    clean, problems = state(tmp_path / "clean", HashEncoder())
    assert problems == [] and clean == {"articles": 43, "passages": 43}
    runs = kill_and_check(tmp_path / "ix", corpus, "hash", 4, victims, clean, work,
                          kills=20, seed=12)
    print(f"20 SIGKILLs in {runs} runs, each followed by a sound check")


@pytest.mark.slow
def test_a_sigkill_with_the_real_model_loses_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(1, 13):
        (corpus / f"{n:03d}.txt").symlink_to(BBC / "tech" / f"{n:03d}.txt")
    victims = [read_articles(corpus / "005.txt")[0][0].id]
    work = run_to_end(tmp_path / "clean", corpus, "real", 16, victims)
    clean, problems = state(tmp_path / "clean")
    assert problems == [] and clean["articles"] == 11
    kill_and_check(tmp_path / "ix", corpus, "real", 16, victims, clean, work, kills=1, seed=3,
                   encoder_factory=lambda: None)


def test_readers_search_while_two_writers_ingest_remove_and_merge(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "COMMIT_PASSAGES", 4)
    corpus = write_corpus(tmp_path / "corpus", articles=40)
    halves = [tmp_path / "a", tmp_path / "b"]
    for number, half in enumerate(halves):
        half.mkdir()
        for file in sorted(corpus.iterdir())[number::2]:
            shutil.copy(file, half / file.name)
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as first:
        first.ingest([corpus / "000.txt"], progress=False)
    stop, reading, searches, failures = threading.Event(), threading.Event(), [], []

    def read() -> None:
        with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as index:
            while not stop.is_set():
                try:
                    for hits in index.search(["council bridge", "mayor jobs"], k=5):
                        for hit in hits:
                            assert hit.article.body[hit.start : hit.end] == hit.text
                    searches.append(1)
                    reading.set()
                except Exception as error:  # noqa: BLE001 - reported below
                    failures.append(error)
                    return

    def write(half: Path) -> None:
        assert reading.wait(timeout=60)  # the writes start while the readers search
        try:
            with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as index:
                report = index.ingest([half], progress=False)
                for article_id in report.added[:3]:
                    index.remove(article_id)
                index.ingest([half], progress=False)  # and back
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(half,)) for half in halves]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    stop.set()
    for thread in readers:
        thread.join(timeout=60)
    assert failures == [] and len(searches) > 2
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(), llm=None) as index:
        assert index.info()["articles"] == 40 and index.check() == []
    print(f"{len(searches)} searches by 2 readers during the writes, none failed")
