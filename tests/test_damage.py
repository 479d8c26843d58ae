"""Damage, read-only media and racing creators: every damaged file is named in one line (or
found by `check`), a read-only index still answers, two first ingests share one index. Fake
encoder only."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import articleqa.store as store_module
from articleqa import ArticleIndex
from articleqa.embedding import HashEncoder
from articleqa.errors import ArticleQAError, IndexCorruptError, IndexReadOnlyError
from tests.conftest import run_cli
from tests.test_ingest import QUESTIONS, write_corpus

PAGE = 4096


def open_index(folder: Path) -> ArticleIndex:
    return ArticleIndex.open(folder, encoder=HashEncoder(), llm=None)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the six test articles, closed; copy it to damage it."""
    root = tmp_path_factory.mktemp("built")
    with open_index(root / "ix") as index:
        assert not index.ingest([write_corpus(root / "in")], progress=False).failed
        assert index.check() == []
    return root / "ix"


@pytest.fixture
def copy(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr("articleqa.index.load_encoder", lambda name, backend=None: HashEncoder())
    return Path(shutil.copytree(built, tmp_path / "ix"))


def use(folder: Path) -> list[str]:
    """Opens, searches, asks and checks; returns the problems `check` finds.

    Raises:
        ArticleQAError: Whatever the damage stops (never anything else).
    """
    with open_index(folder) as index:
        index.search(QUESTIONS, k=3)
        index.ask("What did the mayor say about the quay?")
        return index.check()


def test_every_zeroed_page_of_the_records_is_an_error_or_found_by_check(copy: Path) -> None:
    pages = (copy / "records.sqlite").stat().st_size // PAGE
    outcomes = []
    for page in range(pages):
        damaged = copy.with_name(f"page{page}")
        shutil.copytree(copy, damaged)
        with open(damaged / "records.sqlite", "r+b") as handle:
            handle.seek(page * PAGE)
            handle.write(bytes(PAGE))
        try:
            problems = use(damaged)
        except ArticleQAError as error:  # a traceback of sqlite3 fails the test
            assert "\n" not in str(error) and "records.sqlite" in str(error)
            outcomes.append("error")
        else:
            assert problems, f"page {page} zeroed and nothing noticed"
            outcomes.append("check")
        shutil.rmtree(damaged)
    assert outcomes.count("error") > pages // 2
    print(f"{pages} pages zeroed one at a time: {outcomes.count('error')} stopped with a "
          f"one-line error, {outcomes.count('check')} found by check")


def test_a_zeroed_page_is_one_line_in_the_cli(copy: Path, capsys) -> None:
    """The page that holds the articles' text: `search` names the file; `check` lists it."""
    data = bytearray((copy / "records.sqlite").read_bytes())
    page = data.index(b"Fishermen") // PAGE
    data[page * PAGE : (page + 1) * PAGE] = bytes(PAGE)
    (copy / "records.sqlite").write_bytes(bytes(data))
    code, out, err = run_cli(capsys, "search", "--index", copy, "harbour festival lanterns")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"articleqa: error: {copy / 'records.sqlite'} is damaged")
    assert "articleqa check" in err and "rebuild it by ingesting" in err
    code, out, err = run_cli(capsys, "check", "--index", copy)
    assert code == 1 and "Traceback" not in err and "records.sqlite" in err


def test_changed_article_text_is_caught_on_read_and_by_check(copy: Path, capsys) -> None:
    data = (copy / "records.sqlite").read_bytes()
    assert data.count(b"Fishermen") == 1  # in the article's body (BM25 terms are lower case)
    (copy / "records.sqlite").write_bytes(data.replace(b"Fishermen", b"Fisherwen"))
    with open_index(copy) as index:
        with pytest.raises(IndexCorruptError, match="no longer matches its id"):
            index.search(["harbour festival lanterns"], k=1)
        problems = index.check()
    assert any("no longer matches their ids" in p for p in problems)
    code, _, err = run_cli(capsys, "check", "--index", copy)
    assert code == 1 and "damaged" in err and "To repair: ingest the articles again" in err


def test_four_changed_bytes_in_a_segment_are_caught_on_load(copy: Path) -> None:
    [segment] = (copy / "segments").glob("*.faiss")
    data = bytearray(segment.read_bytes())
    data[-40:-36] = bytes(4)  # inside the last vector
    segment.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=f"{segment}.*bytes changed"):
        use(copy)


def test_changed_bytes_anywhere_in_the_largest_file_are_found(copy: Path) -> None:
    largest = max((p for p in copy.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    size = largest.stat().st_size
    missed = []
    for offset in range(0, size - 64, size // 40):
        damaged = copy.with_name("changed")
        shutil.copytree(copy, damaged)
        target = damaged / largest.relative_to(copy)
        data = bytearray(target.read_bytes())
        data[offset : offset + 64] = bytes(b ^ 0x5A for b in data[offset : offset + 64])
        target.write_bytes(bytes(data))
        try:
            if not use(damaged):
                missed.append(offset)
        except ArticleQAError:
            pass
        shutil.rmtree(damaged)
    assert missed == []
    print(f"64 bytes changed at {len(range(0, size - 64, size // 40))} places in "
          f"{largest.name}: all found")


def test_check_of_a_sound_index_after_writes_and_a_reader(copy: Path, capsys) -> None:
    with open_index(copy) as reader, open_index(copy) as writer:
        reader.search(["harbour"], k=1)
        writer.remove(writer.search_one("glacier drones", k=1)[0].article.id)
        assert writer.check() == []  # a reader held the WAL: no digest, nothing false
    code, out, _ = run_cli(capsys, "check", "--index", copy)
    assert code == 0 and "sound (5 articles" in out


def test_an_index_made_before_checksums_is_upgraded(copy: Path) -> None:
    import sqlite3

    with sqlite3.connect(copy / "records.sqlite") as db:
        db.execute("ALTER TABLE segments DROP COLUMN checksum")
    with open_index(copy) as index:
        assert any("no recorded checksum" in p for p in index.check())
        index.ingest([write_corpus(copy.parent / "more")], progress=False)
        index.search(["harbour"], k=1)
        assert index.check() == []  # the old segment's checksum is recorded on the write


# -- read-only media ----------------------------------------------------------------------------


def test_a_read_only_index_answers_and_refuses_writes(copy: Path, monkeypatch) -> None:
    real_access = store_module.os.access
    monkeypatch.setattr(store_module.os, "access",
                        lambda path, mode: False if mode & 2 else real_access(path, mode))
    with ArticleIndex.open(copy, encoder=HashEncoder(), llm=None) as index:
        assert index.search(["harbour festival"], k=1)[0]
        assert index.ask("What did the mayor say?").text
        assert index.check() == []
        with pytest.raises(IndexReadOnlyError, match="is read-only.*copy the folder"):
            index.ingest([copy.parent / "elsewhere.txt"], progress=False)
        with pytest.raises(IndexReadOnlyError):
            index.remove("0123456789abcdef")


def test_a_read_only_mount_is_searched(copy: Path, tmp_path: Path) -> None:
    mount = tmp_path / "mnt"
    mount.mkdir()
    script = (
        "import sys\n"
        "from articleqa import ArticleIndex\n"
        "from articleqa.embedding import HashEncoder\n"
        "from articleqa.errors import IndexReadOnlyError\n"
        f"index = ArticleIndex.open({str(mount)!r}, encoder=HashEncoder(), llm=None)\n"
        "print(index.search(['harbour festival'], k=1)[0][0].article.title)\n"
        "print(index.check())\n"
        "try:\n"
        f"    index.ingest([{str(copy)!r}])\n"
        "except IndexReadOnlyError as error:\n"
        "    print('refused:', error)\n"
    )
    shell = (f"mount --bind {copy} {mount} && mount -o remount,bind,ro {mount} && "
             f"{sys.executable} -c \"$SCRIPT\"")
    try:
        result = subprocess.run(["unshare", "-m", "sh", "-c", shell], capture_output=True,
                                text=True, timeout=120,
                                env={"SCRIPT": script, "PATH": "/usr/bin:/bin"})
    except FileNotFoundError:
        pytest.skip("no unshare here")
    if "mount" in result.stderr and result.returncode:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    title, problems, refused = result.stdout.splitlines()
    assert title == "Harbour festival draws record crowds" and problems == "[]"
    assert refused.startswith("refused:") and "is read-only" in refused


# -- two first ingests into a new folder ---------------------------------------------------------


def test_two_first_ingests_into_a_new_folder_share_one_index(tmp_path: Path,
                                                             monkeypatch) -> None:
    corpus = write_corpus(tmp_path / "in")
    real_write = store_module._write_atomically

    def slow_manifest(file: Path, data) -> None:
        if file.name == "manifest.json":
            threading.Event().wait(0.3)  # the other creator comes in meanwhile
        real_write(file, data)

    monkeypatch.setattr(store_module, "_write_atomically", slow_manifest)
    start, reports, errors = threading.Barrier(2), [], []

    def ingest() -> None:
        start.wait()
        try:
            with open_index(tmp_path / "ix") as index:
                reports.append(index.ingest([corpus], progress=False))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=ingest) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert sorted(len(r.added) for r in reports) == [0, 6]
    with open_index(tmp_path / "ix") as index:
        assert index.info()["articles"] == 6 and index.check() == []


def test_the_digest_names_no_stale_state_after_a_crashed_writer(copy: Path) -> None:
    with open_index(copy) as index, pytest.raises(RuntimeError):
        with index._store.writing():
            raise RuntimeError("killed")
    assert not (copy / store_module.RECORDS_DIGEST).exists()
    with open_index(copy) as index:
        assert index.check() == []
    json.loads((copy / "manifest.json").read_text())


def test_a_changed_passage_offset_is_caught_on_read_and_by_check(copy: Path) -> None:
    import sqlite3

    with sqlite3.connect(copy / "records.sqlite") as db:  # as a flipped bit in an offset would
        db.execute("UPDATE chunks SET start = start + 1 WHERE id ="
                   " (SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id"
                   "  WHERE a.title LIKE 'Harbour%')")
    with open_index(copy) as index:
        with pytest.raises(IndexCorruptError, match="offsets of passage .* no longer give"):
            index.search(["harbour festival lanterns"], k=1)
        assert any("1 passages whose offsets" in p for p in index.check())
