"""articleqa: ask questions of a news archive; get answers quoted from the articles."""

from __future__ import annotations

from articleqa.articles import Article
from articleqa.chunking import Chunk
from articleqa.errors import (
    ArticleQAError,
    ArticleReadError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    ModelLoadError,
)
from articleqa.index import ArticleIndex, ArticleNotFoundError, IngestReport
from articleqa.retrieval import Hit

__all__ = [
    "Article",
    "ArticleIndex",
    "ArticleNotFoundError",
    "ArticleQAError",
    "ArticleReadError",
    "Chunk",
    "Hit",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IngestReport",
    "ModelLoadError",
]
