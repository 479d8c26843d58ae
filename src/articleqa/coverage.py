"""Other outlets' takes: the articles of other outlets that tell the same event as one article.

Same event, not same topic: two articles are scored by the cosine similarity of their first
passages (headline and lede, as embedded at ingest) plus :data:`NAME_WEIGHT` times the share of
their names they have in common (capitalised words of the lede, weighted by rarity), among the
articles published within :data:`COVERAGE_DAYS` days of each other; those scoring
:data:`SAME_EVENT` or more are takes. The constants were chosen on ``tests/data/takes``
(``bench/takes.py``; docs/quality.md).

:func:`coverage_question` recognises "How did different outlets cover X?", and
:func:`coverage_answer` answers it: one quote (the lede) of each outlet, by country, cited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from articleqa.answering import Answer, Citation
from articleqa.chunking import sentence_spans
from articleqa.errors import ArticleNotFoundError
from articleqa.filters import Filters
from articleqa.lexical import terms
from articleqa.readers.article import Article
from articleqa.retrieval import Hit, check_k
from articleqa.store import IndexStore
from articleqa.vocab import MONTHS, WEEKDAYS

#: Days apart that two articles may be published and still tell the same event.
COVERAGE_DAYS = 3
#: Weight of the shared names in the same-event score (the cosine of the leads counts 1).
NAME_WEIGHT = 0.4
#: Smallest same-event score of a take.
SAME_EVENT = 0.6
#: Candidates, by lead similarity, whose names are compared (per take asked for).
_CANDIDATES_PER_TAKE = 8
#: How much of the body the names are read from: the lede and what follows it.
_LEDE_CHARS = 600


@dataclass(frozen=True)
class Take:
    """Another outlet's article on the same event.

    Attributes:
        article: The article.
        similarity: Its same-event score with the article asked about: lead cosine plus
            :data:`NAME_WEIGHT` times the shared names' share; higher is closer.
        lead_similarity: Cosine similarity of the two headlines and ledes, in [-1, 1].
        shared_names: The names both articles mention (as BM25 terms).
        days_apart: Days between the two publications (None when either is undated).
    """

    article: Article
    similarity: float
    lead_similarity: float
    shared_names: tuple[str, ...]
    days_apart: int | None

    @property
    def outlet(self) -> str | None:
        return self.article.source

    @property
    def country(self) -> str | None:
        return self.article.country

    @property
    def published(self) -> dt.date | None:
        return self.article.published


def coverage(store: IndexStore, article_id: str, k: int = 5, *, days: int = COVERAGE_DAYS,
             threshold: float = SAME_EVENT, name_weight: float = NAME_WEIGHT) -> list[Take]:
    """Up to ``k`` articles of other outlets that tell the same event as ``article_id``, best
    first (see the module docstring): dated articles published within ``days`` of it. An
    undated article has no takes (nothing says when it happened), nor is it a take.

    Raises:
        ArticleNotFoundError: If no article has that id.
        ValueError: If ``k`` < 1.
    """
    check_k(k)
    return [take for take, _ in _takes(store, article_id, k, days, threshold, name_weight)]


def lead_hit(store: IndexStore, article_id: str, score: float = 1.0) -> Hit | None:
    """The first passage of an article (headline and lede) as a hit, scored ``score``."""
    leads = store.lead_passages(Filters(article_ids=(article_id,)))
    if not leads:
        return None
    record = store.records([leads[0][1]])[leads[0][1]]
    chunk = record.chunk
    return Hit(chunk.id, chunk.text, score, chunk.start, chunk.end, record.article)


def _takes(store: IndexStore, article_id: str, k: int, days: int = COVERAGE_DAYS,
           threshold: float = SAME_EVENT, name_weight: float = NAME_WEIGHT
           ) -> list[tuple[Take, int]]:
    """The takes, each with the vector id of its first passage."""
    target = store.article(article_id)
    if target is None:
        raise ArticleNotFoundError(f"no article with id {article_id!r} in {store.path}")
    if target.published is None:
        return []
    span = dt.timedelta(days=days)
    leads = store.lead_passages(Filters(since=target.published - span,
                                        until=target.published + span))
    own = [vector for article, vector, _ in leads if article == article_id]
    outlet = (target.source or "").casefold()
    others = [(article, vector) for article, vector, source in leads
              if article != article_id and source and source.casefold() != outlet]
    if not others or not own:
        return []
    cosines = store.vectors([vector for _, vector in others]) @ store.vectors(own)[0]
    order = np.argsort(-cosines, kind="stable")[: _CANDIDATES_PER_TAKE * k]
    names = _names(target)
    candidates = [(store.article(others[i][0]), float(cosines[i]), others[i][1]) for i in order]
    rarity = store.rarities({name for article, _, _ in candidates if article
                             for name in _names(article)} | names)
    takes = []
    for article, cosine, vector in candidates:
        if article is None:  # removed meanwhile
            continue
        theirs = _names(article)
        shared = names & theirs
        share = _weighted_share(shared, names, theirs, rarity)
        apart = (abs((article.published - target.published).days)
                 if article.published and target.published else None)
        score = cosine + name_weight * share
        if score >= threshold:
            takes.append((Take(article, score, cosine, tuple(sorted(shared)), apart), vector))
    takes.sort(key=lambda pair: -pair[0].similarity)
    return takes[:k]


_CAPITALISED = re.compile(r"(?<![.!?:;\"“]\s)(?<!^)(?<!\n)\b[A-Z][\w'’-]+")
_NOT_NAMES = frozenset({*MONTHS, *WEEKDAYS})


def _names(article: Article) -> frozenset[str]:
    """The names of an article's lede: its capitalised words that do not start a sentence,
    as BM25 terms (so spellings and accents meet), months and weekdays left out."""
    text = article.body[:_LEDE_CHARS]
    words = " ".join(match.group(0) for match in _CAPITALISED.finditer(text))
    return frozenset(term for term in terms(words) if term not in _NOT_NAMES
                     and not term.isdigit())


def _weighted_share(shared: Iterable[str], ours: Iterable[str], theirs: Iterable[str],
                    rarity: Mapping[str, float]) -> float:
    """The rarity-weighted share of the names of the article with fewer names that the other
    one has too (0 when either has none)."""
    def weight(names: Iterable[str]) -> float:
        return sum(max(rarity.get(name, 0.0), 0.0) for name in names)

    smaller = min(weight(ours), weight(theirs))
    return weight(shared) / smaller if smaller > 0 else 0.0


# -- "How did different outlets cover X?" ---------------------------------------------------------

_OUTLETS = (r"(?:the\s+)?(?:different|other|various|foreign|international|several|many|"
            r"other\s+countries['’]?|different\s+countries['’]?|the\s+world['’]s)\s+"
            r"(?:news\s+)?(?:outlets|papers|newspapers|media|press|sources|countries|"
            r"news\s*papers|websites)")
_COVERAGE_QUESTIONS = [re.compile(pattern, re.IGNORECASE) for pattern in (
    rf"^\s*how\s+(?:did|do|does|have|has|were|was)\s+{_OUTLETS}\s+(?:in\s+\w+\s+)?"
    r"(?:cover(?:ed)?|report(?:ed)?(?:\s+on)?|describe[d]?|see|saw|tell|told|present(?:ed)?|"
    r"treat(?:ed)?|frame[d]?)\s+(?P<topic>.+?)\s*[?.!]*\s*$",
    rf"^\s*how\s+(?:was|were|is|are)\s+(?P<topic>.+?)\s+(?:covered|reported|told|described|"
    rf"seen)\s+(?:by|in)\s+{_OUTLETS}\s*[?.!]*\s*$",
    rf"^\s*what\s+did\s+{_OUTLETS}\s+(?:say|write|report)\s+about\s+(?P<topic>.+?)\s*[?.!]*\s*$",
    r"^\s*(?:show\s+me\s+)?(?:the\s+)?(?:other\s+outlets['’]?\s+|other\s+|different\s+)"
    r"(?:takes|views|angles|coverage)\s+(?:on|of)\s+(?P<topic>.+?)\s*[?.!]*\s*$",
)]


def coverage_question(question: str) -> str | None:
    """What a question asks other outlets' takes on ("How did different outlets cover the
    ferry strike?" -> "the ferry strike"); None for any other question."""
    for pattern in _COVERAGE_QUESTIONS:
        match = pattern.match(question)
        if match and terms(match.group("topic")):
            return match.group("topic").strip()
    return None


def coverage_answer(question: str, hits: Sequence[Hit], *, resolved_question: str = ""
                    ) -> Answer:
    """The reply to a coverage question: ``hits`` are the first passages of the story's
    articles, the one the question found first and then its takes; each outlet gets one line
    (grouped by country) quoting its lede, cited."""
    if not hits:
        return Answer(question, "No article in the index tells this story.", False,
                      resolved_question=resolved_question)
    by_country: dict[str, list[Hit]] = {}
    for hit in hits:
        by_country.setdefault(hit.article.country or "Country not named", []).append(hit)
    outlets = {(hit.article.source or "").casefold() for hit in hits}
    first = hits[0].article
    if len(hits) == 1:
        lines = [f"Only {first.source or 'one outlet'} tells “{first.title}” among the "
                 f"indexed articles:"]
    else:
        lines = [f"How {len(outlets)} outlets in {len(by_country)} "
                 f"{'country' if len(by_country) == 1 else 'countries'} told “{first.title}”:"]
    citations: list[Citation] = []
    for country, country_hits in by_country.items():
        lines.append("")
        lines.append(f"{country}:")
        for hit in country_hits:
            start, end = _lede(hit)
            number = len(citations) + 1
            citations.append(Citation(number, hit, hit.article.body[start:end], start, end))
            when = _day(hit.article.published)
            outlet = hit.article.source or "Unknown outlet"
            quote = " ".join(hit.article.body[start:end].split())
            lines.append(f"- {outlet}{f' ({when})' if when else ''}: “{quote}” [{number}]")
    return Answer(question, "\n".join(lines), True, tuple(citations), tuple(hits),
                  resolved_question=resolved_question)


def _lede(hit: Hit) -> tuple[int, int]:
    """The span of the first sentence of the hit's passage, in the article body."""
    spans = sentence_spans(hit.article.body, hit.start, hit.end)
    return (spans[0].start, spans[0].end) if spans else (hit.start, hit.end)


def _day(day: dt.date | None) -> str | None:
    return f"{day.day} {day:%B %Y}" if day else None


def takes_with_hits(store: IndexStore, article_id: str, k: int) -> list[tuple[Take, Hit]]:
    """The takes of an article, each with its first passage as a hit (scored by the cosine
    similarity of the two leads)."""
    pairs = _takes(store, article_id, k)
    records = store.records([vector for _, vector in pairs])
    out = []
    for take, vector in pairs:
        record = records.get(vector)
        if record is not None:
            chunk = record.chunk
            out.append((take, Hit(chunk.id, chunk.text, take.lead_similarity, chunk.start,
                                  chunk.end, record.article)))
    return out
