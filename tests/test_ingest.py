"""Tests of ArticleIndex with the fake HashEncoder: ingest bookkeeping, removal, bad input,
reopening, argument checks, batching, filters and segment merging. No real model here."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from pathlib import Path

import pytest

import articleqa.index as index_module
from articleqa import (
    Answer,
    ArticleIndex,
    ArticleNotFoundError,
    IndexMismatchError,
    IndexNotFoundError,
)
from articleqa.embedding import HashEncoder
from articleqa.readers import read_articles
from articleqa.retrieval import QUERY_BATCH
from articleqa.store import MAX_SEGMENTS

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
TODAY = dt.date(2026, 11, 29)

HARBOUR = """Harbour festival draws record crowds

Fishermen decorated their trawlers with lanterns for the harbour festival on Saturday.

Organisers counted forty thousand visitors, twice the number of last year. The mayor said the
quay would be widened before the next festival.
"""

ORCHARD = """Orchard growers expect a small apple harvest

A late frost in April damaged the blossom across the valley orchards.

Growers said the apple harvest would be a third smaller than usual, and cider makers expect
higher prices for juice."""

OVERVIEW = "\n".join([
    "Overview Logo", "Article Main Image", "",
    "Tram line to the airport opens after delays", "",
    "Coastal Herald", "",
    "Portugal", "",
    "Tuesday, March 3", "", "",
    "Alternative Takes", "", "Local Transport", "", "",
    "The tram line links the old town to the airport in twenty minutes.", "",
    "Engineers blamed a shortage of rails for the two-year delay.", "",
    "Get the full experience in the app", "", "Apple App Store Badge",
])  # fmt: skip

RECORDS = [
    {"title": "Glacier retreat measured by drones", "source": "Alpine Wire",
     "country": "Switzerland",
     "published": "2024-06-10", "text": "Survey drones measured the glacier tongue shrinking by "
     "forty metres.\n\nGlaciologists blamed the warm winter."},
    {"title": "Chess club wins the regional final", "source": "Alpine Wire", "country": "Austria",
     "published": "2025-02-01", "text": "The village chess club beat the city champions in the "
     "regional final.\n\nTheir youngest player is eleven."},
    {"title": "Bakery trial of a four-day week", "source": "Northern Post", "country": "Norway",
     "published": "2025-09-15", "text": "A bakery chain will try a four-day week for its bakers "
     "from October.\n\nThe union welcomed the trial."},
]


def write_corpus(folder: Path) -> Path:
    """Six articles of our own in three formats: two plain, one Overview page, three JSONL."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (folder / "orchard.txt").write_text(ORCHARD, encoding="utf-8")
    (folder / "tram.txt").write_text(OVERVIEW, encoding="utf-8")
    (folder / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    return folder


def open_index(folder: Path, encoder: HashEncoder | None = None) -> ArticleIndex:
    return ArticleIndex.open(folder, encoder=encoder or HashEncoder())


def ingest(index: ArticleIndex, *paths: Path):
    return index.ingest(list(paths), today=TODAY, progress=False)


def titles(hits) -> list[str]:
    return [hit.article.title for hit in hits]


def snapshot(index: ArticleIndex, questions: list[str], k: int = 4) -> list[list[tuple]]:
    """Search results as comparable values: (score, chunk ids) best first, one pair per score.

    Tied passages may come in any order, and of a tie at the k-th place any may be cut, so
    the last group is compared by score and size only.
    """
    results = []
    for hits in index.search(questions, k=k):
        groups: dict[float, set[str]] = {}
        for hit in hits:
            groups.setdefault(round(hit.score, 5), set()).add(hit.chunk_id)
        ranked = sorted(groups.items(), reverse=True)
        if ranked:
            score, last = ranked.pop()
            ranked.append((score, len(last)))
        results.append(ranked)
    return results


QUESTIONS = ["harbour festival lanterns", "apple harvest frost", "tram airport delay",
             "glacier drones", "chess final", "bakery four-day week"]


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "articles")


@pytest.fixture
def index(tmp_path: Path, corpus_dir: Path):
    with open_index(tmp_path / "index") as opened:
        report = ingest(opened, corpus_dir)
        assert not report.failed, report.failed
        yield opened


# -- ingest --------------------------------------------------------------------------------------


def test_a_second_ingest_embeds_nothing(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = HashEncoder()
    with open_index(tmp_path / "index", encoder) as opened:
        first = ingest(opened, corpus_dir)
        calls = list(encoder.calls)
        again = ingest(opened, corpus_dir)
        assert encoder.calls == calls
        assert again.added == [] and again.removed == [] and again.passages == 0
        assert sorted(again.unchanged) == sorted(first.added)
    with open_index(tmp_path / "index", encoder) as reopened:  # also after reopening
        assert sorted(ingest(reopened, corpus_dir).unchanged) == sorted(first.added)
        assert encoder.calls == calls


def test_the_same_article_under_two_names_is_stored_once(tmp_path: Path,
                                                         corpus_dir: Path) -> None:
    shutil.copy(corpus_dir / "harbour.txt", corpus_dir / "harbour-copy.txt")
    with open_index(tmp_path / "index") as opened:
        report = ingest(opened, corpus_dir)
        assert len(report.added) == 6
        assert [path for path, _ in report.duplicates] == [str(corpus_dir / "harbour.txt")]
        assert opened.info()["articles"] == 6
        hits = opened.search_one("harbour festival lanterns quay", k=10)
        assert len({hit.article.id for hit in hits if "Harbour" in hit.article.title}) == 1
        # One copy gone: the article stays, the other file still holds it.
        (corpus_dir / "harbour-copy.txt").write_text("Something else\n\nA different story.\n")
        report = ingest(opened, corpus_dir)
        assert report.removed == [] and len(report.added) == 1
        assert "Harbour festival draws record crowds" in titles(
            opened.search_one("harbour festival lanterns", k=3))


def test_an_edited_file_replaces_its_old_article(index: ArticleIndex, corpus_dir: Path) -> None:
    old = index.search_one("apple harvest frost", k=1)[0].article
    (corpus_dir / "orchard.txt").write_text(ORCHARD.replace("a third", "half"), encoding="utf-8")
    report = ingest(index, corpus_dir)
    assert report.removed == [old.id]
    assert len(report.added) == 1 and report.added != [old.id]
    assert len(report.unchanged) == 5
    assert index.info()["articles"] == 6
    with pytest.raises(ArticleNotFoundError):
        index.article(old.id)
    new = index.article(report.added[0])
    assert "half" in new.body
    hits = index.search(["apple harvest frost"], k=50)[0]
    assert old.id not in {hit.article.id for hit in hits}
    assert index.search(["apple harvest"], k=3, filters={"article_id": old.id}) == [[]]


def test_an_edited_file_is_known_however_its_path_is_spelled(
        tmp_path: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_index(tmp_path / "index") as opened:
        ingest(opened, Path("articles"))
        old = opened.search_one("apple harvest frost", k=1)[0].article
        (corpus_dir / "orchard.txt").write_text(ORCHARD.replace("April", "May"))
        report = ingest(opened, corpus_dir.resolve() / "orchard.txt")
        assert report.removed == [old.id] and len(report.added) == 1
        assert len(ingest(opened, Path("articles") / ".." / "articles").unchanged) == 6


@pytest.mark.parametrize("order", ["old file first", "new file first"])
def test_an_article_moved_to_another_file_is_not_lost(index: ArticleIndex, corpus_dir: Path,
                                                      order: str) -> None:
    harbour = index.search_one("harbour festival lanterns", k=1)[0].article
    (corpus_dir / "moved.txt").write_text(HARBOUR, encoding="utf-8")
    (corpus_dir / "harbour.txt").write_text("Lighthouse repainted\n\nThe lighthouse is red now.\n")
    files = [corpus_dir / "harbour.txt", corpus_dir / "moved.txt"]
    report = ingest(index, *(files if order == "old file first" else files[::-1]))
    assert report.removed == []
    assert harbour.id in report.unchanged
    assert index.article(harbour.id).title == harbour.title
    assert index.info()["articles"] == 7
    # The old file forgets it; the new file is now what holds it.
    (corpus_dir / "moved.txt").write_text("Quay widened\n\nThe quay is wider.\n")
    assert ingest(index, corpus_dir / "moved.txt").removed == [harbour.id]


def test_a_record_that_turns_bad_keeps_its_stored_article(index: ArticleIndex,
                                                          corpus_dir: Path) -> None:
    chess = index.search_one("chess final", k=1)[0].article
    lines = (corpus_dir / "wire.jsonl").read_text().splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]  # a half-written line
    (corpus_dir / "wire.jsonl").write_text("\n".join(lines) + "\n")
    report = ingest(index, corpus_dir)
    assert [path for path, _ in report.failed] == [f"{corpus_dir / 'wire.jsonl'}#2"]
    assert report.removed == []
    assert index.article(chess.id).title == chess.title


# -- remove --------------------------------------------------------------------------------------


def test_remove_takes_an_article_out_of_search(index: ArticleIndex) -> None:
    glacier = index.search_one("glacier drones", k=1)[0].article
    passages = index.info()["passages"]
    index.remove(glacier.id)
    assert glacier.id not in {h.article.id for h in index.search_one("glacier drones", k=100)}
    assert index.info()["articles"] == 5 and index.info()["passages"] < passages
    with pytest.raises(ArticleNotFoundError, match=glacier.id):
        index.article(glacier.id)
    with pytest.raises(ArticleNotFoundError, match=glacier.id):
        index.remove(glacier.id)
    with pytest.raises(ArticleNotFoundError, match="no-such-id"):
        index.remove("no-such-id")
    with pytest.raises(KeyError):  # also a KeyError, for callers that expect one
        index.remove("no-such-id")
    with open_index(index.path) as reopened:
        assert glacier.id not in {h.article.id for h in reopened.search_one("glacier", k=100)}


# -- bad input -----------------------------------------------------------------------------------


def test_bad_files_fail_alone_and_nothing_is_lost(tmp_path: Path, corpus_dir: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (bad / "mystery.txt").write_bytes(b"Headline\n\nBytes \x81\x8d\x90 are no encoding.\n")
    (bad / "records.jsonl").write_text(
        json.dumps({"title": "No text here"}) + "\n"
        + json.dumps({"title": "Kite festival", "text": "Kites filled the sky over the dunes."})
        + "\n")
    (bad / "slides.pptx").write_bytes(b"not read")
    missing = tmp_path / "nowhere.txt"
    with open_index(tmp_path / "index") as opened:
        ingest(opened, corpus_dir)
        before = opened.info()
        answers = snapshot(opened, QUESTIONS)
        report = ingest(opened, bad, corpus_dir, missing)
        failed = dict(report.failed)
        assert set(failed) == {str(bad / "empty.txt"), str(bad / "picture.txt"),
                               str(bad / "mystery.txt"), f"{bad / 'records.jsonl'}#1",
                               str(bad / "slides.pptx"), str(missing)}
        assert "empty" in failed[str(bad / "empty.txt")]
        assert "PNG" in failed[str(bad / "picture.txt")]
        assert "encoding" in failed[str(bad / "mystery.txt")]
        assert "text" in failed[f"{bad / 'records.jsonl'}#1"]
        assert "not supported" in failed[str(bad / "slides.pptx")]
        assert "no such file" in failed[str(missing)]
        assert len(report.added) == 1 and len(report.unchanged) == 6
        assert opened.info()["articles"] == before["articles"] + 1
        passages = opened.info()["passages"]
        after = snapshot(opened, QUESTIONS)
        assert [hits[0] for hits in after] == [hits[0] for hits in answers]
        kites = opened.search_one("kites dunes", k=1)
        assert titles(kites) == ["Kite festival"]
    with open_index(tmp_path / "index") as reopened:
        assert reopened.info()["articles"] == before["articles"] + 1
        assert reopened.info()["passages"] == passages
        assert snapshot(reopened, QUESTIONS) == after
        assert reopened.search_one("kites dunes", k=1) == kites


def test_an_ingest_of_only_bad_files_changes_nothing(index: ArticleIndex, tmp_path: Path) -> None:
    before = index.info()
    answers = snapshot(index, QUESTIONS)
    (tmp_path / "empty.txt").write_text("   \n")
    report = ingest(index, tmp_path / "empty.txt", tmp_path / "missing.json")
    assert len(report.failed) == 2 and report.added == [] and report.removed == []
    assert {k: index.info()[k] for k in ("articles", "passages")} == {
        k: before[k] for k in ("articles", "passages")}
    assert snapshot(index, QUESTIONS) == answers


@pytest.mark.parametrize(
    ("questions", "k", "message"),
    [
        ([""], 5, "question 1 is empty"),
        (["fine", "   "], 5, "question 2 is empty"),
        (["fine", 42], 5, "question 2 is int"),
        (["fine", "why " * 600], 5, "question 2 is 2,399 characters long; ask it in at most 2,000"),
        ([None], 5, "question 1 is NoneType"),
        ("a single string", 5, "list of questions"),
        (["fine"], 0, "k=0"),
        (["fine"], -1, "k=-1"),
        (["fine"], True, "k=True"),
        (["fine"], 2.5, "k=2.5"),
        (["fine"], "3", "k='3'"),
    ],
)
def test_bad_questions_and_k_are_refused(index: ArticleIndex, questions, k, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        index.search(questions, k=k)


def test_search_one_refuses_an_empty_question(index: ArticleIndex) -> None:
    with pytest.raises(ValueError, match="empty"):
        index.search_one("  ")


def test_opening_a_missing_index_without_create_fails(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="no articleqa index"):
        ArticleIndex.open(tmp_path / "missing", encoder=HashEncoder(), create=False)
    assert not (tmp_path / "missing").exists()


def test_opening_with_another_model_is_a_mismatch(index: ArticleIndex) -> None:
    with pytest.raises(IndexMismatchError) as error:
        ArticleIndex.open(index.path, encoder=HashEncoder(name="other/encoder"))
    assert "test/hash-encoder" in str(error.value) and "other/encoder" in str(error.value)
    with pytest.raises(IndexMismatchError) as error:
        ArticleIndex.open(index.path, model="other/encoder")
    assert "test/hash-encoder" in str(error.value) and "other/encoder" in str(error.value)
    with pytest.raises(IndexMismatchError) as error:
        ArticleIndex.open(index.path, encoder=HashEncoder(dimension=32))
    assert "64" in str(error.value) and "32" in str(error.value)


def test_the_manifest_records_the_encoder_backend(tmp_path: Path) -> None:
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(backend="onnx-int8")) as index:
        assert index.info()["backend"] == "onnx-int8"
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["backend"] == "onnx-int8"


@pytest.mark.parametrize(("built", "used", "compatible"), [
    ("onnx-int8", "torch", False), ("onnx-int8", "onnx", False), ("torch", "onnx-int8", False),
    ("onnx", "onnx-int8", False), ("torch", "onnx", True), ("onnx", "torch", True),
    ("onnx-int8", "onnx-int8", True), ("torch", "openvino", True), ("openvino", "onnx", True),
    ("openvino", "onnx-int8", False),
])
def test_only_backends_of_the_same_vectors_use_an_index(tmp_path: Path, built: str, used: str,
                                                        compatible: bool) -> None:
    ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(backend=built)).close()
    if compatible:
        ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(backend=used)).close()
        ArticleIndex.open(tmp_path / "ix", backend=used).close()  # the model loads lazily
        return
    # Refused before any model is loaded, saying what to do.
    with pytest.raises(IndexMismatchError) as error:
        ArticleIndex.open(tmp_path / "ix", backend=used)
    assert f"{built!r} encoder backend" in str(error.value)
    assert f"--encoder-backend {used}" in str(error.value)
    with pytest.raises(IndexMismatchError, match=f"built with the {built!r} encoder backend"):
        ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(backend=used))


def test_an_index_without_a_recorded_backend_was_built_by_torch(tmp_path: Path) -> None:
    ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(backend="torch")).close()
    manifest_file = tmp_path / "ix" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    del manifest["backend"]  # as an index made before backends were recorded
    manifest_file.write_text(json.dumps(manifest))
    with ArticleIndex.open(tmp_path / "ix", encoder=HashEncoder(backend="onnx")) as index:
        assert index.info()["backend"] == "torch"
    with pytest.raises(IndexMismatchError, match="'torch' encoder backend"):
        ArticleIndex.open(tmp_path / "ix", backend="onnx-int8")


def test_an_unknown_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown encoder backend 'tensorrt'.*onnx-int8"):
        ArticleIndex.open(tmp_path / "ix", backend="tensorrt")


# -- search --------------------------------------------------------------------------------------


def test_many_questions_are_encoded_in_batches(index: ArticleIndex) -> None:
    encoder = index.encoder
    assert isinstance(encoder, HashEncoder)
    before = len(encoder.calls)
    questions = (f"{QUESTIONS[i % len(QUESTIONS)]} {i}" for i in range(1000))  # a generator
    results = index.search(questions, k=2)
    batch = QUERY_BATCH
    assert encoder.calls[before:] == [batch] * (1000 // batch) + [1000 % batch]
    assert len(results) == 1000 and all(len(hits) == 2 for hits in results)
    assert titles(results[6]) == titles(index.search_one(f"{QUESTIONS[0]} 6", k=2))


def test_filters_restrict_hits(index: ArticleIndex) -> None:
    question = ["harbour apple tram glacier chess bakery festival"]

    def found(**filters) -> set[str]:
        return set(titles(index.search(question, k=20, filters=filters)[0]))

    everything = found()
    assert len(everything) == 6
    assert found(source="alpine wire") == {"Glacier retreat measured by drones",
                                           "Chess club wins the regional final"}
    assert found(country="Norway") == {"Bakery trial of a four-day week"}
    assert found(source="Alpine Wire", country="Austria") == {"Chess club wins the regional final"}
    assert found(since="2025-01-01") == {"Chess club wins the regional final",
                                         "Bakery trial of a four-day week",
                                         "Tram line to the airport opens after delays"}
    assert found(since="2025-01-01", until="2025-12-31") == {
        "Chess club wins the regional final", "Bakery trial of a four-day week"}
    assert found(until=dt.date(2024, 6, 10)) == {"Glacier retreat measured by drones"}
    assert found(source="Nobody") == set()
    assert found(source=None, country="") == everything  # empty values do not filter
    chess = index.search_one("chess final", k=1)[0].article.id
    assert found(article_id=chess) == {"Chess club wins the regional final"}
    bakery = index.search_one("bakery week", k=1)[0].article.id
    assert found(article_id=[chess, bakery]) == {"Chess club wins the regional final",
                                                 "Bakery trial of a four-day week"}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"outlet": "x"}, "unknown filter.*outlet"),
        ({"since": "last tuesday"}, "since='last tuesday' is not a date"),
        ({"until": "2025-13-40"}, "until='2025-13-40' is not a date"),
        ({"source": 5}, "source=5 must be a string"),
        ({"article_id": 5}, "article_id"),
        ({"article_id": ["ok", 5]}, "article_id"),
    ],
)
def test_bad_filters_are_refused(index: ArticleIndex, filters, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        index.search(["harbour"], k=2, filters=filters)


def test_k_larger_than_the_passages_returns_them_all(index: ArticleIndex) -> None:
    passages = index.info()["passages"]
    for hits in index.search(QUESTIONS, k=passages + 50):
        assert len(hits) == passages
        assert len({hit.chunk_id for hit in hits}) == passages
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_huge_k_is_not_a_huge_allocation(index: ArticleIndex) -> None:
    passages = index.info()["passages"]
    assert [len(hits) for hits in index.search(QUESTIONS[:2], k=10**12)] == [passages] * 2


def test_date_filters_accept_dates_and_datetimes(index: ArticleIndex) -> None:
    question = ["glacier chess bakery"]
    for since in ("2025-02-01", dt.date(2025, 2, 1), dt.datetime(2025, 2, 1, 18, 30)):
        for until in ("2025-09-15", dt.date(2025, 9, 15), dt.datetime(2025, 9, 15, 6, 0)):
            hits = index.search(question, k=10, filters={"since": since, "until": until})[0]
            assert set(titles(hits)) == {"Chess club wins the regional final",
                                         "Bakery trial of a four-day week"}, (since, until)


def test_search_of_an_empty_index_finds_nothing(tmp_path: Path) -> None:
    with open_index(tmp_path / "index") as empty:
        assert empty.search(["anything at all", "more"], k=3) == [[], []]
        assert empty.search([], k=3) == []


def test_a_second_index_object_sees_what_an_ingest_commits(tmp_path: Path,
                                                           corpus_dir: Path) -> None:
    with open_index(tmp_path / "index") as writer, open_index(tmp_path / "index") as reader:
        assert reader.search(["harbour festival"], k=3) == [[]]
        ingest(writer, corpus_dir / "harbour.txt")
        assert set(titles(reader.search_one("harbour festival", k=3))) == {
            "Harbour festival draws record crowds"}
        ingest(writer, corpus_dir)
        writer.remove(writer.search_one("harbour festival lanterns", k=1)[0].article.id)
        assert "Harbour festival draws record crowds" not in titles(
            reader.search_one("harbour festival", k=20))
        assert reader.info()["articles"] == 5


# -- commits and segments ------------------------------------------------------------------------


def real_files(per_topic: int) -> list[Path]:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return [path for topic in ("business", "entertainment", "politics", "sport", "tech")
            for path in sorted((CORPUS / "bbc" / topic).glob("*.txt"))[:per_topic]]


def test_small_commits_are_merged_and_search_is_unchanged(tmp_path: Path, corpus_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    files = [corpus_dir, *real_files(6), *sorted((CORPUS / "overview").glob("*.txt"))]
    questions = [*QUESTIONS, "mobile phone sales", "election campaign tax", "football injury"]
    with open_index(tmp_path / "single") as single:
        single_report = ingest(single, *files)
        expected = snapshot(single, questions, k=6)
        assert single.info()["segments"] == 1
    monkeypatch.setattr(index_module, "COMMIT_PASSAGES", 4)
    encoder = HashEncoder()
    with open_index(tmp_path / "many", encoder) as many:
        report = ingest(many, *files)
        assert len(encoder.calls) > MAX_SEGMENTS + 2  # many commits ...
        assert many.info()["segments"] <= MAX_SEGMENTS  # ... merged down
        assert sorted(report.added) == sorted(single_report.added)
        assert report.passages == single_report.passages
        assert many.info()["tombstones"] == 0
        assert snapshot(many, questions, k=6) == expected
        many.remove(report.added[0])
        assert many.info()["segments"] <= MAX_SEGMENTS


def test_real_articles_ingest_and_are_found(tmp_path: Path) -> None:
    files = [*real_files(4), *sorted((CORPUS / "overview").glob("*.txt"))]
    with open_index(tmp_path / "index") as opened:
        report = opened.ingest(files, source="BBC News", country="United Kingdom",
                               today=TODAY, progress=False)
        assert report.failed == [] and len(report.added) == len(files)
        for path in files[:: len(files) // 5]:
            headline = path.read_text(encoding="utf-8").splitlines()[3 if "overview" in
                                                                      str(path) else 0]
            hits = opened.search_one(headline, k=3)
            assert hits and all(h.text == h.article.body[h.start : h.end] for h in hits)
            assert headline in titles(hits)
        hespress = opened.search(["Hammouchi Interpol"], k=1,
                                 filters={"source": "Hespress"})[0][0].article
        assert (hespress.country, hespress.published) == ("Morocco", dt.date(2025, 11, 24))


def test_a_long_headline_shrinks_the_passages_to_fit_the_model(tmp_path: Path) -> None:
    encoder = HashEncoder()  # reads 256 tokens; one word is one token
    title = " ".join(f"headline{i}" for i in range(150))
    body = " ".join(f"Sentence number {i} says little." for i in range(200))
    (tmp_path / "long.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    with ArticleIndex.open(tmp_path / "ix", encoder=encoder) as index:
        index.ingest([tmp_path / "long.txt"], progress=False)
        hits = index.search_one("Sentence number 7", k=50, per_article=None)
    assert hits
    for hit in hits:
        stored = hit.article.title  # the headline as stored (bounded)
        assert encoder.count_tokens([f"{stored}\n{hit.text}"])[0] <= encoder.max_tokens - 2


# -- threads ---------------------------------------------------------------------------------------


def test_threads_share_one_index_while_it_ingests(tmp_path: Path, corpus_dir: Path) -> None:
    """Searches and answers from eight threads, and an ingest on the same object, run side by
    side (the index, not the caller, makes the sharing safe); each gives what it gives alone
    before the ingest or after it, never a mix: an answer weighs words by their rarity in the
    whole index, so the ingest's one commit may change it."""
    with open_index(tmp_path / "index") as shared:
        ingest(shared, corpus_dir / "harbour.txt", corpus_dir / "orchard.txt")
        old = {"article_id": [a.id for a in read_articles(corpus_dir / "harbour.txt")[0]
                              + read_articles(corpus_dir / "orchard.txt")[0]]}
        question = "Organisers counted forty thousand visitors at the harbour festival?"

        def search_and_ask() -> tuple[list, Answer]:
            return (shared.search(QUESTIONS[:2], k=2, filters=old),
                    shared.ask(question, filters=old))

        before = search_and_ask()
        seen: list[tuple[list, Answer]] = []
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                for _ in range(15):
                    seen.append(search_and_ask())
                    shared.info()
            except BaseException as error:  # reported below, in the test's own thread
                errors.append(error)

        threads = [threading.Thread(target=reader) for _ in range(8)]
        for thread in threads:
            thread.start()
        report = ingest(shared, corpus_dir / "tram.txt", corpus_dir / "wire.jsonl")
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors[0]
        after = search_and_ask()
        assert len(seen) == 8 * 15
        assert all(hits in (before[0], after[0]) and answer in (before[1], after[1])
                   for hits, answer in seen)  # each call sees one committed state
        assert before[1].answered and len(report.added) == 4 and not report.failed
        assert shared.info()["articles"] == 6
