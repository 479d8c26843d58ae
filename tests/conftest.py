"""Shared fixtures: the corpus location and one real index, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
OVERVIEW = CORPUS / "overview" / "000_9f3ee334bca204eb.txt"
BBC_TOPICS = ("business", "entertainment", "politics", "sport", "tech")
BBC_PER_TOPIC = 101  # 505 BBC articles beside the Overview page


def bbc_sample(per_topic: int = BBC_PER_TOPIC) -> list[Path]:
    """The first ``per_topic`` files of each BBC topic folder, in a fixed order."""
    return [
        path
        for topic in BBC_TOPICS
        for path in sorted((CORPUS / "bbc" / topic).glob("*.txt"))[:per_topic]
    ]


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def real_index_path(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """A real index (default model, real FAISS) of the Overview page and 505 BBC articles.

    Built once per session; tests must treat it as read-only (copy it to change it).
    """
    from articleqa import ArticleIndex

    folder = tmp_path_factory.mktemp("real") / "index"
    with ArticleIndex.open(folder) as index:
        report = index.ingest([OVERVIEW, *bbc_sample()], source="BBC News",
                              country="United Kingdom", progress=False)
    assert not report.failed, report.failed
    return folder


@pytest.fixture(scope="session")
def real_index(real_index_path: Path):
    from articleqa import ArticleIndex

    with ArticleIndex.open(real_index_path, create=False) as index:
        yield index
