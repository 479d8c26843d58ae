"""Fits the sentence picker's weights (articleqa.answering.SENTENCE_WEIGHTS) on the dev split.

For every answerable single-turn dev question it retrieves the passages as `ask` does, computes
the features of each candidate sentence with `answering.sentence_features`, and fits weights
so that the gold sentence (the one holding a `relevant_text` snippet) scores above the other
candidates (a softmax over each question's candidates, L2-regularised, plain gradient descent).
It prints 5-fold cross-validated figures, the fitted weights (paste them into answering.py),
and the refusal trade-off of the fitted scorer over answerable and unanswerable dev questions.
Never run it on the test split: that is what the weights are reported on.

    .venv/bin/python bench/tune_answers.py --index DIR [--evalset tests/data/evalset.jsonl]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from articleqa import ArticleIndex, evaluation
from articleqa.answering import (
    MAX_SENTENCES,
    MIN_SIMILARITY,
    SELECTION_MARGIN,
    SENTENCE_WEIGHTS,
    UNMET_WEIGHT,
    candidate_sentences,
    question_names,
    question_speaker,
    sentence_features,
    topic_terms,
    unmet_constraints,
)
from articleqa.asking import ANSWER_PASSAGES
from articleqa.lexical import passage_for_embedding
from articleqa.readers.article import normalise_text

NAMES = list(SENTENCE_WEIGHTS)


def collect(index: ArticleIndex, questions: list[evaluation.EvalQuestion]):
    """Per question: feature matrix, gold labels, whether the question is answerable, per
    candidate whether its article leaves a constraint of the question unmet (see
    `answering.unmet_constraints`), whether the question holds names, and whether no passage
    comes close to it (`answering.MIN_SIMILARITY`)."""
    rows = []
    hits_of = index.search([q.question for q in questions], ANSWER_PASSAGES)
    for number, (question, hits) in enumerate(zip(questions, hits_of), start=1):
        print(f"\r{number}/{len(questions)}", end="", file=sys.stderr)
        sentences = candidate_sentences(hits)
        if not sentences:
            rows.append((np.zeros((0, len(NAMES))), np.zeros(0), question.answerable,
                         np.zeros(0), False, True))
            continue
        vectors = index.encoder.encode([question.question, *(
            passage_for_embedding(hits[s.hit].article.title, s.text) for s in sentences)])
        similarities = vectors[1:] @ vectors[0]
        speaker = question_speaker(question.question)
        topic = topic_terms(question.question, speaker)
        rarity = index._store.rarity  # noqa: SLF001 - the same weights `ask` uses
        features = np.array([[sentence_features(question.question, s, hits, float(sim),
                                                speaker, topic, rarity)[n] for n in NAMES]
                             for s, sim in zip(sentences, similarities)])
        gold = [normalise_text(g) for g in question.relevant_text]
        labels = np.array([any(g in normalise_text(s.text) for g in gold) for s in sentences],
                          dtype=float)
        unmet = np.array([unmet_constraints(question.question, hits[s.hit].article)
                          for s in sentences], dtype=float)
        rows.append((features, labels, question.answerable, unmet,
                     bool(question_names(question.question)),
                     max(hit.score for hit in hits) < MIN_SIMILARITY))
    print(file=sys.stderr)
    return rows


def evidence_of(scores: np.ndarray, costs: np.ndarray, named: bool, far: bool,
                unmet_weight: float) -> float:
    """The evidence `ask` refuses below: with names in the question each sentence pays for
    its own article's unmet constraints, else all pay the best sentence's; less the unmet
    weight again when no passage comes close to the question."""
    if not len(scores):
        return -9.0
    best = (scores - costs).max() if named else scores.max() - costs[scores.argmax()]
    return float(best - unmet_weight * far)


def fit(rows, l2: float = 0.003, steps: int = 800, rate: float = 0.5) -> np.ndarray:
    weights = np.zeros(len(NAMES))
    usable = [(x, y) for x, y, answerable, *_ in rows if answerable and y.any()]
    for _ in range(steps):
        gradient = np.zeros_like(weights)
        for x, y in usable:
            scores = x @ weights
            p = np.exp(scores - scores.max())
            p /= p.sum()
            gradient += x.T @ (p - y / y.sum())
        weights -= rate * (gradient / len(usable) + l2 * weights)
    return weights


def picked_gold(rows, weights: np.ndarray, most: int = MAX_SENTENCES,
                margin: float = SELECTION_MARGIN) -> tuple[float, float]:
    """Share of answerable questions whose best sentence is gold, and whose chosen ones hold
    gold (those within ``margin`` of the best, at most ``most``, as `ask` chooses them)."""
    first = chosen = total = 0
    for x, y, answerable, *_ in rows:
        if not answerable:
            continue
        total += 1
        if not len(y):
            continue
        scores = x @ weights
        order = np.argsort(-scores)
        first += y[order[0]] > 0
        chosen += max(y[i] for i in order[:most] if scores[i] >= scores[order[0]] - margin) > 0
    return first / total, chosen / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--evalset", default="tests/data/evalset.jsonl")
    parser.add_argument("--unmet-weight", type=float, default=UNMET_WEIGHT)
    args = parser.parse_args()
    questions = [q for q in evaluation.select_split(evaluation.load_evalset(args.evalset), "dev")
                 if q.follow_up_of is None and (q.relevant_text or not q.answerable)]
    with ArticleIndex.open(args.index, create=False) as index:
        rows = collect(index, questions)
    current = np.array([SENTENCE_WEIGHTS[n] for n in NAMES])
    first, chosen = picked_gold(rows, current)
    print(f"current weights: best sentence gold {first:.3f}, chosen hold gold {chosen:.3f}")
    order = np.random.default_rng(0).permutation(len(rows))
    folds = [set(order[i::5].tolist()) for i in range(5)]
    cv = [picked_gold([r for i, r in enumerate(rows) if i in fold],
                      fit([r for i, r in enumerate(rows) if i not in fold])) for fold in folds]
    first, chosen = np.mean(cv, axis=0)
    print(f"5-fold cross-validated fit: best sentence gold {first:.3f}, chosen hold gold "
          f"{chosen:.3f}")
    weights = fit(rows)
    print("fitted on all dev questions:")
    for name, weight in zip(NAMES, weights):
        print(f'    "{name}": {weight:.2f},')
    print("refusal trade-off (evidence = the best score less unmet weight x whether its "
          "article leaves a year, number or name unmet; see answering._less_unmet):")
    evidence = np.array([evidence_of(x @ weights, args.unmet_weight * unmet, named, far,
                                     args.unmet_weight)
                         for x, _, _, unmet, named, far in rows])
    answerable = np.array([r[2] for r in rows])
    for share in (0.05, 0.08, 0.10):
        threshold = np.quantile(evidence[answerable], share)
        print(f"  threshold {threshold:.2f}: answerable refused "
              f"{np.mean(evidence[answerable] < threshold):.3f}, unanswerable refused "
              f"{np.mean(evidence[~answerable] < threshold):.3f}")


if __name__ == "__main__":
    main()
