"""articleqa: ask questions of a news archive; get answers quoted from the articles."""

from __future__ import annotations

from articleqa.answering import Answer, Citation
from articleqa.articles import Article
from articleqa.chunking import Chunk
from articleqa.errors import (
    ArticleQAError,
    ArticleReadError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    LLMError,
    ModelLoadError,
)
from articleqa.index import ArticleIndex, ArticleNotFoundError, IngestReport
from articleqa.retrieval import Hit

__all__ = [
    "Answer",
    "Article",
    "ArticleIndex",
    "ArticleNotFoundError",
    "ArticleQAError",
    "ArticleReadError",
    "Chunk",
    "Citation",
    "Hit",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IngestReport",
    "LLMError",
    "ModelLoadError",
]
