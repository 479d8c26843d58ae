"""The word lists: where one is said to be part of another, it is."""

from __future__ import annotations

from articleqa import vocab


def test_narrower_lists_are_parts_of_the_wider_ones() -> None:
    assert set(vocab.SPEAKER_ROLES) <= set(vocab.PERSON_ROLES)
    assert vocab.TITLE_ROLES <= set(vocab.PERSON_ROLES)
    assert set(vocab.REPLY_SPEECH_VERBS) <= set(vocab.SPEECH_VERBS)


def test_roles_are_longest_first_so_that_regexes_find_the_whole_role() -> None:
    lengths = [len(role) for role in vocab.PERSON_ROLES]
    assert lengths == sorted(lengths, reverse=True)
    assert vocab.PERSON_ROLES.index("prime minister") < vocab.PERSON_ROLES.index("minister")


def test_calendar_names_are_in_calendar_order() -> None:
    assert vocab.WEEKDAYS[0] == "monday" and len(vocab.WEEKDAYS) == 7
    assert vocab.MONTHS[10] == "november" and len(vocab.MONTHS) == 12
