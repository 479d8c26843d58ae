"""Follow-up questions resolved against the conversation (articleqa.followup): pure text, fast."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from articleqa import Answer, Article, Citation, Hit
from articleqa.answering import answer_to_json
from articleqa.followup import (
    FollowUp,
    conversation_quotes,
    earlier_answer_articles,
    history_questions,
    message_text,
    resolve_conversation,
    resolve_follow_up,
)
from articleqa.lexical import terms

EVALSET = Path(__file__).resolve().parent / "data" / "evalset.jsonl"

HAMMOUCHI = "What did Hammouchi say about cybercrime?"
TIME_WARNER = "How much profit did Time Warner make in 2004?"
CHANCELLOR = ("What did the chancellor say the London meeting of G7 finance ministers would be "
              "remembered as?")
#: A reply in the form articleqa's answers take (quotes in curly marks, [n] markers).
REPLY = ("According to Hespress (2025-11-24), Hammouchi said: “launching new global police "
         "capabilities ... to preserve security and stability.” [1] He also said: “Morocco is "
         "committed to international police cooperation.” [2]")
#: The extractive answer's Markdown form: one blockquote line per quoted sentence.
MARKDOWN_REPLY = ("According to Hespress (Morocco, 24 November 2025), Hammouchi said:\n\n"
                  "> Hammouchi praised the role of “women in police work” as an initiative. [1]\n"
                  ">\n"
                  "> The conference discussed cybercrime and hybrid warfare threats. [2]")
REFUSAL = ("The indexed articles do not answer this question. The closest passages, which may "
           "be related:\n- \"Police chiefs meet in Marrakech for general assembly\" (Hespress)")


def user(text: object) -> dict[str, object]:
    return {"role": "user", "content": text}


def bot(text: object) -> dict[str, object]:
    return {"role": "assistant", "content": text}


def asked(*questions: str) -> list[dict[str, object]]:
    """A history of user questions, each answered by a reply that names no one."""
    history: list[dict[str, object]] = []
    for question in questions:
        history += [user(question), bot("The indexed articles do not answer this question.")]
    return history


# -- questions that are not follow-ups --------------------------------------------------------


@pytest.mark.parametrize(("question", "history"), [
    (HAMMOUCHI, None),
    (HAMMOUCHI, []),
    ("What did he say about women in the police?", None),  # nothing to resolve against
    ("What did Laftit say?", asked(HAMMOUCHI)),  # names its own subject
    ("Is it true that Google bought Keyhole?", asked(HAMMOUCHI)),  # "it", but names its subject
    ("Does Musharaf think he made the world safer?", asked(HAMMOUCHI)),  # "he" is Musharaf
    ("What did Mark Morrison say about the injunction blocking his album?", asked(HAMMOUCHI)),
    ("Who heads the list of young musicians, thanks to an inheritance from his father?",
     asked(HAMMOUCHI)),  # "who" is the subject
    ("How little must someone earn to be let off paying tax on their wages?", asked(TIME_WARNER)),
    ("What did Madeley say about this year's book club selection?", asked(HAMMOUCHI)),
    ("How much did the first iPhone cost when it went on sale?", asked(HAMMOUCHI)),
    ("What did director Mark Rothemond say he felt about the film?", asked(HAMMOUCHI)),
    ("How did the prime minister respond on tax?", asked(CHANCELLOR)),  # a role of its own
    ("And how did Kevin Campbell feel about having to go to court?", asked(HAMMOUCHI)),
    ("Does he believe the world is more dangerous?", [bot("Hello! Ask me about the news.")]),
])
def test_questions_that_need_nothing_from_the_conversation_are_unchanged(
        question: str, history: list[dict[str, object]] | None) -> None:
    follow = resolve_follow_up(question, history)
    assert follow.question == question
    assert not follow.is_follow_up
    assert follow.subject is None and follow.context == ""


# -- pronouns and roles -----------------------------------------------------------------------


@pytest.mark.parametrize(("earlier", "question", "expected", "subject"), [
    ([HAMMOUCHI], "What did he say about women in the police?",
     "What did Hammouchi say about women in the police?", "Hammouchi"),
    ([HAMMOUCHI], "What else did she say?", "What else did Hammouchi say?", "Hammouchi"),
    ([HAMMOUCHI], "He said what about Interpol?", "Hammouchi said what about Interpol?",
     "Hammouchi"),
    ([HAMMOUCHI], "What did he say about his wife?",  # only the first is replaced
     "What did Hammouchi say about his wife?", "Hammouchi"),
    ([CHANCELLOR], "What did he say about the budget?",
     "What did the chancellor say about the budget?", "the chancellor"),
    ([CHANCELLOR], "Why did the US say it could not back his International Finance Facility?",
     "Why did the US say it could not back the chancellor's International Finance Facility?",
     "the chancellor"),
    ([TIME_WARNER], "How did the company respond?", "How did Time Warner respond?",
     "Time Warner"),
    ([TIME_WARNER], "What did the firm say about the merger?",
     "What did Time Warner say about the merger?", "Time Warner"),
    ([TIME_WARNER], "How did they respond?", "How did Time Warner respond?", "Time Warner"),
    ([TIME_WARNER], "What were its profits in 2003?", "What were Time Warner's profits in 2003?",
     "Time Warner"),
    ([TIME_WARNER], "Who is their chief executive?", "Who is Time Warner's chief executive?",
     "Time Warner"),
    (["Why did Athletics Kenya ban Susan Chepkemei?"], "How long did the group ban her for?",
     "How long did Athletics Kenya ban Susan Chepkemei for?", "Athletics Kenya"),
    (["Why did Athletics Kenya ban Susan Chepkemei?"], "What did she say about the ban?",
     "What did Susan Chepkemei say about the ban?", "Susan Chepkemei"),
    (["What did Karen Brady call Blackburn's bid for Robbie Savage?"],
     "How much did the club offer?", "How much did Blackburn offer?", "Blackburn"),
    (["What did the Fiat chief executive say about the company's future?"],
     "How much profit did the group make?", "How much profit did Fiat make?", "Fiat"),
    # a role followed by the name: the name is who is meant
    (["Where did the Portmere Rovers goalkeeper Tom Hale grow up?"], "How old was he?",
     "How old was Tom Hale?", "Tom Hale"),
    (["Where was actor Ossie Davis found dead?"], "How long had he been married to Ruby Dee?",
     "How long had Ossie Davis been married to Ruby Dee?", "Ossie Davis"),
    (["Which magazine named Tate & Lyle's boss European Businessman of the Year?"],
     "Where had he spent most of his career?",
     "Where had Tate & Lyle's boss spent most of his career?", "Tate & Lyle's boss"),
    (["What did President Musharaf say about women being kept at home?"],
     "Does he believe the world is more dangerous?",
     "Does President Musharaf believe the world is more dangerous?", "President Musharaf"),
    (["What is the new stamp duty threshold in Brown's Budget?"],
     "And what did he do to duty on beer?", "And what did Brown do to duty on beer?", "Brown"),
    (["What did 50 Cent say about The Game's record sales?"], "What did he say next?",
     "What did 50 Cent say next?", "50 Cent"),
    ([HAMMOUCHI, "How many members does Interpol have?"], "Did he mention Interpol?",
     "Did Hammouchi mention Interpol?", "Hammouchi"),  # the most recent *person*
    ([TIME_WARNER, HAMMOUCHI], "What did the firm say about his remarks?",
     "What did Time Warner say about Hammouchi's remarks?", "Time Warner"),
    (["When do the Harbour Games start?"], "Who won them last time?",  # "they" may be an event
     "Who won the Harbour Games last time?", "the Harbour Games"),
])
def test_pronouns_and_roles_become_the_subject_of_the_conversation(
        earlier: list[str], question: str, expected: str, subject: str) -> None:
    follow = resolve_follow_up(question, asked(*earlier))
    assert follow.question == expected
    assert follow.is_follow_up
    assert follow.subject == subject
    assert follow.context == earlier[-1]


def test_the_speaker_of_the_last_reply_stands_in_when_the_questions_name_no_one() -> None:
    history = [user("What was said about cybercrime at the Interpol meeting?"), bot(REPLY)]
    follow = resolve_follow_up("What else did he say?", history)
    assert follow.question == "What else did Hammouchi say?"
    assert follow.subject == "Hammouchi" and follow.wants_more
    told = [user("Who resigned from the law firm?"),
            bot("BBC News reported that David McLetchie told MSPs he would step down. [1]")]
    assert resolve_follow_up("Why did he resign?", told).question == (
        "Why did David McLetchie resign?")
    # a refusal names no speaker, and with no question before it there is nothing to resolve
    assert resolve_follow_up("What did he say?", [bot(REFUSAL)]).question == "What did he say?"


# -- elliptical questions ----------------------------------------------------------------------


@pytest.mark.parametrize(("earlier", "question", "expected"), [
    (HAMMOUCHI, "And about women in the police?",
     "What did Hammouchi say about women in the police?"),
    (HAMMOUCHI, "What about the economy?", "What did Hammouchi say about the economy?"),
    (HAMMOUCHI, "how about Interpol", "What did Hammouchi say about Interpol?"),
    ("What did Laftit say?", "What about the economy?", "What did Laftit say about the economy?"),
    (TIME_WARNER, "And last year?", "How much profit did Time Warner make last year?"),
    ("How much profit did Ask Jeeves make in the last quarter of 2004?", "And in 2003?",
     "How much profit did Ask Jeeves make in 2003?"),
    ("How much profit did Time Warner make?", "And last year?",
     "How much profit did Time Warner make last year?"),
    ("How much profit did Time Warner make?", "And Google?", "How much profit did Google make?"),
    ("When does Sony's PSP go on sale?", "And in Japan?",
     "When does Sony's PSP go on sale in Japan?"),
    ("When does Sony's PSP go on sale?", "In Europe?",
     "When does Sony's PSP go on sale in Europe?"),
    (TIME_WARNER, "What about the music division?",
     "How much profit did Time Warner make in 2004, and what about the music division?"),
    (HAMMOUCHI, "And what about his deputy?", "What did Hammouchi say about his deputy?"),
    (HAMMOUCHI, "Tell me more about women in the police",
     "What did Hammouchi say about women in the police?"),
])
def test_elliptical_questions_take_the_frame_of_the_previous_one(
        earlier: str, question: str, expected: str) -> None:
    follow = resolve_follow_up(question, asked(earlier))
    assert follow.question == expected
    assert follow.is_follow_up and follow.context == earlier


@pytest.mark.parametrize("question", ["What else?", "Anything else?", "Tell me more",
                                      "and more?", "Go on", "OK, what else?"])
def test_asking_for_more_repeats_the_previous_question(question: str) -> None:
    follow = resolve_follow_up(question, [user(HAMMOUCHI), bot(REPLY)])
    assert follow.question == HAMMOUCHI
    assert follow.is_follow_up and follow.wants_more
    assert follow.subject == "Hammouchi"
    assert follow.quoted == conversation_quotes([bot(REPLY)])


def test_a_named_subject_replaces_the_previous_one_but_a_clause_does_not_count() -> None:
    history = asked("How much profit did Time Warner make?")
    follow = resolve_follow_up("And Google?", history)
    assert follow.subject == "Google"
    assert resolve_follow_up("And Google bought Keyhole?", history).question == (
        "And Google bought Keyhole?")


# -- questions that point back at something unnamed -------------------------------------------


@pytest.mark.parametrize(("earlier", "question"), [
    ("How much does a Premiership footballer earn a week?", "What does that work out at per hour?"),
    ("How much profit did Ask Jeeves make in the last quarter of 2004?",
     "And how did that compare with Google's figure?"),
    ("How does the Skulls program affect a Nokia 7610?", "Who is thought to have written it?"),
    ("When does Sony's PSP go on sale in Japan?", "How much will it cost?"),
    (HAMMOUCHI, "Why?"),
    (HAMMOUCHI, "Is that true?"),
    ("What did Brown say about the budget?", "What did Blair say about that?"),
    # the question names its own person, so who "him" is cannot be told: give both
    ("What did Karen Brady call Blackburn's bid for Robbie Savage?",
     "What did the Birmingham manager say about selling him?"),
    # names written in lower case are not recognised: the context still carries them
    ("what did hammouchi say about cybercrime", "what did he say about women?"),
    # an organisation is wanted, but the previous question only mentions a person in passing
    ("What did Parry say about offers for Steven Gerrard?", "How did the club react?"),
    # two words at most, and no name: what they are about is the earlier question's
    ("Who won the Portmere half marathon?", "Who came second?"),
    ("How many seats does the Harbour Party hold?", "And how many are there in all?"),
    # an event is no "he", "she" or club: who they are is in the earlier answer, not its words
    ("Who will host the Portmere Music Awards?", "How old is he?"),
    ("Who opened the Portmere Arts Festival?", "Where does she live?"),
    ("Who won the Harbour Cup final?", "How much did the club earn from it?"),
])
def test_questions_pointing_back_get_the_previous_question_as_context(
        earlier: str, question: str) -> None:
    follow = resolve_follow_up(question, asked(earlier))
    assert follow.question == f"{question} ({earlier})"
    assert follow.is_follow_up and follow.context == earlier


def test_pronouns_are_replaced_before_the_context_is_added() -> None:
    follow = resolve_follow_up("What did he say about it?", asked(HAMMOUCHI))
    assert follow.question == f"What did Hammouchi say about it? ({HAMMOUCHI})"
    assert follow.subject == "Hammouchi"


# -- whole conversations ----------------------------------------------------------------------


def test_the_two_turn_hammouchi_conversation() -> None:
    history = [user(HAMMOUCHI), bot(REPLY)]
    follow = resolve_follow_up("What did he say about women in the police?", history)
    assert follow == FollowUp(
        question="What did Hammouchi say about women in the police?",
        is_follow_up=True,
        subject="Hammouchi",
        wants_more=False,
        quoted=("launching new global police capabilities",
                "to preserve security and stability",
                "Morocco is committed to international police cooperation"),
        context=HAMMOUCHI,
    )


def test_what_else_did_he_say_wants_more_and_knows_what_was_quoted() -> None:
    history = [user(HAMMOUCHI), bot(MARKDOWN_REPLY)]
    follow = resolve_follow_up("What else did he say?", history)
    assert follow.question == "What else did Hammouchi say?"
    assert follow.wants_more and follow.is_follow_up
    assert follow.quoted == (
        "Hammouchi praised the role of “women in police work” as an initiative",
        "The conference discussed cybercrime and hybrid warfare threats")


def test_a_three_turn_chain_resolves_each_against_the_resolved_one_before() -> None:
    history = [user(HAMMOUCHI), bot(REPLY),
               user("What did he say about women in the police?"), bot(MARKDOWN_REPLY),
               user("And about Interpol?"), bot("...")]
    follows = resolve_conversation(history)
    assert [f.question for f in follows] == [
        HAMMOUCHI,
        "What did Hammouchi say about women in the police?",
        "What did Hammouchi say about Interpol?",
    ]
    assert [f.context for f in follows] == ["", HAMMOUCHI, follows[1].question]
    last = resolve_follow_up("What else?", history)
    assert last.question == "What did Hammouchi say about Interpol?" and last.wants_more
    assert len(last.quoted) == 5


def test_a_chain_of_things_pointed_at_keeps_at_most_two_questions_of_context() -> None:
    history = asked("When does Sony's PSP go on sale in Japan?", "How much will it cost?")
    follow = resolve_follow_up("And in Europe?", history)
    assert follow.question == ("How much will it cost in Europe? "
                               "(When does Sony's PSP go on sale in Japan?)")
    assert follow.subject == "Sony"
    follow = resolve_follow_up("Was that more than expected?",
                               [*history, user("And in Europe?")])
    assert follow.question == ("Was that more than expected? (How much will it cost in Europe? "
                               "When does Sony's PSP go on sale in Japan?)")


def test_the_core_of_a_follow_up_of_a_follow_up_has_no_brackets() -> None:
    # The answer's sentences are scored against the core: the bracketed earlier questions
    # only steer the search (the quality issue: "And in Japan?" after two turns).
    history = asked("When does Sony's PSP go on sale in Japan?", "How much will it cost?")
    assert resolve_follow_up("How much will it cost?", history[:2]).core == (
        "How much will it cost?")
    follow = resolve_follow_up("And in Europe?", history)
    assert follow.core == "How much will it cost in Europe?"
    follow = resolve_follow_up("Was that more than expected?", [*history, user("And in Europe?")])
    assert follow.core == "Was that more than expected?"
    assert resolve_follow_up(HAMMOUCHI, None).core == HAMMOUCHI


def _brown_answer(answered: bool = True) -> Answer:
    article = Article("b1", "Brown defends his record", "Mr Brown said growth was strong. "
                      "He said borrowing would fall.")
    hit = Hit("c1", article.body, 0.8, 0, len(article.body), article)
    first, second = article.body.split(". ", 1)
    citations = (Citation(1, hit, first + ".", 0, len(first) + 1),
                 Citation(2, hit, second, len(first) + 2, len(article.body)))
    if not answered:
        return Answer(CHANCELLOR, "The indexed articles do not answer this question.", False)
    # The text names nobody as speaking: only the structure knows who was quoted.
    return Answer(CHANCELLOR, "From “Brown defends his record”, BBC News:\n\n> ...", True,
                  citations, (hit,), speaker="Gordon Brown")


def test_the_earlier_answer_gives_the_speaker_and_quotes_not_its_text() -> None:
    answer = _brown_answer()
    for message in ({"role": "assistant", "content": answer.text, "answer": answer},
                    {"role": "assistant", "content": "",
                     "metadata": {"answer": answer_to_json(answer)}}):
        follow = resolve_follow_up("What else did he say?", [user("How is the economy?"),
                                                            message])
        assert follow.question == "What else did Gordon Brown say?", message
        assert follow.wants_more
        assert follow.quoted == ("Mr Brown said growth was strong", "He said borrowing would fall")
        assert conversation_quotes([message]) == follow.quoted
    refused = {"role": "assistant", "content": "...", "answer": _brown_answer(answered=False)}
    follow = resolve_follow_up("What else did he say?", [user("How is the economy?"), refused])
    assert "Gordon Brown" not in follow.question and follow.quoted == ()


def test_the_company_after_a_time_warner_question() -> None:
    history = [user(TIME_WARNER), bot("According to BBC News (United Kingdom, 2 February 2005):"
                                      "\n\n> Time Warner's profits rose 76% to $1.13bn. [1]")]
    follow = resolve_follow_up("How did the company respond?", history)
    assert follow.question == "How did Time Warner respond?"
    assert follow.subject == "Time Warner" and not follow.wants_more


# -- wants_more -------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "wants_more"), [
    ("What else did he say?", True),
    ("Did he say anything else?", True),
    ("What did she also say?", True),
    ("Tell me more.", True),
    ("Any more quotes from him?", True),
    ("What other measures did he announce?", True),
    ("Does he believe the world is more dangerous?", False),
    ("Did profits rise more than expected?", False),
    ("What did he say about women?", False),
])
def test_wants_more(question: str, wants_more: bool) -> None:
    assert resolve_follow_up(question, asked(HAMMOUCHI)).wants_more is wants_more


# -- history shapes ---------------------------------------------------------------------------


@dataclass
class ChatMessage:  # the shape of gradio.ChatMessage
    role: str
    content: object


@pytest.mark.parametrize("history", [
    [user(HAMMOUCHI), bot(REPLY)],
    [user([{"type": "text", "text": "What did Hammouchi say"}, "about cybercrime?"])],
    [user({"text": HAMMOUCHI, "files": []})],
    [user(("/tmp/photo.png",)), user(HAMMOUCHI), {"role": "system", "content": "Be brief."},
     {"role": "tool", "content": "search"}, bot(""), bot(None), user("   ")],
    [ChatMessage("user", HAMMOUCHI), ChatMessage("assistant", REPLY)],
    [(HAMMOUCHI, REPLY)],  # Gradio's older pairs format
    [[HAMMOUCHI, None]],
    [None, user(HAMMOUCHI)],
    (m for m in [user(HAMMOUCHI)]),  # any iterable
    [user(HAMMOUCHI), user("What did he say about women in the police?")],  # question echoed
])
def test_history_shapes(history: object) -> None:
    follow = resolve_follow_up("What did he say about women in the police?", history)  # type: ignore[arg-type]
    assert follow.question == "What did Hammouchi say about women in the police?"


@pytest.mark.parametrize("history", [None, [], [bot("Hello!")], [user(""), bot("")],
                                     [{"role": "system", "content": HAMMOUCHI}]])
def test_histories_without_questions(history: list[dict[str, object]] | None) -> None:
    follow = resolve_follow_up("What did he say about women?", history)
    assert follow.question == "What did he say about women?" and not follow.is_follow_up


@pytest.mark.parametrize("history", ["What did Hammouchi say?", {"role": "user"}, [42]])
def test_history_that_is_not_a_list_of_messages_is_refused(history: object) -> None:
    with pytest.raises(TypeError, match="history"):
        resolve_follow_up("What did he say?", history)  # type: ignore[arg-type]


@pytest.mark.parametrize("question", ["", "   ", None, 3])
def test_empty_or_non_text_questions_are_refused(question: object) -> None:
    with pytest.raises(ValueError, match="question"):
        resolve_follow_up(question, None)  # type: ignore[arg-type]


def test_the_question_is_stripped_and_spaced() -> None:
    assert resolve_follow_up("  What did   Laftit say? ", None).question == "What did Laftit say?"


def test_message_text() -> None:
    assert message_text("Hi") == "Hi"
    assert message_text({"text": "Hi", "files": ["a.png"]}) == "Hi"
    assert message_text(["Hi", {"type": "text", "text": "there"}, {"path": "a.png"}]) == (
        "Hi\nthere")
    assert message_text(("a.png", "alt")) == "" and message_text(None) == ""
    assert message_text({"path": "a.png"}) == ""


def test_history_questions() -> None:
    history = [user(" What did  Hammouchi say? "), bot(REPLY), user(""),
               {"role": "system", "content": "x"}, user({"text": "And Laftit?"})]
    assert history_questions(history) == ["What did Hammouchi say?", "And Laftit?"]
    assert history_questions(None) == [] and history_questions([]) == []


def test_conversation_quotes() -> None:
    replies = [
        bot(REPLY),
        bot(MARKDOWN_REPLY),
        bot('He added: "we will never stop fighting organised crime" [3], and "no" [4].'),
        bot(REFUSAL),  # headlines of related passages are not quotes
        bot(REPLY),  # repeated quotes are given once
    ]
    assert conversation_quotes(replies) == (
        "launching new global police capabilities",
        "to preserve security and stability",
        "Morocco is committed to international police cooperation",
        "Hammouchi praised the role of “women in police work” as an initiative",
        "The conference discussed cybercrime and hybrid warfare threats",
        "we will never stop fighting organised crime",
    )
    assert conversation_quotes([user("“a question that quotes something”")]) == ()
    assert conversation_quotes(None) == ()


# -- the eval set's follow-ups ----------------------------------------------------------------


@cache
def eval_follow_ups() -> list[tuple[str, str, str, FollowUp]]:
    """(id, parent question as resolved, question, resolution) of each eval-set follow-up."""
    records = [json.loads(line) for line in EVALSET.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    by_id = {record["id"]: record for record in records}

    def resolved(record: dict[str, object]) -> str:
        parent = record.get("follow_up_of")
        question = str(record["question"])
        if not parent:
            return question
        return resolve_follow_up(question, [user(resolved(by_id[str(parent)]))]).question

    rows = []
    for record in records:
        if record.get("follow_up_of"):
            parent = resolved(by_id[record["follow_up_of"]])
            follow = resolve_follow_up(record["question"], [user(parent)])
            rows.append((record["id"], parent, record["question"], follow))
    return rows


def test_eval_follow_ups_resolved() -> None:
    """Prints each resolution for a reader to judge (``pytest -s``); asserts only invariants."""
    rows = eval_follow_ups()
    assert rows, "the eval set has no follow-ups"
    print(f"\n{len(rows)} eval-set follow-ups, resolved against the question before them:")
    for number, _, question, follow in rows:
        print(f"  {number}  {question}\n        -> {follow.question}")
    for _, _, question, follow in rows:
        # nothing the user asked is lost: every content word is still searched
        assert set(terms(question)) <= set(terms(follow.question)), follow


#: Eval follow-ups whose "he" / "she" clearly means a person the question before names.
CLEAR_PEOPLE = {"q002": "Hammouchi", "q054": "Ossie Davis", "q096": "David McLetchie",
                "q102": "Musharaf", "q119": "Brown", "q143": "Campese", "q153": "Parry"}


def test_eval_follow_ups_name_the_person_their_pronoun_means() -> None:
    rows = {number: follow for number, _, _, follow in eval_follow_ups()}
    for number, person in CLEAR_PEOPLE.items():
        follow = rows[number]
        assert follow.is_follow_up, number
        assert person in follow.question, (number, follow.question)
        assert not {"he", "she"} & set(follow.question.casefold().rstrip("?").split()), number


def test_earlier_answer_articles_are_read_from_the_answer_not_its_text() -> None:
    article = Article("a1", "Bridge to reopen", "The bridge opens in May.")
    hit = Hit("c1", article.body, 0.8, 0, len(article.body), article)
    answer = Answer("When?", "whatever the wording", True,
                    (Citation(1, hit, article.body, 0, len(article.body)),), (hit,))
    history = [{"role": "user", "content": "When?"},
               {"role": "assistant", "content": "any text", "answer": answer}]
    assert earlier_answer_articles(history) == ("a1",)
    as_json = [{"role": "assistant", "content": "x",
                "metadata": {"answer": answer_to_json(answer)}}]
    assert earlier_answer_articles(as_json) == ("a1",)
    # The last answer counts; a reply without one (text only) gives nothing.
    refused = Answer("Why?", "The indexed articles do not answer this question.", False)
    assert earlier_answer_articles([*history, {"role": "assistant", "content": "x",
                                               "answer": refused}]) == ()
    assert earlier_answer_articles([{"role": "assistant", "content": answer.text}]) == ()
    assert earlier_answer_articles(None) == ()
