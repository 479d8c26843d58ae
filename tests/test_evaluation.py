"""Tests of articleqa.evaluation: eval-set loading, judging, metrics, reports, and `articleqa eval`.

The metric tests use hand-built articles and hits (no model) and hand-worked numbers; the CLI
tests build a small real index of the Overview page and ten BBC articles.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
from pathlib import Path

import pytest

from articleqa import evaluation
from articleqa.cli import main
from articleqa.evaluation import (
    EvalQuestion,
    Judgement,
    answer_rank,
    article_matches,
    compare,
    evaluate,
    format_table,
    hit_at,
    judge,
    load_evalset,
    misses,
    mrr_at,
    ndcg_at,
    plot_recall,
    question_metrics,
    recall_at,
    results_to_json,
)
from articleqa.readers import Article
from articleqa.retrieval import Hit
from tests.conftest import CORPUS, run_cli

EVALSET = Path(__file__).resolve().parent / "data" / "evalset.jsonl"
L2, L3, L4 = math.log2(2), math.log2(3), math.log2(4)


def article(article_id: str, path: str | None = None) -> Article:
    return Article(id=article_id, title=f"Title {article_id}", body="", path=path)


def hit(art: Article, text: str, score: float = 0.5) -> Hit:
    return Hit(f"{art.id}-{abs(hash(text)) % 10_000}", text, score, 0, len(text), art)


def write_lines(path: Path, *rows: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


# -- loading ---------------------------------------------------------------------------------


def test_load_reads_every_field_and_defaults(tmp_path: Path) -> None:
    file = write_lines(
        tmp_path / "e.jsonl",
        {"id": "a", "question": "Who?", "relevant_articles": ["bbc/tech/001.txt"],
         "relevant_text": ["x y"], "answers": ["y"], "answerable": True, "style": "fact",
         "tags": ["tech", "number"]},
        "",
        {"id": "b", "question": "And then?", "follow_up_of": "a"},
        {"id": "c", "question": "Unknowable?", "answerable": False},
    )
    a, b, c = load_evalset(file)
    assert a == EvalQuestion("a", "Who?", ("bbc/tech/001.txt",), ("x y",), ("y",), True, "fact",
                             ("tech", "number"), None)
    assert b == EvalQuestion("b", "And then?", follow_up_of="a")
    assert c.answerable is False and c.relevant_articles == () and c.style is None


def test_load_the_project_eval_set() -> None:
    questions = load_evalset(EVALSET)
    assert len(questions) == len([ln for ln in EVALSET.read_text().splitlines() if ln.strip()])
    assert {q.style for q in questions} >= {"fact", "follow_up", "unanswerable"}
    assert all(q.follow_up_of for q in questions if q.style == "follow_up")


GOOD = {"id": "a", "question": "Q?"}


@pytest.mark.parametrize(
    ("rows", "line", "words"),
    [
        (['{"id": "a", "question": "Q?"', ], 1, ["not valid JSON"]),
        ([GOOD, "[1, 2]"], 2, ["JSON object"]),
        ([{"question": "Q?"}], 1, ["'id'"]),
        ([{"id": "a"}], 1, ["'question'"]),
        ([{"id": "a", "question": "  "}], 1, ["'question'"]),
        ([{"id": 7, "question": "Q?"}], 1, ["'id'"]),
        ([GOOD, {"id": "b", "question": "Q?"}, GOOD], 3, ["duplicate id 'a'", "line 1"]),
        ([GOOD, {"id": "b", "question": "Q?", "follow_up_of": "zz"}], 2, ["'zz'", "not the id"]),
        ([{"id": "b", "question": "Q?", "follow_up_of": "a"}, GOOD], 1, ["'a'", "line 2"]),
        ([{"id": "a", "question": "Q?", "follow_up_of": "a"}], 1, ["'a'", "after"]),
        ([{"id": "a", "question": "Q?", "relevant_article": ["x"]}], 1, ["relevant_article"]),
        ([{"id": "a", "question": "Q?", "answers": "Paris"}], 1, ["'answers'", "list"]),
        ([{"id": "a", "question": "Q?", "tags": ["", "x"]}], 1, ["'tags'"]),
        ([{"id": "a", "question": "Q?", "answerable": "no"}], 1, ["'answerable'"]),
        ([{"id": "a", "question": "Q?", "answerable": False, "answers": ["x"]}], 1,
         ["unanswerable"]),
    ],
)
def test_load_errors_name_file_and_line(tmp_path: Path, rows: list, line: int,
                                        words: list[str]) -> None:
    file = write_lines(tmp_path / "bad.jsonl", *rows)
    with pytest.raises(ValueError) as caught:
        load_evalset(file)
    message = str(caught.value)
    assert f"{file}:{line}:" in message
    for word in words:
        assert word in message


def test_load_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="no questions"):
        load_evalset(tmp_path / "empty.jsonl")
    with pytest.raises(ValueError, match="cannot read the eval set .*missing.jsonl"):
        load_evalset(tmp_path / "missing.jsonl")


# -- judging ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "paths", "expected"),
    [
        ("bbc/tech/001.txt", ["/x/corpus/bbc/tech/001.txt"], True),
        ("bbc/tech/001.txt", ["/x/corpus/bbc/tech/1001.txt"], False),
        ("001.txt", ["/x/corpus/bbc/tech/001.txt"], True),
        ("tech/001.txt", ["/x/corpus/bbc/tech/001.txt.bak"], False),
        ("./bbc/tech/001.txt", ["C:\\corpus\\bbc\\tech\\001.txt"], True),
        ("/x/corpus/bbc/tech/001.txt", ["/x/corpus/bbc/tech/001.txt"], True),
        ("bbc/tech/001.txt", ["/a/other.txt", "/b/bbc/tech/001.txt"], True),
        ("feed.jsonl#3", ["/data/feed.jsonl#3"], True),
        ("feed.jsonl#3", ["/data/feed.jsonl#13"], False),
        ("abc123", [], True),  # the article id
        ("abc12", [], False),
    ],
)
def test_article_matches(entry: str, paths: list[str], expected: bool) -> None:
    assert article_matches(entry, article("abc123"), paths) is expected


def test_judge_snippets_in_relevant_articles_only() -> None:
    good, other = article("g", "/c/bbc/tech/001.txt"), article("o", "/c/bbc/tech/002.txt")
    question = EvalQuestion("q", "?", relevant_articles=("bbc/tech/001.txt",),
                            relevant_text=("red  fox", "lazy\ndog", "red fox"))
    hits = [
        hit(other, "the red fox and the lazy dog"),   # right words, wrong article
        hit(good, "nothing here"),
        hit(good, "a lazy   dog sleeps"),              # whitespace differs from the label
        hit(good, "the red\nfox and the lazy dog"),
    ]
    judgement = judge(question, hits)
    # "red  fox" and "red fox" are one snippet once whitespace is normalised.
    assert judgement == Judgement(2, (frozenset(), frozenset(), frozenset({1}),
                                      frozenset({0, 1})))
    assert judgement.ranks == (4, 3)


def test_judge_snippets_without_relevant_articles_accept_any_article() -> None:
    question = EvalQuestion("q", "?", relevant_text=("fox",))
    assert judge(question, [hit(article("a"), "a fox")]).ranks == (1,)


def test_judge_articles_are_items_and_duplicates_merge() -> None:
    # One stored article read from two files; the eval set names both files.
    twin = article("t", "/c/bbc/tech/052.txt")
    other = article("o", "/c/bbc/tech/010.txt")
    paths = {"t": ["/c/bbc/tech/052.txt", "/c/bbc/tech/348.txt"], "o": ["/c/bbc/tech/010.txt"],
             "x": ["/c/bbc/tech/999.txt"]}
    question = EvalQuestion("q", "?", relevant_articles=(
        "bbc/tech/052.txt", "bbc/tech/348.txt", "bbc/tech/010.txt", "bbc/tech/010.txt"))
    hits = [hit(article("x", "/c/bbc/tech/999.txt"), "x"), hit(twin, "a"), hit(twin, "b")]
    judgement = judge(question, hits, lambda a: paths[a.id])
    assert judgement.items == 2  # {052, 348} one item, 010 (named twice) one item
    assert judgement.ranks == (2, None)
    # Without the second path the evaluator cannot know 348.txt is the same article.
    assert judge(question, hits).items == 3
    hits.append(hit(other, "c"))
    assert judge(question, hits, lambda a: paths[a.id]).ranks == (2, 4)


def test_judge_no_hits() -> None:
    question = EvalQuestion("q", "?", relevant_articles=("a.txt",), relevant_text=("x", "y"))
    assert judge(question, []) == Judgement(2, ())
    assert Judgement(2, ()).ranks == (None, None)


def test_answer_rank() -> None:
    a = article("a")
    hits = [hit(a, "nothing"), hit(a, "it cost\n$17m  in all"), hit(a, "$17m")]
    assert answer_rank(hits, ["$204m", "$17m in"]) == 2
    assert answer_rank(hits, ["$204m"]) is None
    assert answer_rank([], ["x"]) is None


# -- metrics, worked by hand -----------------------------------------------------------------


def test_two_items_one_found_at_rank_two() -> None:
    ranks = (2, None)
    assert [recall_at(ranks, k) for k in (1, 2, 3)] == [0.0, 0.5, 0.5]
    assert [hit_at(ranks, k) for k in (1, 2)] == [0.0, 1.0]
    assert [mrr_at(ranks, k) for k in (1, 2, 20)] == [0.0, 0.5, 0.5]
    assert ndcg_at(ranks, 1) == 0.0
    # DCG = 1/log2(3); ideal: two items at ranks 1 and 2 = 1/log2(2) + 1/log2(3).
    assert ndcg_at(ranks, 3) == pytest.approx((1 / L3) / (1 / L2 + 1 / L3))  # 0.3869
    assert ndcg_at(ranks, 3) == pytest.approx(0.386853, abs=1e-6)


def test_items_at_ranks_one_and_three() -> None:
    ranks = (3, 1)
    assert recall_at(ranks, 2) == 0.5 and recall_at(ranks, 3) == 1.0
    assert mrr_at(ranks, 10) == 1.0
    assert ndcg_at(ranks, 1) == 1.0  # ideal at k=1 holds one item
    assert ndcg_at(ranks, 2) == pytest.approx(1 / (1 + 1 / L3))
    assert ndcg_at(ranks, 5) == pytest.approx((1 + 1 / L4) / (1 + 1 / L3))  # 0.9197


def test_two_items_in_one_passage_earn_one_gain() -> None:
    # Both snippets sit in the hit at rank 1: recall is perfect, nDCG is capped.
    assert recall_at((1, 1), 5) == 1.0
    assert ndcg_at((1, 1), 5) == pytest.approx(1 / (1 + 1 / L3))  # 0.613
    assert ndcg_at((1, 1), 1) == 1.0


def test_k_larger_than_hits_and_no_hits() -> None:
    assert [f((1,), 20) for f in (recall_at, hit_at, mrr_at, ndcg_at)] == [1.0] * 4
    assert [f((None, None), 20) for f in (recall_at, hit_at, mrr_at, ndcg_at)] == [0.0] * 4


def test_metrics_need_items() -> None:
    for metric in (recall_at, hit_at, mrr_at, ndcg_at):
        with pytest.raises(ValueError, match="no relevant items"):
            metric((), 5)


def _ndcg_by_walking_hits(found: list[frozenset[int]], items: int, k: int) -> float:
    seen: set[int] = set()
    dcg = 0.0
    for rank, hit_items in enumerate(found[:k], start=1):
        if hit_items - seen:
            dcg += 1 / math.log2(rank + 1)
        seen |= hit_items
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(k, items) + 1))
    return dcg / ideal


def test_metrics_against_a_walk_over_the_hits() -> None:
    rng = random.Random(17)
    for _ in range(300):
        items = rng.randint(1, 5)
        found = [frozenset(i for i in range(items) if rng.random() < 0.15)
                 for _ in range(rng.randint(0, 17))]
        judgement = Judgement(items, tuple(found))
        for k in (1, 2, 5, 17, 40):
            seen = set().union(*found[:k])
            first = next((r for r, f in enumerate(found[:k], 1) if f), None)
            assert recall_at(judgement.ranks, k) == pytest.approx(len(seen) / items)
            assert hit_at(judgement.ranks, k) == float(bool(seen))
            assert mrr_at(judgement.ranks, k) == (1 / first if first else 0.0)
            assert ndcg_at(judgement.ranks, k) == pytest.approx(
                _ndcg_by_walking_hits(found, items, k))


def test_question_metrics_keys() -> None:
    values = question_metrics((2, None), 3, True, (1, 5))
    assert values == {"recall@1": 0.0, "recall@5": 0.5, "mrr@1": 0.0, "mrr@5": 0.5,
                      "ndcg@1": 0.0, "ndcg@5": pytest.approx(0.386853, abs=1e-6),
                      "hit@1": 0.0, "hit@5": 1.0,
                      "answer_recall@1": 0.0, "answer_recall@5": 1.0}
    assert "answer_recall@5" not in question_metrics((1,), None, False, (5,))
    assert question_metrics((), 1, True, (5,)) == {"answer_recall@5": 1.0}


# -- evaluate --------------------------------------------------------------------------------

A = article("A", "/c/bbc/business/011.txt")
B = article("B", "/c/bbc/tech/130.txt")
Z = article("Z", "/c/bbc/sport/001.txt")

QUESTIONS = [
    EvalQuestion("q1", "profit?", ("bbc/business/011.txt",), ("$17m profit",), ("$17m",),
                 style="fact", tags=("business", "number")),
    EvalQuestion("q2", "compared?", ("bbc/business/011.txt",), ("$204m",), ("$204m",),
                 style="follow_up", tags=("business",), follow_up_of="q1"),
    EvalQuestion("q3", "consoles?", ("bbc/tech/130.txt",), ("50,000 sold", "first week"), (),
                 style="fact", tags=("tech", "number")),
    EvalQuestion("q4", "said?", ("bbc/tech/130.txt",), ("very encouraging",), ("nowhere",),
                 style="what_said", tags=("tech",)),
    EvalQuestion("n1", "unknowable?", answerable=False, style="unanswerable"),
    EvalQuestion("n2", "also unknowable?", answerable=False, style="unanswerable"),
    EvalQuestion("u1", "unlabelled?", answers=("$17m",), style="fact"),
]

RESULTS = {
    "profit?": [hit(A, "Its $17m profit", 0.9), hit(Z, "sport", 0.4)],
    "compared?": [hit(Z, "sport", 0.3), hit(A, "the $204m of Google", 0.2)],
    # rank 1 finds one item, ranks 2-3 nothing new; "first week" is never found.
    "consoles?": [hit(B, "50,000 sold", 0.8), hit(B, "50,000 sold again", 0.7),
                  hit(Z, "first week", 0.6)],
    "said?": [],
    "unknowable?": [hit(Z, "x", 0.2)],
    "also unknowable?": [hit(Z, "x", 0.4), hit(Z, "y", 0.1)],
    "unlabelled?": [hit(Z, "x", 0.1), hit(A, "$17m", 0.1)],
}


class FakeSearch:
    def __init__(self, results: dict[str, list[Hit]], extra: int = 0) -> None:
        self.results, self.extra, self.calls = results, extra, []

    def __call__(self, questions: list[str], k: int) -> list[list[Hit]]:
        self.calls.append((list(questions), k))
        return [self.results[q][:k] + [hit(Z, "padding")] * self.extra for q in questions]


def test_evaluate_searches_once_and_scores_each_question() -> None:
    search = FakeSearch(RESULTS)
    result = evaluate(QUESTIONS, search, ks=(5, 1, 3))
    assert search.calls == [([q.question for q in QUESTIONS], 5)]
    assert result.ks == (1, 3, 5)
    rows = {row.id: row for row in result.rows}
    assert [row.id for row in result.rows] == [q.id for q in QUESTIONS]
    assert rows["q1"].item_ranks == (1,) and rows["q1"].answer_rank == 1
    assert rows["q2"].first_relevant_rank == 2 and rows["q2"].follow_up_of == "q1"
    assert rows["q3"].item_ranks == (1, None) and rows["q3"].metrics["recall@5"] == 0.5
    assert rows["q3"].metrics["ndcg@3"] == pytest.approx(1 / (1 + 1 / L3))
    assert rows["q4"].hits == 0 and rows["q4"].top_score is None
    assert rows["q4"].metrics["recall@5"] == 0.0 and rows["q4"].answer_rank is None
    assert rows["n1"].metrics == {} and rows["n1"].items == 0 and rows["n1"].top_score == 0.2
    assert not rows["u1"].judged and rows["u1"].metrics == {"answer_recall@1": 0.0,
                                                            "answer_recall@3": 1.0,
                                                            "answer_recall@5": 1.0}


def test_evaluate_groups() -> None:
    result = evaluate(QUESTIONS, FakeSearch(RESULTS), ks=(1, 5))
    assert list(result.groups) == ["all", "follow-ups", "style:fact", "style:what_said",
                                   "tag:business", "tag:number", "tag:tech"]
    headline = result.headline
    # q1, q3, q4: answerable, labelled, not follow-ups
    assert (headline.questions, headline.with_answers) == (3, 2)
    assert headline.metrics["recall@5"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert headline.metrics["mrr@5"] == pytest.approx((1 + 1 + 0) / 3)
    assert headline.metrics["hit@1"] == pytest.approx(2 / 3)
    assert headline.metrics["answer_recall@5"] == pytest.approx((1 + 0) / 2)  # q1 and q4
    follow = result.groups["follow-ups"]
    assert follow.questions == 1 and follow.metrics["mrr@5"] == 0.5
    assert follow.metrics["recall@1"] == 0.0
    assert result.groups["style:fact"].questions == 2  # q1, q3 (not u1: unlabelled)
    assert result.groups["tag:number"].metrics["recall@5"] == pytest.approx(0.75)
    assert result.groups["tag:business"].questions == 1  # q1; q2 is a follow-up


def test_evaluate_top_scores_of_answerable_and_unanswerable() -> None:
    result = evaluate(QUESTIONS, FakeSearch(RESULTS))
    answerable, unanswerable = result.top_scores["answerable"], result.top_scores["unanswerable"]
    assert (answerable.count, answerable.max, answerable.min) == (2, 0.9, 0.8)  # q1, q3
    assert answerable.mean == pytest.approx(0.85) and answerable.median == pytest.approx(0.85)
    assert (unanswerable.count, unanswerable.max) == (2, 0.4)
    assert unanswerable.median == pytest.approx(0.3)


def test_evaluate_cuts_long_results_and_checks_input() -> None:
    result = evaluate(QUESTIONS, FakeSearch(RESULTS, extra=30), ks=(1, 3))
    assert max(row.hits for row in result.rows) == 3
    with pytest.raises(ValueError, match="2 result lists for 7 questions"):
        evaluate(QUESTIONS, lambda qs, k: [[], []])
    for ks in ((), (0, 5), (2.5,), (True,)):
        with pytest.raises(ValueError, match="cut-offs"):
            evaluate(QUESTIONS, FakeSearch(RESULTS), ks=ks)
    with pytest.raises(ValueError, match="no questions"):
        evaluate([], FakeSearch(RESULTS))


def test_evaluate_passes_paths_of_once_per_article() -> None:
    seen: list[str] = []

    def paths_of(art: Article) -> list[str]:
        seen.append(art.id)
        return ["/elsewhere/bbc/tech/130.txt"] if art.id == "A" else [art.path]

    result = evaluate(QUESTIONS, FakeSearch(RESULTS), paths_of=paths_of)
    assert sorted(seen) == ["A", "B", "Z"]
    # A now counts as bbc/tech/130.txt and no longer as bbc/business/011.txt.
    rows = {row.id: row for row in result.rows}
    assert rows["q1"].item_ranks == (None,)


def test_compare_and_misses() -> None:
    worse = {**RESULTS, "profit?": [hit(Z, "x", 0.5)] * 6 + [hit(A, "Its $17m profit", 0.1)]}
    results = compare(QUESTIONS, {"good": FakeSearch(RESULTS), "worse": FakeSearch(worse)})
    assert list(results) == ["good", "worse"]
    assert [row.id for row in misses(results["good"], 5)] == ["q3", "q4"]
    assert [row.id for row in misses(results["worse"], 5)] == ["q1", "q3", "q4"]
    assert [row.id for row in misses(results["worse"], 20)] == ["q3", "q4"]
    assert [row.id for row in misses(results["good"], 1)] == ["q2", "q3", "q4"]
    with pytest.raises(ValueError, match="cut-off from 1 to 20"):
        misses(results["good"], 21)
    with pytest.raises(ValueError, match="no searches"):
        compare(QUESTIONS, {})


# -- reports ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_modes() -> dict[str, evaluation.EvalResult]:
    worse = {**RESULTS, "profit?": [hit(Z, "x", 0.5)] * 6 + [hit(A, "Its $17m profit", 0.1)]}
    return compare(QUESTIONS, {"dense": FakeSearch(RESULTS), "bm25": FakeSearch(worse)})


def test_format_table(two_modes: dict[str, evaluation.EvalResult]) -> None:
    table = format_table(two_modes)
    lines = table.splitlines()
    assert lines[0] == "Answerable single-turn questions (n=3)"
    assert lines[1].split() == ["metric", "dense", "bm25"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:2 + 25]}
    assert list(rows) == [f"{m}@{k}" for m in evaluation.METRICS for k in (1, 3, 5, 10, 20)]
    assert rows["recall@5"] == ["0.500", "0.167"]
    assert rows["recall@10"] == ["0.500", "0.500"]
    assert rows["answer_recall@1"] == ["0.500", "0.000"]
    assert "(answer_recall over the 2 questions with answers)" in table
    style = lines.index(next(line for line in lines if line.startswith("style ")))
    assert lines[style - 1].split() == ["recall@5", "mrr@10"]
    assert lines[style].split() == ["style", "n", "dense", "bm25", "dense", "bm25"]
    assert lines[style + 1].split() == ["fact", "2", "0.750", "0.250", "1.000", "0.571"]
    assert lines[style + 3].split()[:2] == ["follow-ups", "1"]
    assert any(line.split()[:2] == ["number", "2"] for line in lines)
    assert any(line.split()[:3] == ["dense", "unanswerable", "2"] for line in lines)
    assert "1 answerable questions have no relevant_articles" in table


def test_format_table_rejects_mixed_cut_offs() -> None:
    results = {"a": evaluate(QUESTIONS, FakeSearch(RESULTS), ks=(1,)),
               "b": evaluate(QUESTIONS, FakeSearch(RESULTS), ks=(1, 2))}
    with pytest.raises(ValueError, match="different cut-offs"):
        format_table(results)
    # Cut-offs of the breakdowns fall back to the nearest evaluated one.
    lines = format_table({"a": results["a"]}).splitlines()
    style = next(i for i, line in enumerate(lines) if line.startswith("style "))
    assert lines[style - 1].split() == ["recall@1", "mrr@1"]


def test_results_to_json(two_modes: dict[str, evaluation.EvalResult]) -> None:
    data = json.loads(json.dumps(results_to_json(two_modes)))
    assert data["ks"] == [1, 3, 5, 10, 20]
    assert list(data["modes"]) == ["dense", "bm25"]
    dense = data["modes"]["dense"]
    assert dense["groups"]["all"]["questions"] == 3
    assert dense["groups"]["all"]["metrics"]["recall@5"] == pytest.approx(0.5)
    assert dense["top_scores"]["unanswerable"]["count"] == 2
    q3 = next(row for row in dense["questions"] if row["id"] == "q3")
    assert q3["item_ranks"] == [1, None] and q3["first_relevant_rank"] == 1
    assert q3["metrics"]["recall@20"] == 0.5 and q3["tags"] == ["tech", "number"]


def test_plot_recall_writes_a_png(two_modes: dict[str, evaluation.EvalResult],
                                  tmp_path: Path) -> None:
    path = plot_recall(two_modes, tmp_path / "recall.png")
    assert path == tmp_path / "recall.png"
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    with pytest.raises(ValueError, match="no-such-group"):
        plot_recall(two_modes, tmp_path / "x.png", group="no-such-group")


def test_plot_recall_says_what_to_install(two_modes: dict[str, evaluation.EvalResult],
                                          tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'articleqa\[plot\]'"):
        plot_recall(two_modes, tmp_path / "recall.png")


# -- the `articleqa eval` command, over a small real index (slow) ------------------------------

BBC_FILES = ["business/011.txt", "business/026.txt", "business/055.txt", "business/088.txt",
             "tech/130.txt", "tech/178.txt", "tech/001.txt", "tech/002.txt", "sport/001.txt",
             "politics/001.txt"]
CLI_QUESTIONS = [
    {"id": "q001", "question": "What did Hammouchi say about cybercrime?",
     "relevant_articles": ["overview/000_9f3ee334bca204eb.txt"],
     "relevant_text": ["the United Nations Convention against Cybercrime"],
     "answers": ["hybrid warfare"], "style": "what_said", "tags": ["overview"]},
    {"id": "q002", "question": "What did he say about women in the police?",
     "relevant_articles": ["overview/000_9f3ee334bca204eb.txt"],
     "relevant_text": ["the role of women in police work"], "answers": [],
     "style": "follow_up", "tags": ["overview"], "follow_up_of": "q001"},
    {"id": "q009", "question": "How much profit did Ask Jeeves make in the last quarter of 2004?",
     "relevant_articles": ["bbc/business/011.txt"],
     "relevant_text": ["Its $17m profit for the quarter"], "answers": ["$17m"],
     "style": "fact", "tags": ["business", "number"]},
    {"id": "q170", "question": "How many slimline PlayStation 2 consoles were sold in the UK "
                               "in the first week?",
     "relevant_articles": ["bbc/tech/178.txt", "bbc/tech/130.txt"],
     "relevant_text": ["with 50,000 sold in its first week on sale"], "answers": ["50,000"],
     "style": "fact", "tags": ["tech", "number"]},
    # Stored once, as bbc/tech/130.txt: only ArticleIndex.article_paths knows this name.
    {"id": "copy", "question": "How many slimline PlayStation 2 consoles were sold in the UK "
                               "in the first week?",
     "relevant_articles": ["copies/930.txt"],
     "relevant_text": ["with 50,000 sold in its first week on sale"], "answers": ["50,000"],
     "style": "fact", "tags": ["tech", "number"]},
    {"id": "q192", "question": "What was Facebook's revenue in 2005?", "answerable": False,
     "style": "unanswerable", "tags": ["business"]},
]


@pytest.fixture(scope="module")
def eval_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Overview page and ten BBC articles, one of them also under a second name."""
    root = tmp_path_factory.mktemp("eval")
    (root / "copies").mkdir()
    copy = shutil.copy(CORPUS / "bbc" / "tech" / "130.txt", root / "copies" / "930.txt")
    folder = root / "index"
    code = main(["ingest", "--index", str(folder), "--quiet", str(CORPUS / "overview"),
                 *(str(CORPUS / "bbc" / name) for name in BBC_FILES), str(copy)])
    assert code == 0
    return folder


@pytest.fixture
def evalset_file(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "evalset.jsonl", *CLI_QUESTIONS)


@pytest.mark.slow
def test_cli_eval_json(eval_index: Path, evalset_file: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "eval", evalset_file, "--index", eval_index,
                         "--modes", "dense", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["ks"] == [1, 3, 5, 10, 20] and list(data["modes"]) == ["dense"]
    dense = data["modes"]["dense"]
    assert dense["groups"]["all"]["questions"] == 4
    assert dense["groups"]["follow-ups"]["questions"] == 1
    assert dense["top_scores"]["unanswerable"]["count"] == 1
    rows = {row["id"]: row for row in dense["questions"]}
    assert set(rows) == {"q001", "q002", "q009", "q170", "copy", "q192"}
    # Eleven articles: each labelled passage is found among the hits.
    for qid in ("q001", "q009", "q170", "copy"):
        assert rows[qid]["item_ranks"][0] is not None, rows[qid]
    assert rows["copy"]["item_ranks"] == rows["q170"]["item_ranks"]
    assert dense["groups"]["all"]["metrics"]["recall@20"] == 1.0
    assert rows["q192"]["metrics"] == {} and rows["q192"]["top_score"] is not None


@pytest.mark.slow
def test_cli_eval_table_misses_and_plot(eval_index: Path, evalset_file: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    plot = tmp_path / "recall.png"
    code, out, err = run_cli(capsys, "eval", evalset_file, "--index", eval_index,
                         "--plot", plot, "--misses")  # the default modes
    assert code == 0
    assert err == f"wrote {plot}\n"
    assert plot.read_bytes().startswith(b"\x89PNG") and plot.stat().st_size > 1000
    lines = out.splitlines()
    assert lines[0] == "Answerable single-turn questions (n=4)"
    assert lines[1].split() == ["metric", "dense", "bm25", "hybrid"]
    assert len(next(line for line in lines if line.startswith("recall@5 ")).split()) == 4
    for mode in ("dense", "bm25", "hybrid"):
        assert any(line.startswith(f"Misses of {mode} at k=5:") for line in lines)


@pytest.mark.slow
def test_cli_eval_errors(eval_index: Path, evalset_file: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "eval", evalset_file, "--index", eval_index,
                         "--modes", "dense,nonsense")
    assert (code, out) == (1, "")
    assert err.startswith("articleqa: error: ") and "nonsense" in err and err.count("\n") == 1
    bad = write_lines(tmp_path / "bad.jsonl", {"id": "a"})
    code, out, err = run_cli(capsys, "eval", bad, "--index", eval_index)
    assert (code, out) == (1, "")
    assert err.startswith(f"articleqa: error: {bad}:1:") and err.count("\n") == 1
    code, out, err = run_cli(capsys, "eval", evalset_file, "--index", tmp_path / "no-index")
    assert (code, out) == (1, "") and err.startswith("articleqa: error: ")
    assert not (tmp_path / "no-index" / "manifest.json").exists()
    code, out, err = run_cli(capsys, "eval", evalset_file, "--index", eval_index, "--modes", " , ")
    assert (code, out) == (1, "") and "names no retrieval mode" in err


def test_cli_eval_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["eval", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "Example: articleqa eval " in out and "--modes" in out and "--plot" in out


def test_select_split_keeps_one_split_and_rejects_unknown_or_empty():
    questions = [evaluation.EvalQuestion("a", "q?", split="dev"),
                 evaluation.EvalQuestion("b", "q?", split="test"),
                 evaluation.EvalQuestion("c", "q?")]
    assert [q.id for q in evaluation.select_split(questions, "test")] == ["b"]
    assert [q.id for q in evaluation.select_split(questions, None)] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="not one of"):
        evaluation.select_split(questions, "train")
    with pytest.raises(ValueError, match="no question"):
        evaluation.select_split(questions[:1], "test")
