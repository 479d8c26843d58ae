"""Tests of the chunker: offsets, budget, sentence and quotation boundaries, paragraphs, ids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from articleqa.chunking import (
    Chunk,
    Span,
    chunk_article,
    paragraph_spans,
    quote_open_at,
    quote_units,
    sentence_spans,
)
from articleqa.readers import Article, article_id, read_articles

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def words(texts: Sequence[str]) -> list[int]:
    """A token counter for tests: one token per whitespace-separated word."""
    return [len(text.split()) for text in texts]


def article(body: str, title: str = "A headline of our own") -> Article:
    return Article(id=article_id(title, body), title=title, body=body)


def sentence(n: int, tag: str, end: str = ".") -> str:
    """A sentence of ``n`` words ("Alpha w1 w2 ... ."), unique by ``tag``."""
    return " ".join([tag.capitalize(), *(f"{tag}{i}" for i in range(1, n))]) + end


def texts(body: str, spans: Sequence[Span]) -> list[str]:
    return [body[s.start : s.end] for s in spans]


def check_chunks(doc: Article, chunks: Sequence[Chunk], max_tokens: int,
                 overlap: int = 0) -> None:
    """Asserts every invariant a chunking must keep (see the chunking module docstring);
    ``overlap``: the tokens a chunk may repeat from the one before."""
    body = doc.body
    sentences = [s for p in paragraph_spans(body) for s in sentence_spans(body, p.start, p.end)]
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}

    def inside_long_sentence(offset: int) -> bool:
        """True if ``offset`` falls between two words of a sentence over the budget."""
        around = [s for s in sentences if s.start < offset < s.end]
        return (
            len(around) == 1
            and words([body[around[0].start : around[0].end]])[0] > max_tokens
            and (body[offset - 1].isspace() or body[offset].isspace())
        )

    previous_start, previous_end = -1, 0
    for chunk in chunks:
        assert chunk.article_id == doc.id
        assert body[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert chunk.start > previous_start and chunk.end > previous_end, "out of order"
        if chunk.start < previous_end:
            repeated = body[chunk.start : previous_end]
            assert overlap and words([repeated])[0] <= overlap, f"overlap {repeated!r}"
            assert chunk.start in starts, "an overlap must begin at a sentence"
        previous_start, previous_end = chunk.start, chunk.end
        assert words([chunk.text])[0] <= max_tokens, chunk.text
        assert chunk.start in starts or inside_long_sentence(chunk.start), (
            f"chunk starts inside a sentence: {chunk.text[:60]!r}"
        )
        assert chunk.end in ends or inside_long_sentence(chunk.end), (
            f"chunk ends inside a sentence: {chunk.text[-60:]!r}"
        )
    covered = sorted((c.start, c.end) for c in chunks)
    gaps = [body[a:b] for (_, a), (b, _) in zip([(0, 0), *covered], [*covered, (len(body), 0)])]
    assert all(not gap.strip() for gap in gaps), "some text of the body is in no chunk"


# -- sentences, quotations, paragraphs ---------------------------------------------------------


def test_abbreviations_initials_and_numbers_do_not_end_sentences() -> None:
    text = (
        "Mr. Okafor met Dr. Lindqvist at the U.S. embassy on Tuesday. "
        "They talked about a novel by J. K. Rowling for an hour. "
        "Inflation rose by 3.5% in the spring, said Prof. Amari. "
        "The meeting ended at noon!"
    )
    assert texts(text, sentence_spans(text)) == [
        "Mr. Okafor met Dr. Lindqvist at the U.S. embassy on Tuesday.",
        "They talked about a novel by J. K. Rowling for an hour.",
        "Inflation rose by 3.5% in the spring, said Prof. Amari.",
        "The meeting ended at noon!",
    ]


def test_sentences_end_at_closing_quotes_and_question_marks() -> None:
    text = "Was it late? “It was,” she said. He left. “Never again.” The end"
    assert texts(text, sentence_spans(text)) == [
        "Was it late?",
        "“It was,” she said.",
        "He left.",
        "“Never again.”",
        "The end",
    ]


def test_sentence_spans_of_a_range_keep_offsets_into_the_whole_text() -> None:
    text = "Ignored part. First one here. Second one there. Ignored too."
    start = text.index("First")
    end = text.index(" Ignored too")
    assert texts(text, sentence_spans(text, start, end)) == [
        "First one here.",
        "Second one there.",
    ]


def test_quote_units_merge_the_sentences_of_one_quotation() -> None:
    text = (
        "The minister spoke. He said: “We are ready. The roads are open. Come.” "
        'Then he left. She replied "Fine. Thank you." Nobody else spoke.'
    )
    units = quote_units(text, sentence_spans(text))
    assert texts(text, units) == [
        "The minister spoke.",
        "He said: “We are ready. The roads are open. Come.”",
        "Then he left.",
        'She replied "Fine. Thank you."',
        "Nobody else spoke.",
    ]


def test_a_straight_quote_opens_after_a_space_and_closes_elsewhere() -> None:
    # The second paragraph of Kerr's words lost its line break: its opening mark goes on
    # with the quotation, and the next sentence is the article's own again.
    text = 'He said: "We lost. "We must win," said Kerr. The ferry left. "Late," she said.'
    assert texts(text, quote_units(text, sentence_spans(text))) == [
        'He said: "We lost. "We must win," said Kerr.',
        "The ferry left.",
        '"Late," she said.',
    ]


def test_a_quotation_left_open_ends_with_its_paragraph() -> None:
    text = ('He said: "We wait. We hope.\n\n"Then we sail." The ferry left. '
            'It was "late. Very late')
    assert texts(text, quote_units(text, sentence_spans(text))) == [
        'He said: "We wait. We hope.',
        '"Then we sail."',
        "The ferry left.",
        'It was "late. Very late',
    ]
    # A passage that starts inside a quotation reads it as one.
    start = text.index("We hope")
    assert quote_open_at(text, start) and not quote_open_at(text, text.index('"Then'))
    assert not quote_open_at(text, text.index("The ferry"))


def test_a_quotation_left_open_runs_to_the_end_of_the_text() -> None:
    text = "Calm first. He said: “We wait. We hope. We see"
    assert texts(text, quote_units(text, sentence_spans(text))) == [
        "Calm first.",
        "He said: “We wait. We hope. We see",
    ]


def test_paragraph_spans_split_on_blank_lines_and_trim() -> None:
    text = "\n\n  First paragraph,\nsame paragraph.  \n\n \t\nSecond one.\n\n\nThird.\n"
    assert texts(text, paragraph_spans(text)) == [
        "First paragraph,\nsame paragraph.",
        "Second one.",
        "Third.",
    ]
    assert paragraph_spans("") == []
    assert paragraph_spans(" \n\n \n") == []


# -- chunk_article -------------------------------------------------------------------------------


def test_chunks_keep_offsets_order_and_budget() -> None:
    paragraphs = [
        " ".join(sentence(n, f"p{p}s{i}x") for i, n in enumerate(lengths))
        for p, lengths in enumerate([(5, 9, 4), (12,), (3, 3, 3, 3, 3, 3, 3), (7, 8)])
    ]
    doc = article("\n\n".join(paragraphs))
    for max_tokens in (8, 12, 20, 40, 500):
        chunks = chunk_article(doc, words, max_tokens)
        check_chunks(doc, chunks, max_tokens)
        assert sum(words([c.text for c in chunks])) == len(doc.body.split())
    assert len(chunk_article(doc, words, 500)) == 1


def test_a_sentence_over_the_budget_is_cut_between_words() -> None:
    long = sentence(50, "long")
    doc = article(f"{sentence(4, 'before')} {long} {sentence(4, 'after')}")
    chunks = chunk_article(doc, words, 16)
    check_chunks(doc, chunks, 16)
    start = doc.body.index(long)
    pieces = [c for c in chunks if c.start < start + len(long) and c.end > start]
    assert len(pieces) >= 4  # 50 words cannot fit in fewer pieces of 16
    joined = doc.body[pieces[0].start : pieces[-1].end]
    assert long in joined
    for piece in pieces:
        assert words([piece.text])[0] <= 16
        assert doc.body[piece.start - 1].isspace() or piece.start == 0
        assert piece.end == len(doc.body) or doc.body[piece.end].isspace()


def test_no_sentence_is_cut_when_each_fits() -> None:
    body = " ".join(sentence(n, f"s{i}x") for i, n in enumerate([6, 7, 5, 8, 6, 7, 4, 9, 3]))
    doc = article(body)
    chunks = chunk_article(doc, words, 15)
    check_chunks(doc, chunks, 15)
    whole = set(texts(body, sentence_spans(body)))
    for chunk in chunks:
        assert set(texts(chunk.text, sentence_spans(chunk.text))) <= whole


def test_a_quotation_that_fits_stays_in_one_chunk() -> None:
    opening = sentence(10, "opening")
    quoted = f"He said: “{sentence(4, 'one')} {sentence(4, 'two')} {sentence(4, 'three')}”"
    doc = article(f"{opening} {quoted} {sentence(5, 'closing')}")
    chunks = chunk_article(doc, words, 20)
    check_chunks(doc, chunks, 20)
    assert any(quoted in chunk.text for chunk in chunks), [c.text for c in chunks]
    # Without the quotation marks, the same sentences are packed greedily and split.
    plain = article(doc.body.replace("“", "").replace("”", ""))
    assert not any(quoted.replace("“", "").replace("”", "") in c.text
                   for c in chunk_article(plain, words, 20))


def test_a_quotation_over_the_budget_is_split_between_its_sentences() -> None:
    quoted = "“" + " ".join(sentence(6, f"q{i}x") for i in range(6)) + "”"
    doc = article(f"{sentence(3, 'intro')} {quoted}")
    chunks = chunk_article(doc, words, 16)
    check_chunks(doc, chunks, 16)
    assert len(chunks) >= 3


def test_paragraph_boundaries_are_preferred() -> None:
    first = f"{sentence(5, 'alpha')} {sentence(5, 'beta')}"  # half the budget: may stand alone
    second = f"{sentence(7, 'gamma')} {sentence(7, 'delta')}"
    as_paragraphs = article(f"{first}\n\n{second}")
    chunks = chunk_article(as_paragraphs, words, 20)
    check_chunks(as_paragraphs, chunks, 20)
    assert [c.text for c in chunks] == [first, second]
    # The same sentences in one paragraph are packed greedily across the old boundary.
    one_paragraph = article(f"{first} {second}")
    packed = chunk_article(one_paragraph, words, 20)
    assert [c.text for c in packed] == [f"{first} {sentence(7, 'gamma')}", sentence(7, "delta")]


def test_short_paragraphs_are_packed_together() -> None:
    paragraphs = [sentence(3, f"p{i}x") for i in range(6)]
    doc = article("\n\n".join(paragraphs))
    chunks = chunk_article(doc, words, 9)
    check_chunks(doc, chunks, 9)
    assert [c.text for c in chunks] == ["\n\n".join(paragraphs[:3]), "\n\n".join(paragraphs[3:])]


def test_chunk_ids_are_stable_and_differ_between_articles() -> None:
    body = "\n\n".join(sentence(9, f"p{i}x") for i in range(5))
    doc = article(body)
    first = chunk_article(doc, words, 12)
    again = chunk_article(article(body), words, 12)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first) == 5
    other = article(body, title="Another headline")
    assert other.id != doc.id
    assert not {c.id for c in first} & {c.id for c in chunk_article(other, words, 12)}


def test_a_repeated_paragraph_gets_distinct_ids() -> None:
    repeated = sentence(9, "again")
    doc = article("\n\n".join([repeated, sentence(9, "middle"), repeated, repeated]))
    chunks = chunk_article(doc, words, 12)
    check_chunks(doc, chunks, 12)
    assert [c.text for c in chunks].count(repeated) == 3
    assert len({c.id for c in chunks}) == 4
    assert [c.id for c in chunks] == [c.id for c in chunk_article(doc, words, 12)]


@pytest.mark.parametrize("body", ["", "   ", "\n\n \n"])
def test_a_blank_body_gives_no_chunks(body: str) -> None:
    assert chunk_article(Article(id="blank", title="Blank", body=body), words) == []


@pytest.mark.parametrize("max_tokens", [7, 0, -5])
def test_a_budget_below_eight_is_refused(max_tokens: int) -> None:
    with pytest.raises(ValueError, match=f"max_tokens={max_tokens}"):
        chunk_article(article(sentence(5, "short")), words, max_tokens)


def test_a_budget_of_eight_is_accepted() -> None:
    doc = article(sentence(20, "long"))
    chunks = chunk_article(doc, words, 8)
    check_chunks(doc, chunks, 8)
    assert len(chunks) == 3


# -- real articles -------------------------------------------------------------------------------


def corpus_articles() -> list[Article]:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    files = [
        path
        for topic in ("business", "entertainment", "politics", "sport", "tech")
        for path in sorted((CORPUS / "bbc" / topic).glob("*.txt"))[:40]
    ]
    files += sorted((CORPUS / "overview").glob("*.txt"))
    found = []
    for path in files:
        articles, errors = read_articles(path)
        assert errors == []
        found.extend(articles)
    assert len(found) == 201
    return found


@pytest.mark.parametrize(("max_tokens", "overlap"), [(24, 0), (160, 0), (24, 8), (256, 48)])
def test_real_articles_keep_every_invariant(max_tokens: int, overlap: int) -> None:
    for doc in corpus_articles():
        chunks = chunk_article(doc, words, max_tokens, overlap)
        assert chunks, doc.path
        check_chunks(doc, chunks, max_tokens, overlap)
        assert len({c.id for c in chunks}) == len(chunks)


# -- random texts --------------------------------------------------------------------------------

_PIECES = [
    "word", "Another", "the", "Mr.", "Dr.", "U.S.", "J.", "K.", "3.5%", "end.", "Stop.",
    "Yes!", "why?", "wait...", "so…", "“Quote", "open.”", '"plain', 'close."', "«guillemet»",
    "(aside.)", "it's", "2005.", "No.", "e.g.", "—", ",",
]  # fmt: skip
_SEPARATORS = [" ", " ", " ", "  ", "\n", "\n\n", " \n \n ", "\t"]


@st.composite
def bodies(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.sampled_from(_PIECES), max_size=80))
    seps = draw(st.lists(st.sampled_from(_SEPARATORS), min_size=len(pieces), max_size=len(pieces)))
    lead = draw(st.sampled_from(["", " ", "\n\n"]))
    return lead + "".join(p + s for p, s in zip(pieces, seps))


@settings(max_examples=300, deadline=None, database=None)
@given(body=bodies(), max_tokens=st.integers(8, 30))
def test_random_texts_keep_every_invariant(body: str, max_tokens: int) -> None:
    doc = article(body)
    check_chunks(doc, chunk_article(doc, words, max_tokens), max_tokens)
    overlap = max_tokens // 2 - 1
    check_chunks(doc, chunk_article(doc, words, max_tokens, overlap), max_tokens, overlap)


def test_overlap_repeats_whole_last_sentences_of_the_passage_before() -> None:
    body = " ".join(sentence(4, f"s{i}x") for i in range(6))  # six sentences of 4 words
    doc = article(body)
    plain = chunk_article(doc, words, 12)
    assert [c.text for c in plain] == [" ".join(sentence(4, f"s{i}x") for i in r)
                                       for r in (range(0, 3), range(3, 6))]
    overlapping = chunk_article(doc, words, 12, overlap_tokens=5)
    check_chunks(doc, overlapping, 12, 5)
    assert [c.text for c in overlapping] == [" ".join(sentence(4, f"s{i}x") for i in r)
                                             for r in (range(0, 3), range(2, 5), range(4, 6))]
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_article(doc, words, 12, overlap_tokens=6)


@settings(max_examples=200, deadline=None, database=None)
@given(body=st.text(max_size=300), max_tokens=st.integers(8, 20))
def test_any_text_gives_chunks_that_are_slices_of_the_body(body: str, max_tokens: int) -> None:
    doc = article(body)
    previous_end = 0
    for chunk in chunk_article(doc, words, max_tokens):
        assert body[chunk.start : chunk.end] == chunk.text
        assert previous_end <= chunk.start < chunk.end
        previous_end = chunk.end
