"""articleqa: ask questions of a news archive; get answers quoted from the articles."""

from __future__ import annotations

from articleqa.answering import Answer, Citation
from articleqa.chunking import Chunk
from articleqa.errors import (
    ArticleNotFoundError,
    ArticleQAError,
    ArticleReadError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    LLMError,
    ModelLoadError,
    StoreUnavailableError,
)
from articleqa.index import ArticleIndex, IngestReport
from articleqa.readers.article import Article
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
    "StoreUnavailableError",
]
