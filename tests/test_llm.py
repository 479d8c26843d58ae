"""Generated answers, against a small OpenAI-style server on 127.0.0.1 started by the tests."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from articleqa import Article, Hit
from articleqa.errors import ArticleQAError, LLMError
from articleqa.llm import (
    LLMConfig,
    build_messages,
    check_citations,
    generate,
    generate_stream,
    llm_answer,
    llm_answer_stream,
    llm_config_from_env,
)
from tests.fake_llm import FakeLLM


def make_hits() -> list[Hit]:
    bodies = [
        ("Minister promises action on water",
         "Rabat. The minister said \"we will act\" on the drought. Reservoirs are at 23%."),
        ("Rains return to the north", "Heavy rains fell in Tangier on Monday, officials said."),
        ("Farmers count losses", "Wheat farmers expect the smallest harvest in a decade."),
    ]
    hits = []
    for i, (title, body) in enumerate(bodies):
        article = Article(id=f"a{i}", title=title, body=body, source="Hespress",
                          country="Morocco", published=dt.date(2024, 3, i + 1))
        start = 7 if i == 0 else 0
        hits.append(Hit(chunk_id=f"c{i}", text=body[start:], score=0.9 - i / 10, start=start,
                        end=len(body), article=article))
    return hits


QUESTION = "What did the minister say about the drought?"

# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


def test_config_from_env_is_none_when_url_unset() -> None:
    assert llm_config_from_env({}) is None
    assert llm_config_from_env({"ARTICLEQA_LLM_URL": "  ", "ARTICLEQA_LLM_MODEL": "x"}) is None


def test_config_from_env_reads_every_variable() -> None:
    config = llm_config_from_env({
        "ARTICLEQA_LLM_URL": "http://127.0.0.1:11434/v1", "ARTICLEQA_LLM_MODEL": "qwen2.5:3b",
        "ARTICLEQA_LLM_API_KEY": "sk-secret", "ARTICLEQA_LLM_TIMEOUT": "12.5"})
    assert config == LLMConfig(url="http://127.0.0.1:11434/v1", model="qwen2.5:3b",
                               timeout=12.5, api_key="sk-secret")
    assert "sk-secret" not in repr(config)


def test_config_from_env_defaults() -> None:
    config = llm_config_from_env({"ARTICLEQA_LLM_URL": "http://127.0.0.1:8080"})
    assert config == LLMConfig(url="http://127.0.0.1:8080", model="default", timeout=60.0)
    assert config.api_key is None


@pytest.mark.parametrize(("url", "endpoint"), [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:8080/v1/chat/completions", "http://127.0.0.1:8080/v1/chat/completions"),
    ("https://llm.example.org/openai", "https://llm.example.org/openai/v1/chat/completions"),
    ("https://llm.example.org/api/v2", "https://llm.example.org/api/v2/chat/completions"),
    ("http://[::1]:8000/v1?key=1", "http://[::1]:8000/v1/chat/completions?key=1"),
])
def test_url_forms(url: str, endpoint: str) -> None:
    assert llm_config_from_env({"ARTICLEQA_LLM_URL": url}).endpoint == endpoint


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:8080", "127.0.0.1:8080", "localhost:8080",
                                 "http://", "file:///tmp/model"])
def test_bad_url_names_the_variable(url: str) -> None:
    with pytest.raises(ValueError, match="ARTICLEQA_LLM_URL=.*http://127.0.0.1:8080/v1"):
        llm_config_from_env({"ARTICLEQA_LLM_URL": url})
    with pytest.raises(ValueError, match="url="):
        LLMConfig(url=url)


@pytest.mark.parametrize("timeout", ["soon", "0", "-1", "nan", "inf"])
def test_bad_timeout_names_the_variable(timeout: str) -> None:
    with pytest.raises(ValueError, match="ARTICLEQA_LLM_TIMEOUT"):
        llm_config_from_env({"ARTICLEQA_LLM_URL": "http://127.0.0.1:1",
                             "ARTICLEQA_LLM_TIMEOUT": timeout})


# --------------------------------------------------------------------------------------------
# The prompt
# --------------------------------------------------------------------------------------------


def test_build_messages_numbers_the_passages_and_asks_the_question() -> None:
    hits = make_hits()
    system, user = build_messages(QUESTION, hits)
    assert system["role"] == "system" and user["role"] == "user"
    for rule in ("only", "quote", "[1]", "2-5 sentences", "do not answer"):
        assert rule in system["content"]
    text = user["content"]
    assert text.endswith(f"Question: {QUESTION}")
    positions = [text.index(f"[{n}]\nHeadline: {hit.article.title}\n")
                 for n, hit in enumerate(hits, start=1)]
    assert positions == sorted(positions)
    assert ("[1]\nHeadline: Minister promises action on water\nOutlet: Hespress\n"
            "Country: Morocco\nDate: 2024-03-01\nText: The minister said") in text
    assert "Rabat." not in text  # the passage, not the whole article


def test_build_messages_skips_unknown_fields() -> None:
    article = Article(id="x", title="Bare", body="Only a body.")
    hit = Hit(chunk_id="c", text="Only a body.", score=0.5, start=0, end=12, article=article)
    user = build_messages("Why?", [hit])[1]["content"]
    assert "[1]\nHeadline: Bare\nText: Only a body.\n\nQuestion: Why?" in user


def test_build_messages_rejects_empty_input() -> None:
    with pytest.raises(ValueError, match="question is empty"):
        build_messages("  ", make_hits())
    with pytest.raises(ValueError, match="no passages"):
        build_messages(QUESTION, [])


# --------------------------------------------------------------------------------------------
# Citation markers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("He said it [1].", ("He said it [1].", (1,), ())),
    ("He said it [1, 2].", ("He said it [1][2].", (1, 2), ())),
    ("He said it [1][2].", ("He said it [1][2].", (1, 2), ())),
    ("He said it [ 3 ,1 ].", ("He said it [3][1].", (3, 1), ())),
    ("He said it [1, 1].", ("He said it [1].", (1,), ())),
    ("He said it [12].", ("He said it.", (), (12,))),
    ("He said it [0] twice.", ("He said it twice.", (), (0,))),
    ("A [2]. B [1]. C [2].", ("A [2]. B [1]. C [2].", (2, 1), ())),
    ("He said it [1, 7].", ("He said it [1].", (1,), (7,))),
    ("He said it [7][1].", ("He said it [1].", (1,), (7,))),
    ("He said it [7] [1].", ("He said it [1].", (1,), (7,))),
    ("He said it [1] [7].", ("He said it [1].", (1,), (7,))),
    ("[7] He said it.", ("He said it.", (), (7,))),
    ("A [4], b [5]; c [9]!", ("A, b; c!", (), (4, 5, 9))),
    ("One [4].\n[5] Two [6]\nThree", ("One.\nTwo\nThree", (), (4, 5, 6))),
    ("(as reported [9])", ("(as reported)", (), (9,))),
    ("\"we will act\" [5].", ("\"we will act\".", (), (5,))),
    ("In [2024] it rose [1].", ("In [2024] it rose [1].", (1,), ())),
    ("No markers here.", ("No markers here.", (), ())),
])
def test_check_citations(text: str, expected: tuple[str, tuple[int, ...], tuple[int, ...]]) -> None:
    assert check_citations(text, 3) == expected


_TOKENS = st.sampled_from(["word", "[1]", "[2, 3]", "[9]", "[0]", "[1, 9]", "[9][1]", ".", ","])


@given(st.lists(st.lists(_TOKENS, min_size=1, max_size=12), min_size=1, max_size=4))
def test_check_citations_leaves_no_stray_spaces(lines: list[list[str]]) -> None:
    def join(tokens: list[str]) -> str:
        text = ""
        for token in tokens:
            text += token if token in ".," or not text else " " + token
        return text

    text = "\n".join(join(tokens) for tokens in lines)
    cleaned, valid, removed = check_citations(text, 3)
    assert "  " not in cleaned
    assert not re.search(r" [.,]| \n|\n | \Z|\A ", cleaned), (text, cleaned)
    assert not re.search(r"\[(?:0|9)\]", cleaned)
    assert set(valid) <= {1, 2, 3} and set(removed) <= {0, 9}
    assert [int(n) for n in re.findall(r"\[(\d)\]", cleaned)] == [
        int(n) for n in re.findall(r"\d", text) if n in "123"]


# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


def test_llm_answer_sends_the_passages_and_cites_them(fake_llm: FakeLLM) -> None:
    hits = make_hits()
    answer = llm_answer(fake_llm.config(), QUESTION, hits)
    assert answer.text == "The minister said \"we will act\" [1]."
    assert answer.answered and answer.notice is None
    assert answer.generator == "llm:tiny-test-model"
    assert answer.question == QUESTION and answer.hits == tuple(hits)
    (citation,) = answer.citations
    assert citation.number == 1 and citation.hit == hits[0]
    assert (citation.quote, citation.start, citation.end) == (hits[0].text, 7, hits[0].end)
    assert hits[0].article.body[citation.start:citation.end] == citation.quote

    (request,) = fake_llm.requests
    assert request["model"] == "tiny-test-model" and request["stream"] is False
    prompt = json.dumps(request["messages"], ensure_ascii=False)
    assert QUESTION in request["messages"][-1]["content"]
    for hit in hits:
        assert json.dumps(hit.text)[1:-1] in prompt
    assert "Authorization" not in fake_llm.headers[0]


def test_api_key_is_sent_as_a_bearer_token(fake_llm: FakeLLM) -> None:
    generate(fake_llm.config(api_key="sk-test"), QUESTION, make_hits())
    assert fake_llm.headers[0]["Authorization"] == "Bearer sk-test"


def test_markers_are_renumbered_in_order_of_first_use(fake_llm: FakeLLM) -> None:
    hits = make_hits()
    fake_llm.content = "Rain fell [2]. Farmers worry [3][2]. The minister spoke [1, 3]."
    answer = llm_answer(fake_llm.config(), QUESTION, hits)
    assert answer.text == "Rain fell [1]. Farmers worry [2][1]. The minister spoke [3][2]."
    assert [c.number for c in answer.citations] == [1, 2, 3]
    assert [c.hit for c in answer.citations] == [hits[1], hits[2], hits[0]]
    assert answer.notice is None


def test_citations_to_missing_passages_are_removed_and_noted(fake_llm: FakeLLM) -> None:
    hits = make_hits()
    fake_llm.content = "Farmers worry [3] [7]. The minister spoke [1, 9]."
    answer = llm_answer(fake_llm.config(), QUESTION, hits)
    assert answer.text == "Farmers worry [1]. The minister spoke [2]."
    assert [c.hit for c in answer.citations] == [hits[2], hits[0]]
    assert answer.answered
    assert answer.notice == ("the model cited passages that do not exist ([7], [9]); those "
                             "markers were removed")


def test_a_reply_without_valid_citations_does_not_answer(fake_llm: FakeLLM) -> None:
    fake_llm.content = "The passages do not answer this question."
    answer = llm_answer(fake_llm.config(), "Who won the 1998 World Cup?", make_hits())
    assert not answer.answered
    assert answer.text == "The passages do not answer this question."
    assert answer.citations == () and answer.notice is None
    assert answer.hits == tuple(make_hits())


def test_a_reply_of_only_invalid_citations_is_an_error(fake_llm: FakeLLM) -> None:
    fake_llm.content = " [8] "
    with pytest.raises(LLMError, match="only with citations to passages that do not exist"):
        llm_answer(fake_llm.config(), QUESTION, make_hits())


# --------------------------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------------------------


def test_generate_stream_yields_the_reply_in_pieces(fake_llm: FakeLLM) -> None:
    pieces = list(generate_stream(fake_llm.config(), QUESTION, make_hits()))
    assert len(pieces) > 3 and "".join(pieces) == fake_llm.content
    assert fake_llm.requests[0]["stream"] is True
    assert generate(fake_llm.config(), QUESTION, make_hits()) == fake_llm.content


def test_stream_grows_and_ends_with_the_non_streamed_answer(fake_llm: FakeLLM) -> None:
    hits = make_hits()
    fake_llm.content = ("The minister said \"we will act\" [1, 3]. Rain fell in Tangier [2]. "
                        "Farmers expect a small harvest [3].")
    answers = list(llm_answer_stream(fake_llm.config(), QUESTION, hits))
    assert len(answers) > 5
    texts = [a.text for a in answers]
    assert all(len(a) < len(b) for a, b in zip(texts, texts[1:]))
    assert all(texts[-1].startswith(text) for text in texts)
    assert not any(re.search(r"\[[\d, ]*\Z", text) for text in texts)  # no half markers
    assert all(a.generator == "llm:tiny-test-model" and a.hits == tuple(hits) for a in answers)
    assert answers[-1] == llm_answer(fake_llm.config(), QUESTION, hits)
    assert answers[-1].text == ("The minister said \"we will act\" [1][2]. Rain fell in Tangier "
                                "[3]. Farmers expect a small harvest [2].")


def test_stream_notes_removed_citations(fake_llm: FakeLLM) -> None:
    fake_llm.content = "Rain fell [2] [14]. Farmers worry [3]."
    answers = list(llm_answer_stream(fake_llm.config(), QUESTION, make_hits()))
    assert answers[-1].text == "Rain fell [1]. Farmers worry [2]."
    assert answers[-1].notice == ("the model cited passages that do not exist ([14]); those "
                                  "markers were removed")
    assert answers[-1] == llm_answer(fake_llm.config(), QUESTION, make_hits())


def test_stream_arrives_while_the_model_is_still_writing(fake_llm: FakeLLM) -> None:
    fake_llm.mode = "gated"  # the server sends the rest only once the first piece is shown
    answers = llm_answer_stream(fake_llm.config(), QUESTION, make_hits())
    first = next(answers)
    fake_llm.release.set()
    rest = list(answers)
    assert first.text == "The" and rest[-1].text == fake_llm.content
    assert fake_llm.released_in_time is True


def test_a_server_that_ignores_stream_gives_one_piece(fake_llm: FakeLLM) -> None:
    fake_llm.mode = "json_when_streaming"
    assert list(generate_stream(fake_llm.config(), QUESTION, make_hits())) == [fake_llm.content]


# --------------------------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------------------------


def test_unreachable_server(closed_port: int) -> None:
    config = LLMConfig(url=f"http://127.0.0.1:{closed_port}/v1")
    for call in (llm_answer, lambda *a: list(llm_answer_stream(*a))):
        with pytest.raises(LLMError) as caught:
            call(config, QUESTION, make_hits())
        message = str(caught.value)
        assert f"http://127.0.0.1:{closed_port}/v1/chat/completions" in message
        assert "could not reach" in message and "refused" in message
        assert "extractive answer is used" in message
    assert issubclass(LLMError, ArticleQAError)


def test_slow_server_times_out(fake_llm: FakeLLM) -> None:
    fake_llm.mode = "slow"
    with pytest.raises(LLMError, match=r"sent nothing for 0.2 s.*ARTICLEQA_LLM_TIMEOUT"):
        llm_answer(fake_llm.config(timeout=0.2), QUESTION, make_hits())


def test_stream_that_stalls_times_out_after_the_first_piece(fake_llm: FakeLLM) -> None:
    fake_llm.mode = "stall"
    answers = llm_answer_stream(fake_llm.config(timeout=0.2), QUESTION, make_hits())
    assert next(answers).text == "The"
    with pytest.raises(LLMError, match="sent nothing for 0.2 s"):
        next(answers)


@pytest.mark.parametrize("stream", [False, True])
def test_http_error_status(fake_llm: FakeLLM, stream: bool) -> None:
    fake_llm.mode = "status500"
    call = (lambda *a: list(llm_answer_stream(*a))) if stream else llm_answer
    with pytest.raises(LLMError, match=r"replied HTTP 500 Internal Server Error: model crashed: "
                                       r"out of memory; the extractive answer is used"):
        call(fake_llm.config(), QUESTION, make_hits())


def test_wrong_path_and_missing_key_give_hints(fake_llm: FakeLLM) -> None:
    with pytest.raises(LLMError, match=r"HTTP 404.*no route /api/v1/chat/completions.*"
                                       r"ARTICLEQA_LLM_URL.*'tiny-test-model'"):
        generate(LLMConfig(url=fake_llm.url + "/api", model="tiny-test-model"), QUESTION,
                 make_hits())
    fake_llm.mode = "unauthorized"
    with pytest.raises(LLMError, match=r"HTTP 401.*invalid api key.*ARTICLEQA_LLM_API_KEY"):
        generate(fake_llm.config(), QUESTION, make_hits())


@pytest.mark.parametrize(("mode", "match"), [
    ("not_json", r"not an OpenAI-style chat completion \(not JSON: '.*'\)"),
    ("no_choices", r"not an OpenAI-style chat completion \(.*choices"),
    ("error_body", r"reported an error: context length exceeded"),
])
@pytest.mark.parametrize("stream", [False, True])
def test_malformed_replies(fake_llm: FakeLLM, mode: str, match: str, stream: bool) -> None:
    fake_llm.mode = mode
    call = (lambda *a: list(generate_stream(*a))) if stream else generate
    with pytest.raises(LLMError, match=match):
        call(fake_llm.config(), QUESTION, make_hits())


@pytest.mark.parametrize("content", ["", "  \n"])
@pytest.mark.parametrize("stream", [False, True])
def test_empty_reply(fake_llm: FakeLLM, content: str, stream: bool) -> None:
    fake_llm.content = content
    call = (lambda *a: list(llm_answer_stream(*a))) if stream else llm_answer
    with pytest.raises(LLMError, match="sent an empty reply"):
        call(fake_llm.config(), QUESTION, make_hits())
