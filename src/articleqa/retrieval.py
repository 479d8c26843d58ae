"""Search results and the pure retrieval maths over arrays."""

from __future__ import annotations

from dataclasses import dataclass

from articleqa.articles import Article


@dataclass(frozen=True)
class Hit:
    """One retrieved passage.

    Attributes:
        chunk_id: The passage's stable id.
        text: The passage, in the article's own words: ``article.body[start:end]``.
        score: Cosine similarity of question and passage (headline included), in [-1, 1];
            higher is better.
        start: Offset of the passage in ``article.body``.
        end: End offset (exclusive) of the passage in ``article.body``.
        article: The article the passage comes from.
    """

    chunk_id: str
    text: str
    score: float
    start: int
    end: int
    article: Article
