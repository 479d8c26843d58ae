"""Asking: a question (and the conversation before it) in, an :class:`Answer` out.

The steps, each owned by its own module: the question is made standalone from the
conversation (:mod:`articleqa.followup`), its passages are retrieved
(:mod:`articleqa.retrieval`), and either the language model writes the reply from them
(:mod:`articleqa.llm`, when one is configured) or the sentences that answer are quoted
(:mod:`articleqa.answering`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from articleqa.answering import MAX_SENTENCES, Answer, build_answer, candidate_sentences, reveal
from articleqa.coverage import coverage_answer, coverage_question, lead_hit, takes_with_hits
from articleqa.embedding import Encoder
from articleqa.errors import LLMError
from articleqa.filters import Filters
from articleqa.followup import earlier_answer_articles, resolve_follow_up
from articleqa.lexical import passage_for_embedding
from articleqa.llm import LLMConfig, llm_answer_stream
from articleqa.retrieval import MAX_QUESTION_CHARS, Hit, check_question, search
from articleqa.storage import Store
from articleqa.timewindow import TimeWindow, as_of_date, narrow, parse_time

#: Passages an answer is built from.
ANSWER_PASSAGES = 6
#: Of those, for a follow-up, the best passages of the articles the last answer quoted.
FOLLOW_UP_PASSAGES = 3
#: Other outlets' takes quoted for "How did different outlets cover X?".
COVERAGE_TAKES = 6


def _to_limit(text: str) -> str:
    """What to search for a resolved question: a follow-up brings its earlier questions along,
    which may take it past the limit of a typed question; cut there, at a word."""
    if len(text) <= MAX_QUESTION_CHARS:
        return text
    return text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]


def ask_stream(
    store: Store,
    encoder: Encoder,
    question: str,
    history: Sequence[Mapping[str, object]] | None = None,
    *,
    k: int = ANSWER_PASSAGES,
    filters: Filters | None = None,
    max_sentences: int = MAX_SENTENCES,
    llm: LLMConfig | None = None,
    llm_problem: str | None = None,
    as_of: object = None,
) -> Iterator[Answer]:
    """Answers a question from the passages of ``store``, as a stream of growing answers (the
    last is complete).

    Args:
        store: The index to answer from.
        encoder: The index's embedding model.
        question: The question.
        history: The conversation so far, as Gradio chat messages; resolves follow-ups.
        k: Passages to retrieve and answer from.
        filters: Restrict the passages to matching articles.
        max_sentences: At most this many quoted sentences (extractive answers).
        llm: The language model that writes the reply from the passages; None to quote them.
            When it fails, the quoted answer is given and ``answer.notice`` says why.
        llm_problem: Why no language model is configured although one was asked for (a
            malformed setting), for ``answer.notice``.
        as_of: The day the question is asked (a date or ISO string; today when None): its
            time words ("last week") are counted from it (``answer.window``).

    Raises:
        ValueError: If the question is empty, ``k`` is invalid or ``as_of`` is not a date.
    """
    question = check_question(question)
    today = as_of_date(as_of)
    follow = resolve_follow_up(question, history)
    window = parse_time(follow.question, today).window
    topic = coverage_question(follow.question)
    if topic is not None:
        found = search(store, encoder, [_to_limit(topic)], 1, filters=filters, as_of=today)[0]
        first = lead_hit(store, found[0].article.id, found[0].score) if found else None
        if first is not None:  # the story the question names, then the other outlets' takes
            takes = takes_with_hits(store, first.article.id, COVERAGE_TAKES)
            answer = coverage_answer(question, [first, *(hit for _, hit in takes)],
                                     resolved_question=follow.question)
            notice = _without_model(True, llm_problem) if llm is None else None
            timed = _window_fields(store, filters, window, found)
            yield from reveal(replace(answer, notice=notice, **timed))
            return
    searched = _to_limit(follow.question)
    hits = search(store, encoder, [searched], k, filters=filters, as_of=today)[0]
    earlier = earlier_answer_articles(history) if follow.is_follow_up else ()
    if filters is not None and filters.article_ids is not None:
        earlier = tuple(i for i in earlier if i in filters.article_ids)
    if earlier:  # a follow-up is most often answered where the last answer was found
        within = replace(filters or Filters(), article_ids=earlier)
        local = search(store, encoder, [searched], FOLLOW_UP_PASSAGES, filters=within,
                       as_of=today)[0]
        seen = {hit.chunk_id for hit in local}
        hits = [*local, *(hit for hit in hits if hit.chunk_id not in seen)][:k]
    timed = _window_fields(store, filters, window, hits)
    notice = None
    if llm is not None and hits:
        try:
            for partial in llm_answer_stream(llm, follow.question, hits):
                yield replace(partial, question=question, resolved_question=follow.question,
                              **timed)
            return
        except LLMError as error:
            notice = f"{str(error)[:1].upper()}{str(error)[1:]}."
    sentences = candidate_sentences(hits)
    # "How much will it cost? (When does the PSP go on sale?)": the earlier question in
    # brackets steers the search; the sentences are scored against the question itself.
    # The time words are left out too: they chose the window, not the sentences (unless no
    # article is dated in it: then they are words to find, as in the search).
    scored_as = follow.core if timed.get("widened") else parse_time(
        follow.core, today).text
    similarities: Sequence[float] = []
    if sentences:
        # The question is embedded again, with the sentences: a vector from another batch
        # differs in the last bits, and so could the answer.
        vectors = encoder.encode([scored_as, *(
            passage_for_embedding(hits[s.hit].article.title, s.text) for s in sentences)])
        similarities = (vectors[1:] @ vectors[0]).tolist()
    answer = build_answer(
        question, hits, sentences, similarities, resolved_question=scored_as,
        exclude=follow.quoted if follow.wants_more else (), wants_more=follow.wants_more,
        rarities=store.rarities, holding=store.holding, max_sentences=max_sentences,
    )
    if llm is None:
        notice = _without_model(answer.answered, llm_problem)
    yield from reveal(replace(answer, resolved_question=follow.question, notice=notice,
                              **timed))


def _window_fields(store: Store, filters: Filters | None, window: TimeWindow | None,
                   hits: Sequence[Hit]) -> dict[str, object]:
    """The answer's date window, with the undated articles it left out; or, when retrieval
    found no article dated in it and searched articles of any date, that it was widened (a
    hit from outside the window shows it)."""
    if window is None:
        return {}
    if any(not window.holds(hit.article.published) for hit in hits):
        return {"window": window, "widened": True}
    return {"window": window, "undated_skipped": store.undated_count(narrow(filters or Filters(),
                                                                             window))}


def _without_model(answered: bool, problem: str | None) -> str:
    """The notice of a reply made without a language model (none set, or ``problem``)."""
    if problem is not None:
        return f"{problem}; " + ("the reply is quoted from the articles." if answered else
                                 "no language model was asked.")
    if answered:
        return ("Quoted from the articles; set ARTICLEQA_LLM_URL to have a language model "
                "write the replies.")
    return "No language model was asked; set ARTICLEQA_LLM_URL to have one write the replies."
