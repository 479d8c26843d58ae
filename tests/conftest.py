"""Shared fixtures: the corpus location and one real index, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
OVERVIEW = CORPUS / "overview" / "000_9f3ee334bca204eb.txt"
BBC = CORPUS / "bbc"
#: What the session's real index holds: the Overview page and all 2,225 BBC files.
REAL_INDEX_SOURCES = (OVERVIEW, BBC)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def real_index_path(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """A real index (default model, real FAISS) of the Overview page and the BBC corpus.

    Built once per session (a few minutes); tests must treat it as read-only (copy it to
    change it).
    """
    from articleqa import ArticleIndex

    folder = tmp_path_factory.mktemp("real") / "index"
    with ArticleIndex.open(folder) as index:
        report = index.ingest(REAL_INDEX_SOURCES, source="BBC News", country="United Kingdom",
                              progress=False)
    assert not report.failed, report.failed
    return folder


@pytest.fixture(scope="session")
def real_index(real_index_path: Path):
    from articleqa import ArticleIndex

    with ArticleIndex.open(real_index_path, create=False) as index:
        yield index
