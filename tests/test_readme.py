"""The README's commands and example are the ones that work."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = _blocks("bash")[1].strip()
    assert "pytest" in test_command
    assert test_command in ci.splitlines()


@pytest.mark.slow
def test_python_quick_start_runs_as_written(tmp_path: Path) -> None:
    quick_start = _blocks("python")[0]
    assert len(quick_start.strip().splitlines()) == 5
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "shared").symlink_to(ROOT.parent / "shared")  # "../shared" as in the README
    result = subprocess.run([sys.executable, "-c", quick_start], cwd=work, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert "Hespress" in lines[0] and "Hammouchi" in lines[0]
    assert (work / "embeddings" / "manifest.json").exists()
