"""Passages: an article body cut into sentence-aware chunks within a token budget.

A chunk never cuts a sentence unless that sentence alone exceeds the budget, never cuts a
quotation that fits in the budget (a quote of several sentences stays whole), and prefers
paragraph boundaries once it is half full. A chunk may begin with the last sentences of the one
before it (``overlap_tokens``), so a statement that runs across a boundary is whole in one of
them. Every chunk keeps character offsets into the article body, so
``body[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from articleqa.readers.article import Article, normalise_text

#: Counts tokens of each text, without special tokens (the encoder's tokenizer in production).
TokenCounter = Callable[[Sequence[str]], Sequence[int]]

#: The passage budget: as much as the model reads (256 tokens for MiniLM) once the headline
#: embedded in front of it is counted; see docs/quality.md for the sizes tried.
DEFAULT_MAX_TOKENS = 256
#: Tokens of whole sentences a passage repeats from the end of the one before it.
DEFAULT_OVERLAP_TOKENS = 48
#: A passage at least this full ends at a paragraph boundary rather than split the paragraph.
PARAGRAPH_FILL = 0.5


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: ``text == article.body[start:end]``."""

    id: str
    article_id: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Span:
    """A character range ``[start, end)`` of a text."""

    start: int
    end: int


# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st jr sr gen gov sen rep rev lt col capt sgt maj cmdr adm hon
    inc ltd co corp plc bros dept est fig no nos vol vs etc al approx
    jan feb mar apr jun jul aug sep sept oct nov dec mt ft""".split()
)
# Double quotes only: a single curly quote is far more often an apostrophe.
_OPEN_QUOTES = "“«"
_CLOSE_QUOTES = "”»"
# Sentence end: terminal punctuation, then closing quotes/brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*")
_BLANK_LINE = re.compile(r"\n\s*\n")
_WORD = re.compile(r"\S+")
# The word before a full stop (at most 30 characters back), and the first character after it.
_WORD_BEFORE = re.compile(r"([\w.'’-]+)$")
_NEXT_CHAR = re.compile(r"\s*(\S)")


def paragraph_spans(text: str) -> list[Span]:
    """Spans of the paragraphs of ``text`` (separated by blank lines), whitespace trimmed."""
    spans = []
    for match in _PARAGRAPH.finditer(text):
        span = _trim(text, match.start(), match.end())
        if span:
            spans.append(span)
    return spans


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Spans of the sentences in ``text[start:end]``, whitespace trimmed.

    A full stop after a known abbreviation, an initial ("J. K.") or inside a number does not end
    a sentence, nor does one that is followed by a lower-case word.
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    begin = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if not _ends_sentence(text, match.start(), match.end(), end):
            continue
        span = _trim(text, begin, match.end())
        if span:
            spans.append(span)
        begin = match.end()
    last = _trim(text, begin, end)
    if last:
        spans.append(last)
    return spans


def quote_units(text: str, sentences: Sequence[Span], *, inside: bool = False) -> list[Span]:
    """Merges consecutive sentences that lie inside one quotation into a single span.

    Curly quotes are matched by direction. A straight double quote closes a quotation right
    after a word or its punctuation and opens one elsewhere (:func:`straight_quote_opens`):
    '"We lost. "We must win," he said.' is one quotation (a paragraph of the same speaker's
    words whose line break was lost), not one closed at '"We' with the rest outside. A
    quotation left open at the end of the paragraph merges nothing more (the text is probably
    unbalanced).
    ``inside``: the first sentence stands inside a quotation opened before it.
    """
    units: list[Span] = []
    for span in sentences:
        if units and _BLANK_LINE.search(text, units[-1].end, span.start):
            inside = False  # a new paragraph
        if inside and units:
            units[-1] = Span(units[-1].start, span.end)
        else:
            units.append(span)
        inside = _quote_open_after(text[span.start : span.end], inside)
    return units


def chunk_article(
    article: Article,
    count_tokens: TokenCounter,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    overlap_tokens: int = 0,
) -> list[Chunk]:
    """Cuts an article body into passages of at most ``max_tokens`` tokens.

    Args:
        article: The article to cut.
        count_tokens: Counts the tokens of each text (the embedding model's tokenizer).
        max_tokens: The budget of one passage, not counting the headline added for embedding.
        overlap_tokens: A passage begins with the whole last sentences (at most this many
            tokens, never all of them) of the passage before it; 0 for none.

    Returns:
        The chunks in body order; empty when the body is blank.

    Raises:
        ValueError: If ``max_tokens`` is smaller than 8, or ``overlap_tokens`` is negative or
            not below half of ``max_tokens``.
    """
    if max_tokens < 8:
        raise ValueError(f"max_tokens={max_tokens} is too small for a passage; use 64 or more")
    if not 0 <= overlap_tokens < max_tokens // 2:
        raise ValueError(f"overlap_tokens={overlap_tokens} must be 0 or more and less than half "
                         f"of max_tokens={max_tokens}")
    body = article.body
    paragraphs = [
        quote_units(body, sentence_spans(body, p.start, p.end)) for p in paragraph_spans(body)
    ]
    units = [u for para in paragraphs for u in para]
    counts = dict(zip(units, count_tokens([body[u.start : u.end] for u in units])))

    groups: list[list[tuple[Span, int]]] = []
    current: list[tuple[Span, int]] = []
    used = 0
    repeated = 0  # units at the start of ``current`` repeated from the passage before

    def flush() -> None:
        """Ends the current passage; the next starts with its overlap. A passage that holds
        only the overlap is dropped, not emitted."""
        nonlocal current, used, repeated
        if len(current) == repeated:
            current, used, repeated = [], 0, 0
            return
        groups.append(current)
        carry: list[tuple[Span, int]] = []
        room = overlap_tokens
        for unit, tokens in reversed(current[1:]):
            if tokens > room:
                break
            carry.insert(0, (unit, tokens))
            room -= tokens
        current, used, repeated = carry, sum(tokens for _, tokens in carry), len(carry)

    for para in paragraphs:
        para_tokens = sum(counts[u] for u in para)
        # Start a fresh passage at a paragraph boundary rather than split the paragraph,
        # unless the passage so far is too short to stand alone.
        if (len(current) > repeated and used + para_tokens > max_tokens
                and used >= max_tokens * PARAGRAPH_FILL):
            flush()
        for unit in para:
            for piece, tokens in _fit(body, unit, counts[unit], count_tokens, max_tokens):
                while current and used + tokens > max_tokens:
                    flush()  # a second round drops an overlap that leaves no room
                current.append((piece, tokens))
                used += tokens
    flush()
    return _make_chunks(article, [Span(g[0][0].start, g[-1][0].end) for g in groups])


#: A passage id is checked against at most this many repeats of its text in one article.
MAX_REPEATS_CHECKED = 8


def chunk_id(article_id: str, text: str, occurrence: int = 0) -> str:
    """A passage's stable id: a hash of its article's id, its normalised text, and how many
    passages of the article before it have the same text."""
    key = f"{article_id}\n{normalise_text(text)}\n{occurrence}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def chunk_matches_id(chunk: Chunk) -> bool:
    """True if the passage's text is the one its id was made from (see :func:`chunk_id`)."""
    return any(chunk_id(chunk.article_id, chunk.text, n) == chunk.id
               for n in range(MAX_REPEATS_CHECKED))


def _make_chunks(article: Article, spans: Sequence[Span]) -> list[Chunk]:
    chunks = []
    seen: dict[str, int] = {}
    for span in spans:
        text = article.body[span.start : span.end]
        key = normalise_text(text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        chunks.append(Chunk(chunk_id(article.id, text, occurrence), article.id, text,
                            span.start, span.end))
    return chunks


def _fit(
    text: str, unit: Span, tokens: int, count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[Span, int]]:
    """The unit itself if it fits; else its sentences; else a long sentence cut between words."""
    if tokens <= max_tokens:
        return [(unit, tokens)]
    sentences = sentence_spans(text, unit.start, unit.end)
    if len(sentences) > 1:
        counts = count_tokens([text[s.start : s.end] for s in sentences])
        return [
            piece
            for s, n in zip(sentences, counts)
            for piece in _fit(text, s, n, count_tokens, max_tokens)
        ]
    return _cut_between_words(text, unit, count_tokens, max_tokens)


def _cut_between_words(
    text: str, sentence: Span, count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[Span, int]]:
    words = [Span(m.start(), m.end()) for m in _WORD.finditer(text, sentence.start, sentence.end)]
    word_tokens = count_tokens([text[w.start : w.end] for w in words])
    pieces: list[tuple[Span, int]] = []
    first, used = 0, 0
    for i, n in enumerate(word_tokens):
        if used and used + n > max_tokens:
            pieces.append((Span(words[first].start, words[i - 1].end), used))
            first, used = i, 0
        used += n
    pieces.append((Span(words[first].start, words[-1].end), used))
    return pieces


def _ends_sentence(text: str, start: int, end: int, limit: int) -> bool:
    if text[start] == ".":
        word = _WORD_BEFORE.search(text, max(0, start - 30), start)
        token = word.group(1) if word else ""
        last = token.rsplit(".", 1)[-1] if "." in token else token
        if last.lower() in _ABBREVIATIONS:
            return False
        if len(last) == 1 and last.isalpha() and last.isupper():
            return False  # an initial: "J. K. Rowling", "U.S."
    following = _NEXT_CHAR.match(text, end, limit)  # no slice: linear in the text
    if following is None:
        return True
    char = following.group(1)
    return not (char.islower() or char.isdigit() and text[start] == ".")


def quote_open_at(text: str, offset: int) -> bool:
    """Whether ``offset`` of ``text`` stands inside a quotation opened earlier in its paragraph."""
    start = max((blank.end() for blank in _BLANK_LINE.finditer(text, 0, offset)), default=0)
    return _quote_open_after(text[start:offset], False)


def _quote_open_after(sentence: str, inside: bool) -> bool:
    for at, char in enumerate(sentence):
        if char in _OPEN_QUOTES:
            inside = True
        elif char in _CLOSE_QUOTES:
            inside = False
        elif char == '"':  # one that opens inside a quotation goes on with it
            inside = straight_quote_opens(sentence, at)
    return inside


def straight_quote_opens(text: str, at: int) -> bool:
    """Whether the straight double quote at ``text[at]`` opens a quotation: it closes one
    right after a word or the punctuation that ends one ('win," he said'), and opens one
    anywhere else ('said "We', 'told: "We', an attribute's '="x"')."""
    return at == 0 or not (text[at - 1].isalnum() or text[at - 1] in ".,!?;…'’)]%")


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if start < end else None
