"""Micro-batching (articleqa.batching): callers who encode at the same time share one call of
the encoder, each gets its own rows, and each gets its own error."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from articleqa.batching import BatchingEncoder
from articleqa.embedding import HashEncoder

EVALSET = Path(__file__).resolve().parent / "data" / "evalset.jsonl"
#: How long a test waits for threads that should long have finished (a hang fails the test).
PATIENCE = 60


class GatedEncoder(HashEncoder):
    """A HashEncoder whose calls wait at a gate while ``gate`` is closed, and that refuses
    the text ``"refused"``; it counts the texts of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.entered.set()
        assert self.gate.wait(PATIENCE)
        if "refused" in texts:
            self.calls.append(len(texts))
            raise ValueError("this encoder refuses the text 'refused'")
        return super().encode(texts)


def in_threads(batcher: BatchingEncoder, batches: list[list[str]]
               ) -> tuple[list[threading.Thread], dict[int, object]]:
    """Starts one thread per batch of texts; each stores its vectors or its error."""
    results: dict[int, object] = {}

    def encode(number: int, texts: list[str]) -> None:
        try:
            results[number] = batcher.encode(texts)
        except BaseException as error:  # noqa: BLE001 - checked by the test
            results[number] = error

    threads = [threading.Thread(target=encode, args=(n, texts)) for n, texts in
               enumerate(batches)]
    for thread in threads:
        thread.start()
    return threads, results


def wait_until(condition, what: str) -> None:
    done = threading.Event()
    for _ in range(PATIENCE * 100):
        if condition():
            return
        done.wait(0.01)
    pytest.fail(f"waited {PATIENCE} s for {what}")


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(PATIENCE)
        assert not thread.is_alive(), "a caller still waits"


def test_a_caller_alone_is_encoded_at_once_as_the_encoder_would() -> None:
    encoder = HashEncoder()
    batcher = BatchingEncoder(encoder)
    texts = ["the mayor spoke", "the bridge", "jobs"]
    vectors = batcher.encode(texts)
    assert np.array_equal(vectors, HashEncoder().encode(texts))
    assert encoder.calls == [3]
    assert batcher.encode([]).shape == (0, encoder.dimension)
    assert (batcher.name, batcher.backend, batcher.dimension, batcher.max_tokens) == (
        encoder.name, encoder.backend, encoder.dimension, encoder.max_tokens)
    assert batcher.count_tokens(["two words"]) == [2]


def test_callers_who_arrive_while_the_encoder_is_busy_share_one_call() -> None:
    encoder = GatedEncoder()
    batcher = BatchingEncoder(encoder)
    encoder.gate.clear()
    first, first_results = in_threads(batcher, [["first caller"]])
    assert encoder.entered.wait(PATIENCE)  # the first call holds the encoder
    batches = [[f"question {n}"] * (n + 1) + ["the same for all"] for n in range(5)]
    threads, results = in_threads(batcher, batches)
    wait_until(lambda: batcher.waiting == 5, "five waiting callers")
    encoder.gate.set()
    join(first + threads)
    assert encoder.calls == [1, 6]  # the five waiting callers: one call, each text once
    reference = HashEncoder()
    assert np.array_equal(first_results[0], reference.encode(["first caller"]))
    for number, texts in enumerate(batches):
        assert np.array_equal(results[number], reference.encode(texts))


def test_each_caller_gets_its_own_error_and_the_others_their_vectors() -> None:
    encoder = GatedEncoder()
    batcher = BatchingEncoder(encoder)
    encoder.gate.clear()
    first, _ = in_threads(batcher, [["first caller"]])
    assert encoder.entered.wait(PATIENCE)
    batches = [["a good one"], ["another", "refused"], ["a third", "good"]]
    threads, results = in_threads(batcher, batches)
    wait_until(lambda: batcher.waiting == 3, "three waiting callers")
    encoder.gate.set()
    join(first + threads)
    assert isinstance(results[1], ValueError) and "refuses" in str(results[1])
    reference = HashEncoder()
    assert np.array_equal(results[0], reference.encode(batches[0]))
    assert np.array_equal(results[2], reference.encode(batches[2]))
    # the combined call failed; then each caller alone
    assert encoder.calls == [1, 5, 1, 2, 2]
    assert np.array_equal(batcher.encode(["after"]), reference.encode(["after"]))


def test_a_combined_call_takes_at_most_max_texts() -> None:
    encoder = GatedEncoder()
    batcher = BatchingEncoder(encoder, max_texts=4)
    encoder.gate.clear()
    first, _ = in_threads(batcher, [["first"]])
    assert encoder.entered.wait(PATIENCE)
    threads, results = in_threads(batcher, [["one", "two", "three"]])
    wait_until(lambda: batcher.waiting == 1, "one waiting caller")
    more, more_results = in_threads(batcher, [["four", "five"], ["six"], ["a", "b", "c", "d",
                                                                          "e"]])
    wait_until(lambda: batcher.waiting == 4, "four waiting callers")
    encoder.gate.set()
    join(first + threads + more)
    assert encoder.calls == [1, 3, 3, 5]  # 3 | 2 + 1 | 5 (alone, above the bound)
    reference = HashEncoder()
    assert np.array_equal(more_results[2], reference.encode(["a", "b", "c", "d", "e"]))


class Interrupted(BaseException):
    """Stands for KeyboardInterrupt inside the encoder."""


def test_an_interrupt_in_a_combined_call_leaves_no_caller_waiting() -> None:
    class InterruptedOnce(GatedEncoder):
        def encode(self, texts: Sequence[str]) -> np.ndarray:
            if len(self.calls) == 1:  # the second call: the two waiting callers together
                self.calls.append(len(texts))
                raise Interrupted
            return super().encode(texts)

    encoder = InterruptedOnce()
    batcher = BatchingEncoder(encoder)
    encoder.gate.clear()
    first, _ = in_threads(batcher, [["first"]])
    assert encoder.entered.wait(PATIENCE)
    threads, results = in_threads(batcher, [["one waits"], ["two wait"]])
    wait_until(lambda: batcher.waiting == 2, "two waiting callers")
    encoder.gate.set()
    join(first + threads)
    # The caller whose thread ran the combined call gets the interrupt; the other is encoded
    # by the next call.
    interrupted = [n for n, result in results.items() if isinstance(result, Interrupted)]
    assert len(interrupted) == 1 and encoder.calls == [1, 2, 1]
    other = 1 - interrupted[0]
    assert np.array_equal(results[other], HashEncoder().encode([["one waits"], ["two wait"]][
        other]))
    assert np.array_equal(batcher.encode(["later"]), HashEncoder().encode(["later"]))


def test_many_threads_get_the_vectors_of_their_own_texts() -> None:
    encoder = HashEncoder()
    batcher = BatchingEncoder(encoder)
    batches = [[f"caller {n} text {i} {'word ' * (n % 7)}" for i in range(1 + n % 4)]
               for n in range(200)]
    results: dict[int, object] = {}
    for start in range(0, len(batches), 25):  # 25 threads at a time, 8 rounds
        round_threads, round_results = in_threads(batcher, batches[start : start + 25])
        join(round_threads)
        results.update({start + n: v for n, v in round_results.items()})
    reference = HashEncoder()
    for number, texts in enumerate(batches):
        assert np.array_equal(results[number], reference.encode(texts)), number
    assert sum(encoder.calls) <= sum(len(b) for b in batches)


@pytest.mark.slow
def test_with_the_real_model_batched_questions_get_their_unbatched_vectors() -> None:
    """The encoder pads each call's texts to the longest: a question encoded with others
    gets the vector it gets alone, within rounding (bfloat16 on CPUs with AMX)."""
    from articleqa.embedding import load_encoder

    questions = [json.loads(line)["question"] for line in
                 EVALSET.read_text(encoding="utf-8").splitlines() if line.strip()][:48]
    encoder = load_encoder()
    alone = np.vstack([encoder.encode([q]) for q in questions])
    batcher = BatchingEncoder(encoder)
    threads, results = in_threads(batcher, [[q] for q in questions])
    join(threads)
    together = np.vstack([results[n] for n in range(len(questions))])
    assert np.allclose(together, alone, atol=2e-3)
    assert (together * alone).sum(axis=1).min() > 0.9999
