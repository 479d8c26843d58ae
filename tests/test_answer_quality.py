"""The answer-quality report: conversations, gold quotes, shares and the threshold trade-off."""

from __future__ import annotations

from articleqa import Answer, Article, Citation, Hit
from articleqa.evaluation import EvalQuestion
from articleqa.evaluation.answers import evaluate_answers, format_answer_report, quotes_gold

BODY = "The mayor said the bridge opens in May. Repairs cost four million."
ARTICLE = Article("a1", "Bridge to reopen", BODY)
HIT = Hit("c1", BODY, 0.8, 0, len(BODY), ARTICLE)


def _question(id_: str, text: str, *, gold: tuple[str, ...] = (), answerable: bool = True,
              follow_up_of: str | None = None) -> EvalQuestion:
    return EvalQuestion(id_, text, ("a1",) if answerable else (), gold, (), answerable, None,
                        (), follow_up_of)


def _answer(question: str, quote: str | None, evidence: float) -> Answer:
    if quote is None:
        return Answer(question, "The indexed articles do not answer this question.", False,
                      evidence=evidence)
    start = BODY.index(quote)
    citation = Citation(1, HIT, quote, start, start + len(quote))
    return Answer(question, f"> {quote} [1]", True, (citation,), (HIT,), question,
                  evidence=evidence)


def test_quotes_gold_needs_the_snippet_inside_a_quote() -> None:
    question = _question("q1", "When does it open?", gold=("opens in May",))
    assert quotes_gold(_answer("q", "The mayor said the bridge opens in May.", 0.7), question)
    assert not quotes_gold(_answer("q", "Repairs cost four million.", 0.7), question)


def test_follow_ups_are_asked_alone_and_with_their_conversation() -> None:
    questions = [
        _question("q1", "When does the bridge open?", gold=("opens in May",)),
        _question("q2", "How much did it cost?", gold=("four million",), follow_up_of="q1"),
        _question("q3", "Who built the moon base?", answerable=False),
    ]
    calls = []

    def ask(question, history):
        calls.append((question, history))
        if question.startswith("When"):
            return _answer(question, "The mayor said the bridge opens in May.", 3.0)
        if question.startswith("How") and history:
            return _answer(question, "Repairs cost four million.", 2.9)
        if question.startswith("How"):
            return _answer(question, None, 1.0)
        return _answer(question, None, 2.0)

    report = evaluate_answers(questions, ask)
    assert [q for q, _ in calls] == ["When does the bridge open?", "How much did it cost?",
                                     "How much did it cost?", "Who built the moon base?"]
    history = calls[2][1]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == "When does the bridge open?"
    assert "opens in May" in history[1]["content"]
    assert (report.gold, report.answered, report.refused) == (1.0, 1.0, 1.0)
    assert (report.follow_gold_alone, report.follow_gold_history) == (0.0, 1.0)
    assert report.follow_answered_history == 1.0
    assert report.trade_off[2.4] == (0.0, 0.0)   # 3.0 answers; 2.0 is refused
    assert report.trade_off[2.8] == (0.0, 0.0)
    assert report.trade_off[1.2] == (0.0, 1.0)   # the unanswerable 2.0 would be answered
    assert "refused 100.0%" in format_answer_report(report)


def test_progress_is_shown_on_stderr_when_asked(capsys) -> None:
    questions = [_question("q1", "When does the bridge open?", gold=("opens in May",))]
    evaluate_answers(questions, lambda q, h: _answer(q, None, 0.4), progress=True)
    assert "answers: 100%" in capsys.readouterr().err
    evaluate_answers(questions, lambda q, h: _answer(q, None, 0.4))  # not a terminal
    assert capsys.readouterr().err == ""


def test_a_refusal_for_a_missing_detail_holds_at_every_threshold() -> None:
    questions = [_question("q1", "How much did the bridge cost?", gold=("four million",)),
                 _question("q2", "How much did the moon base cost?", answerable=False)]

    def ask(question, history):  # both refused for the detail, whatever their evidence
        refusal = _answer(question, None, 6.0)
        return Answer(refusal.question, refusal.text, False, evidence=6.0,
                      lacking="an amount of money")

    report = evaluate_answers(questions, ask)
    assert report.refused == 1.0 and report.answered == 0.0
    assert all(report.trade_off[t] == (1.0, 0.0) for t in (1.2, 2.4, 4.4))
