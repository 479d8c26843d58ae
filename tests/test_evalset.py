"""Sanity checks for the labelled retrieval evaluation set (tests/data/evalset.jsonl).

Fast and model-free: it only reads the JSON Lines file and the shared news corpus and checks
that every label really points at text in the articles it names.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

EVALSET = Path(__file__).resolve().parent / "data" / "evalset.jsonl"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

REQUIRED_KEYS = {
    "id",
    "question",
    "relevant_articles",
    "relevant_text",
    "answers",
    "answerable",
    "style",
    "tags",
    "split",
}
OPTIONAL_KEYS = {"follow_up_of"}
STYLES = {"what_said", "fact", "why_how", "paraphrase", "follow_up", "unanswerable", "who_won",
          "role"}
BBC_TOPICS = ("business", "entertainment", "politics", "sport", "tech")

MIN_QUESTIONS = 120
MIN_ARTICLES = 100
MIN_UNANSWERABLE = 10

_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


@cache
def _article_text(rel_path: str) -> str:
    raw = (CORPUS / rel_path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    return _norm(text)


def _load() -> list[dict]:
    rows = []
    with EVALSET.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - reported as failure
                pytest.fail(f"line {lineno} is not valid JSON: {exc}")
    return rows


ROWS = _load()

needs_corpus = pytest.mark.skipif(
    not (CORPUS / "bbc").is_dir(), reason=f"news corpus not found at {CORPUS}"
)


def _topic(rel_path: str) -> str:
    parts = Path(rel_path).parts
    if parts[0] == "overview":
        return "overview"
    return parts[1] if parts[0] == "bbc" and len(parts) > 2 else "?"


def test_schema_and_ids():
    ids = [r.get("id") for r in ROWS]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for r in ROWS:
        missing = REQUIRED_KEYS - r.keys()
        assert not missing, f"{r.get('id')}: missing keys {missing}"
        extra = r.keys() - REQUIRED_KEYS - OPTIONAL_KEYS
        assert not extra, f"{r['id']}: unexpected keys {extra}"
        assert isinstance(r["id"], str) and r["id"], r
        assert isinstance(r["question"], str) and r["question"].strip(), r["id"]
        for key in ("relevant_articles", "relevant_text", "answers", "tags"):
            assert isinstance(r[key], list), f"{r['id']}: {key} must be a list"
            assert all(isinstance(x, str) and x.strip() for x in r[key]), f"{r['id']}: {key}"
        assert isinstance(r["answerable"], bool), r["id"]
        assert r["style"] in STYLES, f"{r['id']}: bad style {r['style']!r}"
        assert (r["style"] == "unanswerable") == (not r["answerable"]), r["id"]


@needs_corpus
def test_dev_and_test_share_no_article():
    """Constants are tuned on dev and reported on test: no article (nor a copy of it under
    another file name) may be in both."""
    splits: dict[str, set[str]] = {"dev": set(), "test": set()}
    for r in ROWS:
        assert r["split"] in splits, f"{r['id']}: split must be dev or test"
        splits[r["split"]].update(_article_text(a) for a in r["relevant_articles"])
    shared = splits["dev"] & splits["test"]
    assert not shared, f"{len(shared)} article(s) in both splits: {sorted(shared)[:1]}"
    by_id = {r["id"]: r for r in ROWS}
    for r in ROWS:
        if r.get("follow_up_of"):
            assert by_id[r["follow_up_of"]]["split"] == r["split"], r["id"]


def test_size_and_coverage():
    assert len(ROWS) >= MIN_QUESTIONS
    articles = {a for r in ROWS for a in r["relevant_articles"]}
    assert len(articles) >= MIN_ARTICLES
    topics = {_topic(a) for a in articles}
    for topic in BBC_TOPICS + ("overview",):
        assert topic in topics, f"no question about {topic}"
    assert sum(not r["answerable"] for r in ROWS) >= MIN_UNANSWERABLE


def test_answerable_rows_have_labels_and_unanswerable_have_none():
    for r in ROWS:
        if r["answerable"]:
            assert r["relevant_articles"], r["id"]
            assert r["relevant_text"], r["id"]
        else:
            assert r["relevant_articles"] == [], r["id"]
            assert r["relevant_text"] == [], r["id"]
            assert r["answers"] == [], r["id"]
            assert "follow_up_of" not in r, r["id"]


def test_follow_ups_point_backwards():
    seen: dict[str, dict] = {}
    for r in ROWS:
        parent_id = r.get("follow_up_of")
        if r["style"] == "follow_up":
            assert parent_id, f"{r['id']}: follow-up without follow_up_of"
        if parent_id is not None:
            assert parent_id in seen, (
                f"{r['id']}: follow_up_of {parent_id} is not an earlier question"
            )
            parent = seen[parent_id]
            assert set(r["relevant_articles"]) & set(parent["relevant_articles"]), (
                f"{r['id']}: follow-up about a different article than {parent_id}"
            )
        seen[r["id"]] = r


@needs_corpus
def test_relevant_articles_exist():
    for r in ROWS:
        for rel in r["relevant_articles"]:
            assert (CORPUS / rel).is_file(), f"{r['id']}: no such article {rel}"


@needs_corpus
@pytest.mark.parametrize("row", [r for r in ROWS if r["answerable"]], ids=lambda r: r["id"])
def test_labels_occur_in_relevant_articles(row):
    texts = [_article_text(rel) for rel in row["relevant_articles"]]
    for snippet in row["relevant_text"]:
        assert any(_norm(snippet) in t for t in texts), f"relevant_text not found: {snippet!r}"
    for answer in row["answers"]:
        assert any(_norm(answer) in t for t in texts), f"answer not found: {answer!r}"


MAX_SNIPPET_WORDS = 15
MAX_ANSWER_WORDS = 10


def test_labels_are_short():
    # relevant_text / answers are short labels, never whole sentences copied from an article
    for r in ROWS:
        for snippet in r["relevant_text"]:
            assert len(snippet.split()) <= MAX_SNIPPET_WORDS, (
                f"{r['id']}: snippet too long: {snippet!r}"
            )
        for answer in r["answers"]:
            assert len(answer.split()) <= MAX_ANSWER_WORDS, (
                f"{r['id']}: answer too long: {answer!r}"
            )
