"""What the page shows, as pure functions (strings in, escaped HTML or Markdown out): the reply
with its citation links, the sources panel, the index status and the filter choices.

Every string that comes from an article or from the browser is escaped before it reaches the
page: markup inside an article is shown as text, never rendered or run.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from articleqa.answering import MARKER, Answer, Citation
from articleqa.coverage import Take
from articleqa.readers.article import Article
from articleqa.retrieval import Hit

# -- the chat reply ---------------------------------------------------------------------------

#: Markdown punctuation, backslash-escaped in reply text so article words never become links,
#: images, emphasis or LaTeX.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~=$:])")
#: What a reply line may start with that stays Markdown: blockquote marks and a list bullet.
_LINE_PREFIX = re.compile(r"^((?:[ \t]*>[ \t]?)*)([ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+)?")
#: Longest quote put in a citation's hover text.
_TITLE_CHARS = 300


def source_anchor(turn: int, number: int) -> str:
    """The id of citation ``number`` of reply ``turn`` in the sources panel."""
    return f"source-{turn}-{number}"


def render_reply(answer: Answer, turn: int = 0) -> str:
    """The reply as safe Markdown for the chat: its text, HTML and Markdown escaped, with each
    ``[n]`` marker a link to its passage in the sources panel that shows the quote on hover.

    Only the line structure of the reply (blockquote marks and list bullets at line starts) is
    kept as Markdown; everything else is text.
    """
    citations = {c.number: c for c in answer.citations}
    lines = [f"*{escape_markdown(when)}*\n" for when in [window_note(answer)] if when]
    for line in answer.text.split("\n"):
        head = _LINE_PREFIX.match(line)[0]  # the pattern matches at least the empty string
        lines.append(head + _escape_with_markers(line[len(head):], citations, turn))
    return "\n".join(lines)


def window_note(answer: Answer) -> str | None:
    """"Searched articles from 17–23 November 2025 (2 undated articles left out)", for an
    answer whose question set a date window; None otherwise."""
    return answer.window_note()


def escape_markdown(text: str) -> str:
    """``text`` for a Markdown renderer that allows HTML: shown as written, nothing rendered."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(text, quote=False))


def _escape_with_markers(text: str, citations: Mapping[int, Citation], turn: int) -> str:
    parts = []
    last = 0
    for match in MARKER.finditer(text):
        citation = citations.get(int(match.group(1)))
        if citation is None:
            continue
        parts.append(escape_markdown(text[last:match.start()]))
        parts.append(_citation_link(citation, turn))
        last = match.end()
    parts.append(escape_markdown(text[last:]))
    return "".join(parts)


def _citation_link(citation: Citation, turn: int) -> str:
    quote = " ".join(citation.quote.split())
    if len(quote) > _TITLE_CHARS:
        quote = quote[: _TITLE_CHARS - 1].rstrip() + "…"
    article = citation.hit.article
    title = f"{article.title} ({article.source})" if article.source else article.title
    hover = html.escape(f"{title}: {quote}", quote=True)
    return (f'<a class="aq-cite" href="#{source_anchor(turn, citation.number)}" '
            f'title="{hover}">[{citation.number}]</a>')


def render_question(question: str) -> str:
    """The reader's question as it is shown in the chat (as text)."""
    return escape_markdown(question)


def reply_as_text(answer: Answer) -> str:
    """The reply and its sources as plain text, for scripts (the ``/ask`` endpoint)."""
    lines = [answer.text]
    if window_note(answer):
        lines += ["", f"{window_note(answer)}."]
    if answer.notice:
        lines += ["", f"Note: {answer.notice}"]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            lines.append(f"[{c.number}] {_article_line(c.hit)}")
            lines.append(f"    > {' '.join(c.quote.split())}")
    return "\n".join(lines)


def _article_line(hit: Hit) -> str:
    article = hit.article
    details = [v for v in (article.source, article.country, _day(article.published)) if v]
    line = f"{article.title} ({', '.join(details)})" if details else article.title
    if _web_url(article.url):
        line += f" {article.url}"
    return line


# -- the sources panel -------------------------------------------------------------------------


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` as escaped HTML with each ``(start, end)`` span (offsets into ``text``) wrapped in
    ``<mark>``. Spans are clipped to the text; overlapping spans are merged."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts = []
    last = 0
    for start, end in merged:
        parts.append(html.escape(text[last:start]))
        parts.append(f"<mark>{html.escape(text[start:end])}</mark>")
        last = end
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def render_sources(answer: Answer | None, turn: int = 0, *, searching: bool = False,
                   takes: Sequence[Take] = ()) -> str:
    """The sources panel for a reply: each cited passage with its headline (a link when the
    article has a web address), outlet, country, date and score, the quoted words marked in
    it; then "Other outlets' takes" on the first cited article (``takes``; those the reply
    cites too are marked); then the other passages retrieved. All article text is escaped."""
    if answer is None:
        text = ("Searching the articles…" if searching else "Ask a question: the passages each "
                "reply quotes appear here, the quoted words marked.")
        return f'<div class="aq-sources"><p class="aq-sources-head">{text}</p></div>'

    head = []
    if window_note(answer):
        head.append(html.escape(f"{window_note(answer)}."))
    if answer.resolved_question and answer.resolved_question != answer.question:
        head.append(f"Searched for: <q>{html.escape(answer.resolved_question)}</q>")
    if answer.notice:
        head.append(html.escape(answer.notice))
    parts = [f'<div class="aq-sources" data-turn="{turn}">']
    if head:
        parts.append(f'<p class="aq-sources-head">{"<br>".join(head)}</p>')
    cited: dict[str, list[Citation]] = {}
    for citation in answer.citations:  # one card per passage, in order of first citation
        cited.setdefault(citation.hit.chunk_id, []).append(citation)
    for citations in cited.values():
        parts.append(_source_card(citations, turn))
    if answer.citations and takes:
        parts.append(_takes_section(answer.citations[0].hit.article, takes, answer.citations))
    others = [hit for hit in answer.hits if hit.chunk_id not in cited]
    if others:
        label = ("Passages retrieved (they do not answer the question)" if not answer.answered
                 else f"Other passages retrieved ({len(others)})")
        opened = " open" if not cited else ""
        parts.append(f'<details class="aq-related"{opened}><summary>{label}</summary>')
        parts.extend(_hit_card(hit) for hit in others)
        parts.append("</details>")
    if not answer.hits:
        parts.append('<p class="aq-sources-head">No passage matched.</p>')
    parts.append("</div>")
    return "".join(parts)


def _source_card(citations: list[Citation], turn: int) -> str:
    hit = citations[0].hit
    body = hit.article.body
    start = min([hit.start, *(c.start for c in citations)])
    end = max([hit.end, *(c.end for c in citations)])
    spans = [(c.start - start, c.end - start) for c in citations]
    numbers = "".join(f'<span class="aq-num">[{c.number}]</span>' for c in citations)
    # The card carries the first citation's id; the others get an anchor inside it.
    anchors = "".join(f'<span id="{source_anchor(turn, c.number)}"></span>'
                      for c in citations[1:])
    return (f'<div class="aq-source" id="{source_anchor(turn, citations[0].number)}">{anchors}'
            f'<div class="aq-source-title">{numbers} {_headline(hit)}</div>'
            f'<div class="aq-meta">{_meta(hit)}</div>'
            f'<div class="aq-passage">{highlight(body[start:end], spans)}</div></div>')


def _takes_section(article: Article, takes: Sequence[Take],
                   citations: Sequence[Citation]) -> str:
    """"Other outlets' takes" on ``article``: each take's headline, outlet, country, date and
    same-event similarity, and the reply's markers that cite it."""
    cards = []
    for take in takes:
        values = [take.outlet or "unknown outlet", take.country, _day(take.published)]
        cited = "".join(f"[{c.number}]" for c in citations if c.hit.article.id == take.article.id)
        meta = " · ".join([*(html.escape(v) for v in values if v),
                           f"similarity {take.similarity:.2f}",
                           *([f"cited {cited}"] if cited else [])])
        cards.append(f'<div class="aq-source aq-take"><div class="aq-source-title">'
                     f'{_article_headline(take.article)}</div>'
                     f'<div class="aq-meta">{meta}</div></div>')
    return (f'<details class="aq-takes" open><summary>Other outlets\' takes on '
            f'“{html.escape(article.title)}” ({len(takes)})</summary>{"".join(cards)}'
            f"</details>")


def _hit_card(hit: Hit) -> str:
    return (f'<div class="aq-source"><div class="aq-source-title">{_headline(hit)}</div>'
            f'<div class="aq-meta">{_meta(hit)}</div>'
            f'<div class="aq-passage">{html.escape(hit.text)}</div></div>')


def _headline(hit: Hit) -> str:
    return _article_headline(hit.article)


def _article_headline(article: Article) -> str:
    title = html.escape(article.title)
    url = article.url
    if _web_url(url):
        return (f'<a href="{html.escape(url, quote=True)}" target="_blank" '
                f'rel="noopener noreferrer nofollow">{title}</a>')
    return title


def _meta(hit: Hit) -> str:
    article = hit.article
    values = [article.source or "unknown outlet", article.country, _day(article.published)]
    shown = [html.escape(v) for v in values if v]
    shown.append(f"score {hit.score:.2f}")
    return " · ".join(shown)


def _web_url(url: str | None) -> bool:
    """Only http(s) addresses become links (never ``javascript:`` or ``data:``)."""
    return bool(url) and re.match(r"https?://[^\s\"'<>]+\Z", url, re.IGNORECASE) is not None


def _day(day: dt.date | None) -> str | None:
    return f"{day.day} {day:%b %Y}" if day else None


# -- index status and filters ------------------------------------------------------------------


def is_empty(info: Mapping[str, Any]) -> bool:
    return not info.get("articles")


def render_notice(info: Mapping[str, Any]) -> str:
    """The Markdown shown when the index is empty: how to add articles."""
    path = info.get("path", "embeddings")
    return (
        f"### The index is empty\n"
        f"No articles are indexed in {escape_markdown(str(path))} yet, so there is nothing to "
        f"answer from. Add articles with **Add articles** in the side bar (text, Markdown, JSON "
        f"or JSON Lines files, or a .zip of them), or from a terminal:\n\n"
        f"```\narticleqa ingest --index {path} ARTICLES_FOLDER\n```\n"
        f"(and reload the page). This notice goes once the index holds articles."
    )


def render_status(info: Mapping[str, Any]) -> str:
    """What the index holds, as HTML: articles, passages, outlets, countries, date span, model
    and the time of the last ingest."""
    if is_empty(info):
        rows = [("Articles", "none yet")]
    else:
        first, last = info.get("published") or (None, None)
        span = f"{first} to {last}" if first else "no dates"
        rows = [
            ("Articles", f"{info['articles']:,}"),
            ("Passages", f"{info.get('passages', 0):,}"),
            ("Outlets", _listing(info.get("sources") or [])),
            ("Countries", _listing(info.get("countries") or [])),
            ("Published", span),
        ]
    rows += [("Model", str(info.get("model", ""))),
             ("Last ingest", _when(info.get("last_ingest")))]
    items = "".join(f'<span class="aq-key">{html.escape(name)}</span>'
                    f"<span>{html.escape(value)}</span>" for name, value in rows)
    return f'<div class="aq-status">{items}</div>'


def _listing(names: Sequence[str], shown: int = 6) -> str:
    if not names:
        return "none named"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)}: {', '.join(names[:shown])}{more}"


def _when(stamp: object) -> str:
    if not stamp:
        return "never"
    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def filter_choices(info: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The outlet and country choices of the filters, each led by "all" (the empty value)."""
    sources = [("All outlets", "")] + [(s, s) for s in info.get("sources") or []]
    countries = [("All countries", "")] + [(c, c) for c in info.get("countries") or []]
    return sources, countries


def date_span(info: Mapping[str, Any]) -> tuple[str, str]:
    """The first and last publication dates in the index (placeholders of the date filters)."""
    first, last = info.get("published") or (None, None)
    return (str(first), str(last)) if first else ("YYYY-MM-DD", "YYYY-MM-DD")
