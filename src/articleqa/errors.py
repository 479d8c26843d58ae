"""The exceptions articleqa raises. Each message says what went wrong and what to do."""

from __future__ import annotations


class ArticleQAError(Exception):
    """Base class of every error articleqa raises on purpose."""


class ArticleReadError(ArticleQAError):
    """An article file could not be read or parsed.

    Attributes:
        path: The file (and, for JSON Lines, the record) that failed.
        reason: What was wrong with it, in words a user can act on.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexNotFoundError(ArticleQAError):
    """The index folder does not exist (or holds no index) where one is needed."""


class IndexMismatchError(ArticleQAError):
    """The index on disk was built with another model, dimension or format version."""


class IndexCorruptError(ArticleQAError):
    """An index file is missing, truncated or inconsistent with the others."""


class IndexReadOnlyError(ArticleQAError):
    """The index folder cannot be written (read-only media): searching works, writing does
    not."""


class StoreUnavailableError(ArticleQAError):
    """The database that holds the index cannot be reached, refuses the login, or lacks what
    the index needs (the pgvector extension, the psycopg package)."""


class ModelLoadError(ArticleQAError):
    """The embedding model could not be loaded (offline, so it must be on this machine)."""


class LLMError(ArticleQAError):
    """The language model could not write a reply: unreachable, too slow, an HTTP error, a
    reply that is not an OpenAI-style chat completion, or an empty reply. The message names the
    server and what to do; callers show the extractive answer instead."""


class ArticleNotFoundError(ArticleQAError, KeyError):
    """No stored article has the given id."""

    def __str__(self) -> str:
        return str(self.args[0])
