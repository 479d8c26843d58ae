"""articleqa: ask questions of a news archive; get answers quoted from the articles."""

from __future__ import annotations

from articleqa.answering import Answer, Citation
from articleqa.chunking import Chunk
from articleqa.coverage import Take
from articleqa.errors import (
    ArticleNotFoundError,
    ArticleQAError,
    ArticleReadError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexReadOnlyError,
    LLMError,
    ModelLoadError,
    StoreUnavailableError,
)
from articleqa.index import ArticleIndex, IngestReport
from articleqa.readers.article import Article
from articleqa.retrieval import Hit
from articleqa.timewindow import TimeWindow

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
    "IndexReadOnlyError",
    "IngestReport",
    "LLMError",
    "ModelLoadError",
    "StoreUnavailableError",
    "Take",
    "TimeWindow",
]
