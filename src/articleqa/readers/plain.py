"""Headline-first plain text (the BBC layout): line 1 the headline, then the body."""

from __future__ import annotations

from pathlib import Path

from articleqa.errors import ArticleReadError
from articleqa.readers.article import Article, join_paragraphs, make_article


def parse_plain(text: str, path: str | Path) -> Article:
    """Parse headline-first plain text: the first line is the headline, the rest the body.

    Every non-blank line after the headline is a paragraph (most BBC files separate paragraphs
    with a blank line, a few put list items on consecutive lines). Paragraphs lose trailing
    whitespace only and are joined with a blank line.

    Args:
        text: The file's text (``\\n`` newlines).
        path: The file it came from, recorded on the article.

    Returns:
        The article, with no source, country or date.

    Raises:
        ArticleReadError: If the text is empty or has a headline but no body.
    """
    where = str(path)
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise ArticleReadError(where, "the file is empty")
    headline = lines[start].strip()
    body = join_paragraphs(lines[start + 1 :])
    if not body:
        raise ArticleReadError(
            where, f"the file has a headline ({headline[:60]!r}) but no body text"
        )
    return make_article(headline, body, path=where)
