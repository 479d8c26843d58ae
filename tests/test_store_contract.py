"""The store contract: the same behaviour from an index in a folder and in PostgreSQL.

Each test here runs on both stores (``index_location``: a folder, then a new database on the
session's PostgreSQL server, see conftest). The fake HashEncoder keeps them fast; the tests
with the real model, at the end, compare the two stores on the small corpus.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import threading
from pathlib import Path

import numpy as np
import pytest

import articleqa.index as index_module
from articleqa import ArticleIndex, ArticleNotFoundError, IndexMismatchError, IndexNotFoundError
from articleqa.embedding import HashEncoder
from articleqa.filters import Filters
from articleqa.retrieval import fuse_scores, limit_per_article
from tests.test_ingest import ORCHARD, QUESTIONS, TODAY, write_corpus


def open_index(location: Path | str, encoder: HashEncoder | None = None, **options
               ) -> ArticleIndex:
    return ArticleIndex.open(location, encoder=encoder or HashEncoder(), llm=None, **options)


def ingest(index: ArticleIndex, *paths: Path):
    return index.ingest(list(paths), today=TODAY, progress=False)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "articles")


@pytest.fixture
def index(index_location: Path | str, corpus_dir: Path):
    with open_index(index_location) as opened:
        report = ingest(opened, corpus_dir)
        assert not report.failed, report.failed
        yield opened


def all_hits(index: ArticleIndex, question: str):
    """Every passage, best first by cosine (k far above the passages stored)."""
    return index.search([question], k=1000, mode="dense", per_article=None)[0]


# -- ingest, re-ingest, remove ---------------------------------------------------------------


def test_ingest_stores_every_article_and_passage(index_location, corpus_dir: Path) -> None:
    encoder = HashEncoder()
    with open_index(index_location, encoder) as opened:
        report = ingest(opened, corpus_dir)
        assert len(report.added) == 6 and report.failed == [] and report.unchanged == []
        assert report.passages == sum(encoder.calls) > 0
        info = opened.info()
        assert info["articles"] == 6 and info["passages"] == report.passages
        assert info["sources"] == ["Alpine Wire", "Coastal Herald", "Northern Post"]
        assert info["published"] == ("2024-06-10", "2026-03-03")
        assert info["last_ingest"] and info["size_bytes"] > 0
        for question, hits in zip(QUESTIONS, opened.search(QUESTIONS, k=1)):
            hit = hits[0]
            assert hit.text == hit.article.body[hit.start : hit.end]
            assert any(word in hit.text.lower() for word in question.split()[:2])
        tram = opened.search_one("tram airport", k=1)[0].article
        assert (tram.source, tram.country, tram.published) == (
            "Coastal Herald", "Portugal", dt.date(2026, 3, 3))
        assert opened.search_one("tram airport") == opened.search(["tram airport"])[0]
        assert opened.article(tram.id) == tram
        assert opened.article_paths(tram.id) == [str((corpus_dir / "tram.txt").resolve())]


def test_reopening_and_reingesting_embeds_nothing(index_location, corpus_dir: Path) -> None:
    encoder = HashEncoder()
    with open_index(index_location, encoder) as opened:
        first = ingest(opened, corpus_dir)
        before = opened.search(QUESTIONS, k=3)
    calls = list(encoder.calls)
    with open_index(index_location, encoder, create=False) as reopened:
        again = ingest(reopened, corpus_dir)
        assert encoder.calls == calls
        assert again.added == [] and again.removed == [] and again.passages == 0
        assert sorted(again.unchanged) == sorted(first.added)
        assert reopened.search(QUESTIONS, k=3) == before


def test_an_edited_file_replaces_its_old_article(index: ArticleIndex, corpus_dir: Path) -> None:
    old = index.search_one("apple harvest frost", k=1)[0].article
    (corpus_dir / "orchard.txt").write_text(ORCHARD.replace("a third", "half"), encoding="utf-8")
    report = ingest(index, corpus_dir)
    assert report.removed == [old.id] and len(report.added) == 1 and len(report.unchanged) == 5
    assert index.info()["articles"] == 6
    with pytest.raises(ArticleNotFoundError):
        index.article(old.id)
    assert "half" in index.article(report.added[0]).body
    assert old.id not in {hit.article.id for hit in all_hits(index, "apple harvest frost")}


def test_remove_deletes_an_article_and_its_passages(index: ArticleIndex) -> None:
    passages = index.info()["passages"]
    gone = index.search_one("glacier drones", k=1)[0].article
    own = [hit for hit in all_hits(index, "glacier") if hit.article.id == gone.id]
    index.remove(gone.id)
    assert index.info()["articles"] == 5 and index.info()["passages"] == passages - len(own)
    assert gone.id not in {hit.article.id for hit in all_hits(index, "glacier drones")}
    assert index.search(["glacier drones"], k=3, mode="bm25")[0] == [] or all(
        hit.article.id != gone.id for hit in index.search(["glacier drones"], k=3, mode="bm25")[0])
    with pytest.raises(ArticleNotFoundError):
        index.remove(gone.id)


def test_a_failed_batch_leaves_the_last_committed_state(
        index_location, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch is one transaction: an ingest that dies in its second batch keeps the first
    whole, and the next ingest adds the rest."""
    monkeypatch.setattr(index_module, "COMMIT_PASSAGES", 1)

    class DiesOnSecondBatch(HashEncoder):
        def encode(self, texts):
            if len(self.calls) == 1:
                raise KeyboardInterrupt
            return super().encode(texts)

    with open_index(index_location, DiesOnSecondBatch()) as opened:
        with pytest.raises(KeyboardInterrupt):
            ingest(opened, corpus_dir)
        info = opened.info()
        assert info["articles"] >= 1 and info["passages"] == sum(opened.encoder.calls)
    with open_index(index_location) as opened:
        report = ingest(opened, corpus_dir)
        assert len(report.added) + len(report.unchanged) == 6 and opened.info()["articles"] == 6


# -- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize("filters", [
    {"source": "alpine wire"},  # any case
    {"country": "Norway"},
    {"since": "2025-01-01", "until": "2025-12-31"},
    {"article_id": "ARTICLE"},
    {"source": "Alpine Wire", "until": "2024-12-31"},
    {"source": "Nobody"},
])
@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_filters_give_the_best_k_that_match(index: ArticleIndex, filters: dict,
                                            mode: str) -> None:
    question = "bakery chess glacier festival harvest tram"
    if filters.get("article_id") == "ARTICLE":
        filters = {"article_id": [index.search_one("chess final", k=1)[0].article.id]}
    wanted = Filters(source=filters.get("source"), country=filters.get("country"))

    def matches(article) -> bool:
        return ((wanted.source is None or (article.source or "").lower() == wanted.source.lower())
                and (wanted.country is None or article.country == wanted.country)
                and (filters.get("since") is None
                     or str(article.published) >= filters["since"])
                and (filters.get("until") is None
                     or str(article.published) <= filters["until"])
                and article.id in filters.get("article_id", [article.id]))

    everything = index.search([question], k=1000, mode=mode, per_article=None)[0]
    expected = [hit.chunk_id for hit in everything if matches(hit.article)][:3]
    hits = index.search([question], k=3, filters=filters, mode=mode, per_article=None)[0]
    assert [hit.chunk_id for hit in hits] == expected
    assert all(matches(hit.article) for hit in hits)


def test_per_article_caps_the_passages_of_one_article(index_location, tmp_path: Path) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    body = "\n\n".join(f"The harbour festival paragraph {n} tells of lanterns and boats. " * 6
                       for n in range(12))
    (folder / "long.txt").write_text(f"Harbour festival diary\n\n{body}\n", encoding="utf-8")
    write_corpus(folder)
    with open_index(index_location, max_tokens=64) as opened:
        ingest(opened, folder)
        for mode in ("dense", "bm25", "hybrid"):
            capped = opened.search_one("harbour festival lanterns", k=6, mode=mode, per_article=2)
            counts: dict[str, int] = {}
            for hit in capped:
                counts[hit.article.id] = counts.get(hit.article.id, 0) + 1
            assert max(counts.values()) <= 2
            assert len(capped) == 6 or mode == "bm25"  # bm25 finds only passages sharing a word
            free = opened.search_one("harbour festival lanterns", k=6, mode=mode,
                                     per_article=None)
            assert len({hit.article.id for hit in free}) < len(counts)


def test_hybrid_fuses_the_stores_own_dense_and_lexical_rankings(index: ArticleIndex) -> None:
    store, encoder = index._store, index.encoder
    for question in [*QUESTIONS, "harbour apple glacier"]:
        query = encoder.encode([question])
        scores, ids = store.dense_search(query, 50)
        cosine = {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}
        bm25_scores, bm25_ids = store.lexical_search(question, 50)
        bm25 = dict(zip(bm25_ids.tolist(), bm25_scores.tolist()))
        assert bm25, question
        missing = [i for i in bm25 if i not in cosine]
        cosine.update(zip(missing, (store.vectors(missing) @ query[0]).tolist()))
        ranked = fuse_scores(cosine, bm25)
        expected = limit_per_article(ranked, store.article_ids_of(ranked), 3, 4)
        records = store.records(expected)
        # Asked long after every article's date: no recency bonus, only the stores' fusion.
        hits = index.search_one(question, k=4, mode="hybrid", as_of="2100-01-01")
        assert [hit.chunk_id for hit in hits] == [records[i].chunk.id for i in expected]
        assert [hit.score for hit in hits] == pytest.approx([cosine[i] for i in expected])


def test_dense_search_matches_brute_force(index: ArticleIndex) -> None:
    store, encoder = index._store, index.encoder
    queries = encoder.encode(QUESTIONS)
    scores, ids = store.dense_search(queries, 1000)
    assert ids.shape[1] == index.info()["passages"]  # no wider than the passages stored
    vectors = store.vectors(ids[0].tolist())
    for row, query in enumerate(queries):
        exact = {int(i): float(v) for i, v in zip(ids[0], vectors @ query)}
        found = dict(zip(ids[row].tolist(), scores[row].tolist()))
        assert found == pytest.approx(exact, abs=1e-5)
        assert scores[row].tolist() == sorted(scores[row].tolist(), reverse=True)


def test_rarities_count_the_passages_holding_each_term(index: ArticleIndex) -> None:
    passages = index.info()["passages"]
    rarity = index._store.rarities(["glacier", "unheardofword", "festival"])
    assert rarity["unheardofword"] == pytest.approx(np.log(passages + 1))
    assert 0 < rarity["festival"] < rarity["unheardofword"]
    assert rarity["glacier"] == pytest.approx(np.log((passages + 1) / 2))
    assert index._store.holding(["glacier", "unheardofword"]) == {"glacier": 1,
                                                                   "unheardofword": 0}


def test_an_empty_index_answers_with_nothing(index_location) -> None:
    with open_index(index_location) as opened:
        assert opened.search(["anything"], k=3) == [[]]
        assert opened.info()["articles"] == 0 and not opened.ask("anything?").answered


def test_a_follow_up_of_a_question_near_the_length_limit_is_answered(index: ArticleIndex
                                                                     ) -> None:
    from articleqa.retrieval import MAX_QUESTION_CHARS

    first = "How many visitors came to the harbour festival? " * 50
    first = first[:MAX_QUESTION_CHARS].strip()
    history = [{"role": "user", "content": first},
               {"role": "assistant", "content": index.ask(first).text}]
    follow = index.ask("Why?", history)  # searched with the earlier question in brackets
    assert len(follow.resolved_question) > MAX_QUESTION_CHARS
    with pytest.raises(ValueError, match="2,0"):
        index.ask(follow.resolved_question)  # a question typed that long is refused


def test_ask_quotes_and_cites_the_articles(index: ArticleIndex) -> None:
    answer = index.ask("How many visitors came to the harbour festival?")
    assert answer.answered and answer.citations
    for citation in answer.citations:
        assert citation.quote == citation.hit.article.body[citation.start : citation.end]
    assert "forty thousand" in answer.text


# -- opening ---------------------------------------------------------------------------------


def test_a_missing_index_is_not_found(index_location) -> None:
    with pytest.raises(IndexNotFoundError):
        open_index(index_location, create=False)


def test_another_model_is_a_mismatch(index: ArticleIndex, index_location) -> None:
    with pytest.raises(IndexMismatchError, match="hash-encoder"):
        ArticleIndex.open(index_location, model="another/model", llm=None)
    with pytest.raises(IndexMismatchError):
        open_index(index_location, HashEncoder(dimension=32))


# -- several processes -----------------------------------------------------------------------


def _ingest_in_process(location, paths, queue) -> None:
    with open_index(location) as opened:
        report = ingest(opened, *paths)
    queue.put(sorted(report.added))


def ingest_in_processes(location, *paths_of_each: list[Path]) -> list[list[str]]:
    """Ingests into ``location`` from one process per list of paths, all at once."""
    with open_index(location):
        pass  # created once, so that every writer opens it
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    writers = [context.Process(target=_ingest_in_process, args=(location, paths, queue))
               for paths in paths_of_each]
    for writer in writers:
        writer.start()
    added = [queue.get(timeout=120) for _ in writers]
    for writer in writers:
        writer.join(timeout=60)
        assert writer.exitcode == 0
    return added


@pytest.mark.parametrize("split", [False, True], ids=["same files", "different files"])
def test_writers_in_several_processes_store_each_article_once(
        index_location, corpus_dir: Path, split: bool) -> None:
    files = sorted(corpus_dir.iterdir())
    each = [files[::2], files[1::2]] if split else [[corpus_dir], [corpus_dir]]
    added = [a for ids in ingest_in_processes(index_location, *each) for a in ids]
    assert len(added) == len(set(added)) == 6
    with open_index(index_location) as opened:
        info = opened.info()
        assert info["articles"] == 6
        assert info["passages"] == len({hit.chunk_id for hit in all_hits(opened, "festival")})


def test_a_new_database_gets_the_vector_extension_and_the_tables(postgres) -> None:
    location = postgres.new_database()
    with open_index(location) as opened:
        assert opened.info()["articles"] == 0
    with open_index(location, create=False) as reopened:
        assert reopened.info()["model"] == HashEncoder().name


def test_copy_moves_an_index_without_embedding_again(index: ArticleIndex, index_location,
                                                     postgres, tmp_path: Path) -> None:
    """To the other kind of store and back: the same articles, files and dense results."""
    other = tmp_path / "copy" if isinstance(index_location, str) else postgres.database()
    assert index.copy_to(other) == 6
    assert index.copy_to(other) == 0  # what the target holds is kept
    calls = list(index.encoder.calls)
    with ArticleIndex.open(other, create=False, encoder=index.encoder, llm=None) as copy:
        mine, theirs = index.info(), copy.info()
        for key in ("articles", "passages", "sources", "countries", "published", "model",
                    "max_tokens", "overlap_tokens"):
            assert mine[key] == theirs[key], key
        for question in QUESTIONS:
            # (passages of equal score may come in any order)
            assert {(h.chunk_id, round(h.score, 5), h.text, h.article)
                    for h in all_hits(copy, question)} == \
                {(h.chunk_id, round(h.score, 5), h.text, h.article)
                 for h in all_hits(index, question)}
            hit = all_hits(copy, question)[0]
            assert copy.article_paths(hit.article.id) == index.article_paths(hit.article.id)
    assert index.encoder.calls[: len(calls)] == calls
    wrong_place = tmp_path / "wrong" if isinstance(index_location, str) else postgres.database()
    with open_index(wrong_place, HashEncoder(dimension=32)):
        pass
    with pytest.raises(IndexMismatchError, match="dimension"):
        index.copy_to(wrong_place)


def test_readers_see_each_batch_whole(index_location, corpus_dir: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """While an ingest commits article by article, a reader on another connection sees every
    article with all its passages or not at all."""
    with open_index(tmp_path / "reference") as reference:
        ingest(reference, corpus_dir)
        expected = {}
        for hit in all_hits(reference, "festival"):
            expected[hit.article.id] = expected.get(hit.article.id, 0) + 1
    monkeypatch.setattr(index_module, "COMMIT_PASSAGES", 1)
    seen: list[dict[str, int]] = []
    with open_index(index_location) as writer, open_index(index_location) as reader:
        done = threading.Event()

        def read() -> None:
            while not done.is_set():
                counts: dict[str, int] = {}
                for hit in all_hits(reader, "festival"):
                    counts[hit.article.id] = counts.get(hit.article.id, 0) + 1
                seen.append(counts)

        thread = threading.Thread(target=read)
        thread.start()
        try:
            ingest(writer, corpus_dir)
        finally:
            done.set()
            thread.join()
        final: dict[str, int] = {}
        for hit in all_hits(reader, "festival"):
            final[hit.article.id] = final.get(hit.article.id, 0) + 1
    assert seen and final == expected
    for counts in seen:
        assert all(expected[article] == n for article, n in counts.items())


def test_dates_leads_undated_counts_fills_and_checks(index: ArticleIndex) -> None:
    store = index._store
    hits = all_hits(index, "harbour tram orchard")
    articles = {hit.article.id: hit.article for hit in hits}
    assert len(articles) == 6
    records = store.records(list(store.article_ids_of(range(0, 10_000))))
    dates = store.published_of(records)
    assert dates == {v: r.article.published for v, r in records.items()}
    leads = store.lead_passages(Filters())
    assert sorted(a for a, _, _ in leads) == sorted(articles)
    for article, vector, outlet in leads:
        own = [r for r in records.values() if r.article.id == article]
        assert records[vector].chunk.start == min(r.chunk.start for r in own)
        assert outlet == articles[article].source
    undated = [a for a in articles.values() if a.published is None]
    assert undated and len(undated) < len(articles)  # the plain-text files carry no date
    assert store.undated_count(Filters()) == len(undated)
    assert store.undated_count(Filters(since=dt.date(2000, 1, 1))) == len(undated)
    lacking = next(a for a in articles.values() if a.country is None or a.url is None)
    field = "country" if lacking.country is None else "url"
    filled = dataclasses.replace(lacking, **{field: "Filled"})
    assert store.fill_missing([filled]) == [lacking.id]
    assert getattr(store.article(lacking.id), field) == "Filled"
    assert store.fill_missing([filled]) == []  # set fields are kept, nothing to fill
    assert store.check() == []
