"""The eval-set format: labelled questions in JSON Lines, checked line by line, and its splits.

An eval set is JSON Lines, one question a line::

    {"id": "q1", "question": "Where was the assembly held?",
     "relevant_articles": ["overview/000_9f3ee334bca204eb.txt"],
     "relevant_text": ["the Interpol General Assembly on Monday in Marrakech"],
     "answers": ["Marrakech"], "answerable": true, "style": "fact", "tags": ["place"],
     "split": "dev"}
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_KEYS = ("id", "question", "relevant_articles", "relevant_text", "answers", "answerable",
         "style", "tags", "follow_up_of", "split")
#: The parts of an eval set: constants are chosen on ``dev`` and reported on ``test``; no
#: article is in both.
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class EvalQuestion:
    """One labelled question of an eval set.

    Attributes:
        id: Unique within the eval set.
        question: The question as a user would ask it.
        relevant_articles: Article ids, or file paths matched by suffix
            (``"bbc/tech/001.txt"``), of the articles that answer it.
        relevant_text: Short snippets that a relevant passage contains.
        answers: Gold answer strings.
        answerable: False for questions the corpus cannot answer.
        style: The kind of question (``"fact"``, ``"what_said"``, ...), if labelled.
        tags: Free labels used to break the results down.
        follow_up_of: Id of the earlier question this one follows, if any.
        split: ``"dev"`` (constants are tuned on it) or ``"test"`` (reported only), if set.
    """

    id: str
    question: str
    relevant_articles: tuple[str, ...] = ()
    relevant_text: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    answerable: bool = True
    style: str | None = None
    tags: tuple[str, ...] = ()
    follow_up_of: str | None = None
    split: str | None = None


def select_split(questions: Iterable[EvalQuestion], split: str | None) -> list[EvalQuestion]:
    """The questions of one split (None: all of them).

    Raises:
        ValueError: If ``split`` is not one of :data:`SPLITS`, or no question belongs to it.
    """
    questions = list(questions)
    if split is None:
        return questions
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {SPLITS}")
    chosen = [q for q in questions if q.split == split]
    if not chosen:
        raise ValueError(f"no question of the eval set is in the {split!r} split; label "
                         f"questions with \"split\": \"{split}\"")
    return chosen


def load_evalset(path: str | os.PathLike[str]) -> list[EvalQuestion]:
    """Reads an eval set (JSON Lines, one question a line; blank lines are skipped).

    Args:
        path: The ``.jsonl`` file.

    Returns:
        The questions, in file order.

    Raises:
        ValueError: Naming the file and line, if the file cannot be read, a line is not a JSON
            object, a key is unknown or has the wrong type, ``id`` or ``question`` is missing,
            an id is used twice, ``follow_up_of`` names no earlier question, an unanswerable
            question carries relevance labels, or the file holds no question.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read the eval set {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start}); "
                         "save the eval set as UTF-8") from None
    questions: list[tuple[EvalQuestion, int]] = []
    line_of: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: not valid JSON ({error.msg} at column {error.colno}); "
                             "write one JSON object a line") from None
        question = _parse_question(record, where)
        if question.id in line_of:
            raise ValueError(f"{where}: duplicate id {question.id!r} "
                             f"(first used on line {line_of[question.id]}); ids must be unique")
        line_of[question.id] = number
        questions.append((question, number))
    if not questions:
        raise ValueError(f"{path} holds no questions; write one JSON object a line")
    for question, number in questions:
        parent = question.follow_up_of
        if parent is None:
            continue
        if parent not in line_of:
            raise ValueError(f"{path}:{number}: follow_up_of {parent!r} is not the id of any "
                             "question in the file")
        if line_of[parent] >= number:
            raise ValueError(f"{path}:{number}: follow_up_of {parent!r} is on line "
                             f"{line_of[parent]}; a follow-up must come after the question "
                             "it follows")
    return [question for question, _ in questions]


def _parse_question(record: object, where: str) -> EvalQuestion:
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - set(_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; the keys are {list(_KEYS)}")
    for key in ("id", "question"):
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: {key!r} is missing or not a non-empty string")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise ValueError(f"{where}: 'answerable' must be true or false, not {answerable!r}")
    question = EvalQuestion(
        id=record["id"],
        question=record["question"],
        relevant_articles=_strings(record, "relevant_articles", where),
        relevant_text=_strings(record, "relevant_text", where),
        answers=_strings(record, "answers", where),
        answerable=answerable,
        style=_optional_string(record, "style", where),
        tags=_strings(record, "tags", where),
        follow_up_of=_optional_string(record, "follow_up_of", where),
        split=_optional_string(record, "split", where),
    )
    if question.split is not None and question.split not in SPLITS:
        raise ValueError(f"{where}: 'split' must be one of {list(SPLITS)}, not {question.split!r}")
    if not answerable and (question.relevant_articles or question.relevant_text
                           or question.answers):
        raise ValueError(f"{where}: question {question.id!r} is marked unanswerable but has "
                         "relevant_articles, relevant_text or answers; remove one or the other")
    return question


def _strings(record: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = record.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
        raise ValueError(f"{where}: {key!r} must be a list of non-empty strings, "
                         f"not {value!r}")
    return tuple(value)


def _optional_string(record: Mapping[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{where}: {key!r} must be a non-empty string, not {value!r}")
    return value
