"""How the ONNX encoders cut texts into forward passes (no model needed)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from articleqa.embedding_onnx import SAME_LENGTH_SHARE, length_batches


@given(st.lists(st.integers(min_value=0, max_value=2_000), max_size=200),
       st.integers(min_value=1, max_value=64))
def test_every_text_once_longest_first_in_batches_of_similar_length(
        lengths: list[int], size: int) -> None:
    batches = list(length_batches(lengths, size))
    order = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    assert sorted(order.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in order] == sorted(lengths, reverse=True)
    for batch in batches:
        assert 1 <= len(batch) <= size
        assert min(lengths[i] for i in batch) >= SAME_LENGTH_SHARE * lengths[batch[0]]


def test_short_sentences_are_not_padded_to_a_long_ones_length() -> None:
    lengths = [400, 380, 120, 110, 100, 30]
    assert [b.tolist() for b in length_batches(lengths, 32)] == [[0, 1], [2, 3, 4], [5]]
    assert [b.tolist() for b in length_batches([50] * 5, 2)] == [[0, 1], [2, 3], [4]]
