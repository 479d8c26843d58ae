"""The README's examples run as written.

Each example runs in a sandbox laid out like a checkout beside ``../shared``: the working folder
has ``tests/data/evalset.jsonl`` and ``../shared/corpus`` next to it, but the corpus holds the
Overview page and a few BBC files (those the eval-set questions used here need), and the eval
set only those questions, so that the commands take seconds. The command text is the README's.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from articleqa import ArticleIndex
from articleqa.cli import main
from articleqa.web import build_app, serve
from tests.conftest import BBC, BBC_TOPICS, OVERVIEW, free_port

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EVALSET = ROOT / "tests" / "data" / "evalset.jsonl"
#: BBC files every sandbox holds besides those of the eval questions (an Australian Open story).
EXTRA_BBC = ("sport/422.txt", *(f"{topic}/001.txt" for topic in BBC_TOPICS))


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _command_blocks() -> list[str]:
    """The bash blocks that are examples (not the set-up or the development commands)."""
    return [block for block in _blocks("bash")
            if "pip install" not in block and "pytest" not in block]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder beside a small ``../shared/corpus``; the current folder for the test."""
    questions = _sandbox_questions()
    wanted = {*EXTRA_BBC, *(entry.removeprefix("bbc/") for q in questions
                            for entry in q["relevant_articles"] if entry.startswith("bbc/"))}
    corpus = tmp_path / "shared" / "corpus"
    (corpus / "overview").mkdir(parents=True)
    (corpus / "overview" / OVERVIEW.name).symlink_to(OVERVIEW)
    for name in sorted(wanted):
        (corpus / "bbc" / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / "bbc" / name).symlink_to(BBC / name)
    work = tmp_path / "work"
    (work / "tests" / "data").mkdir(parents=True)
    (work / "tests" / "data" / "evalset.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.delenv("ARTICLEQA_INDEX", raising=False)
    monkeypatch.delenv("ARTICLEQA_LLM_URL", raising=False)
    return work


def _sandbox_questions() -> list[dict]:
    """Of each split, the first four answerable questions with their follow-ups, and two
    unanswerable ones (the README's commands name both splits)."""
    records = [json.loads(line) for line in EVALSET.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    chosen = []
    for split in ("dev", "test"):
        part = [r for r in records if r.get("split") == split]
        first = [r for r in part if r.get("answerable", True) and not r.get("follow_up_of")][:4]
        ids = {r["id"] for r in first}
        chosen += first + [r for r in part if r.get("follow_up_of") in ids]
        chosen += [r for r in part if not r.get("answerable", True)][:2]
    return sorted(chosen, key=records.index)


def _run(line: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Runs one README command line: ``articleqa ...`` in-process, anything else in bash."""
    words = shlex.split(line, comments=True)
    if not words or words[0] == ".":  # `. .venv/bin/activate`: checked in its own test
        return 0, ""
    if words[0] != "articleqa":
        done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout
    target = None
    if ">" in words:
        words, target = words[:words.index(">")], words[words.index(">") + 1]
    capsys.readouterr()
    code = main(words[1:])
    out = capsys.readouterr().out
    if target is not None:
        Path(target).write_text(out, encoding="utf-8")
    return code, out


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = _blocks("bash")[1].strip()
    assert "pytest" in test_command
    assert test_command in ci.splitlines()


def test_the_development_commands_name_what_exists() -> None:
    (development,) = [b for b in _blocks("bash") if 'pytest -q -m "not slow"' in b]
    for script in re.findall(r"bench/\w+\.py", development):
        assert (ROOT / script).exists(), script
    assert "slow: " in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_command_line_is_on_the_path_once_the_venv_is_active() -> None:
    (commands,) = [b for b in _command_blocks() if b.startswith(". .venv/bin/activate")]
    assert commands
    if sys.prefix != sys.base_prefix:  # in a virtual environment, as the set-up makes
        assert (Path(sys.prefix) / "bin" / "activate").exists()
        assert (Path(sys.prefix) / "bin" / "articleqa").exists()


@pytest.mark.slow
def test_python_examples_run_as_written(sandbox: Path, capsys) -> None:
    quick_start, more = _blocks("python")[:2]
    assert len(quick_start.strip().splitlines()) == 5
    namespace: dict = {}
    exec(compile(quick_start, "README quick start", "exec"), namespace)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "Hespress" in lines[0] and "Hammouchi" in lines[0]
    assert (sandbox / "embeddings" / "manifest.json").exists()
    exec(compile(more, "README Python example", "exec"), namespace)
    out = capsys.readouterr().out
    *_, quote, articles, summary = out.splitlines()
    assert out.startswith("True In “Hammouchi: Morocco links security")
    assert "hybrid warfare" in quote and int(articles) > 1
    assert summary.startswith("1 added, 0 unchanged")
    namespace["index"].close()


@pytest.mark.slow
def test_command_line_examples_run_as_written(sandbox: Path, capsys) -> None:
    outputs = {}
    for block in _command_blocks():
        for line in block.strip().splitlines():
            code, out = _run(line, capsys)
            assert code == 0, line
            outputs[line] = out
    searches = [line for line in outputs if line.startswith("articleqa search \"")]
    for line in searches:
        assert "no passages found" not in outputs[line] and '"hits": []' not in outputs[line]
    assert any("Australian Open" in outputs[line] for line in searches)
    hits = [json.loads(row) for row in (sandbox / "hits.jsonl").read_text().splitlines()]
    assert [len(row["hits"]) for row in hits] == [5, 5]
    (ask,) = [out for line, out in outputs.items() if line.startswith("articleqa ask")]
    assert "[1]" in ask and "Hespress" in ask
    assert Path("/tmp/recall.png").stat().st_size > 1000
    assert any("refused" in out for line, out in outputs.items() if "--answers" in line)


@pytest.mark.slow
def test_web_api_example_runs_against_a_served_page(small_index: ArticleIndex, capsys) -> None:
    example = next(b for b in _blocks("python") if "gradio_client" in b)
    page = build_app(small_index)
    port = free_port()
    serve(page, port=port, block=False, quiet=True)
    try:
        exec(compile(example.replace(":7860/", f":{port}/"), "README web example", "exec"), {})
    finally:
        page.close()
        page.articleqa_actions.close()
    out = capsys.readouterr().out
    assert "Sources:" in out and "Hespress" in out
    assert out.count("BBC News") >= 3



@pytest.mark.slow
def test_time_and_takes_example_runs_as_written(sandbox: Path, capsys) -> None:
    (sandbox / "tests" / "data" / "takes").symlink_to(ROOT / "tests" / "data" / "takes")
    example = next(b for b in _blocks("python") if "coverage(" in b)
    namespace: dict = {}
    exec(compile(example, "README time and takes example", "exec"), namespace)
    namespace["takes"].close()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Searched articles from 10–16 November 2025 (2 undated articles left out)"
    assert sorted(line.split(" ", 1)[1] for line in lines[1:3]) == [
        "Aéro Hebdo (France, 2025-11-20)", "Gulf Ledger (United Arab Emirates, 2025-11-21)"]
    assert lines[3] == "How 3 outlets in 3 countries told “Atlas Skies orders 40 Airbus jets”:"
    assert sum(line.startswith("- ") for line in lines) == 3 and "[3]" in lines[-1]
