"""Micro-batching: the texts of callers who ask at the same time, encoded in one call.

When many people chat at once, each question (and each answer's candidate sentences) would
otherwise be a small encode of its own, and small encodes side by side fight for the cores.
:class:`BatchingEncoder` puts an encoder behind a queue: a caller whose texts arrive while the
encoder is busy waits; when it frees, one waiting caller encodes everything that waits in one
call (each distinct text once) and hands every caller its own rows. Nothing waits for a
timer, so a caller alone is encoded at once.

If a combined call fails, each caller's texts are encoded again alone: every caller gets its
own vectors or its own error, never another caller's.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

import numpy as np

from articleqa.embedding import Encoder

#: At most this many texts in one combined call (a caller with more is encoded alone).
MAX_TEXTS = 512


class _Request:
    """One caller's texts, and in time their vectors or the error that stopped them."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


class BatchingEncoder:
    """An :class:`~articleqa.embedding.Encoder` that encodes concurrent callers' texts together
    (see the module docstring); it has the wrapped encoder's name, backend, dimension and
    token counts.

    Args:
        encoder: The encoder that computes the vectors.
        max_texts: At most this many texts in one combined call.
    """

    def __init__(self, encoder: Encoder, *, max_texts: int = MAX_TEXTS) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.backend = encoder.backend
        self.dimension = encoder.dimension
        self.max_tokens = encoder.max_tokens
        self.max_texts = max_texts
        self._changed = threading.Condition()
        self._waiting: deque[_Request] = deque()
        self._busy = False

    @property
    def waiting(self) -> int:
        """Callers waiting for the encoder now."""
        with self._changed:
            return len(self._waiting)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.encoder.count_tokens(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts``, as the wrapped encoder gives them (rows in order)."""
        if not texts:
            return self.encoder.encode([])
        request = _Request(list(texts))
        with self._changed:
            self._waiting.append(request)
            while self._busy and not request.done:
                self._changed.wait()
            leading = not request.done
            if leading:
                self._busy = True  # this caller encodes for all who wait
        if leading:
            try:
                while not request.done:
                    taken = self._take()
                    try:
                        self._encode_together(taken)
                    except BaseException:  # an interrupt: the others wait for the next caller
                        self._put_back([r for r in taken if r is not request and not r.done])
                        raise
                    finally:
                        with self._changed:
                            self._changed.notify_all()
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def _take(self) -> list[_Request]:
        """The oldest waiting requests, up to :attr:`max_texts` texts (at least one request)."""
        with self._changed:
            taken = [self._waiting.popleft()]
            count = len(taken[0].texts)
            while self._waiting and count + len(self._waiting[0].texts) <= self.max_texts:
                count += len(self._waiting[0].texts)
                taken.append(self._waiting.popleft())
            return taken

    def _put_back(self, requests: list[_Request]) -> None:
        with self._changed:
            self._waiting.extendleft(reversed(requests))

    def _encode_together(self, requests: list[_Request]) -> None:
        if len(requests) == 1:
            self._encode_alone(requests[0])
            return
        # A text several callers wait for (the same passage's sentences, the same question)
        # is encoded once.
        rows: dict[str, int] = {}
        for request in requests:
            for text in request.texts:
                rows.setdefault(text, len(rows))
        try:
            vectors = self._checked_encode(list(rows))
        except Exception:  # noqa: BLE001 - whose texts failed is told below
            for request in requests:
                self._encode_alone(request)
            return
        for request in requests:
            request.vectors = vectors[[rows[text] for text in request.texts]]
            request.done = True

    def _encode_alone(self, request: _Request) -> None:
        try:
            request.vectors = self._checked_encode(request.texts)
        except Exception as error:  # noqa: BLE001 - raised in the caller's own thread
            request.error = error
        request.done = True

    def _checked_encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.encoder.encode(texts)
        if len(vectors) != len(texts):
            raise ValueError(f"the encoder gave {len(vectors)} vectors for {len(texts)} texts")
        return vectors

