"""The web page: a chat over an index, with the sources of each reply beside it.

Presentation only; retrieval and answers come from :class:`~articleqa.index.ArticleIndex`.
Every string that comes from an article or from the browser is escaped before it reaches the
page: markup inside an article is shown as text, never rendered or run. The rendering functions
here are pure (strings in, HTML or Markdown out) so they can be tested without a browser.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import stat
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from articleqa.answering import Answer, Citation
from articleqa.errors import ArticleQAError
from articleqa.filters import parse_filters
from articleqa.index import ArticleIndex, IngestReport
from articleqa.readers.walk import JSON_SUFFIXES, SKIPPED_NAME_PREFIXES, TEXT_SUFFIXES
from articleqa.retrieval import Hit

#: Files one upload may hold (as chosen in the browser; a .zip counts as one).
MAX_UPLOAD_FILES = 50
#: Bytes of one uploaded file, and of one article file inside a .zip (uncompressed).
MAX_FILE_BYTES = 20 * 2**20
#: Article files one upload may add in all, members of .zip files included.
MAX_ARTICLE_FILES = 2000
#: Bytes one upload may add in all, members of .zip files counted uncompressed.
MAX_TOTAL_BYTES = 200 * 2**20
#: Suffixes of the files an upload may hold; anything else is refused.
ARTICLE_SUFFIXES = frozenset(s for s in TEXT_SUFFIXES | JSON_SUFFIXES if s)
UPLOAD_SUFFIXES = ARTICLE_SUFFIXES | {".zip"}

#: The example question the empty chat suggests.
EXAMPLE_QUESTION = "What did Hammouchi say about cybercrime?"

CSS = """
#aq-notice { border: 2px solid #d97706; background: #fffbeb; color: #78350f;
  border-radius: 8px; padding: 4px 16px; }
#aq-notice * { color: #78350f; }
.aq-sources { font-size: 0.95em; }
.aq-sources-head { color: #555; margin: 0 0 8px; }
.aq-source { border: 1px solid #d4d4d8; border-radius: 8px; padding: 10px 14px; margin: 8px 0;
  scroll-margin-top: 12px; }
.aq-source:target, .aq-source.aq-target { border-color: #2563eb; box-shadow: 0 0 0 2px #bfdbfe; }
.aq-source-title { font-weight: 600; }
.aq-num { color: #2563eb; margin-right: 4px; }
.aq-meta { color: #555; font-size: 0.9em; margin: 2px 0 6px; }
.aq-passage { white-space: pre-wrap; line-height: 1.45; }
.aq-passage mark { background: #fde68a; color: inherit; padding: 0 1px; }
.aq-related { margin-top: 12px; }
.aq-status { font-size: 0.88em; display: grid; grid-template-columns: max-content 1fr;
  gap: 2px 10px; }
.aq-status .aq-key { font-weight: 600; }
.aq-upload ul { margin: 4px 0; }
.aq-refused { color: #b91c1c; }
a.aq-cite { text-decoration: none; font-weight: 600; }
"""

#: Clicking a citation in the chat marks its passage in the sources panel (the link's own
#: ``#source-...`` jump does the scrolling).
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.aq-cite');
    if (!link) return;
    const target = document.getElementById(link.getAttribute('href').slice(1));
    if (!target) return;
    event.preventDefault();
    document.querySelectorAll('.aq-target').forEach((el) => el.classList.remove('aq-target'));
    const card = target.closest('.aq-source') || target;
    card.classList.add('aq-target');
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  });
}
"""


# -- the chat reply ---------------------------------------------------------------------------

_MARKER = re.compile(r"\[(\d+)\]")
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
    lines = []
    for line in answer.text.split("\n"):
        head = _LINE_PREFIX.match(line)[0]  # the pattern matches at least the empty string
        lines.append(head + _escape_with_markers(line[len(head):], citations, turn))
    return "\n".join(lines)


def escape_markdown(text: str) -> str:
    """``text`` for a Markdown renderer that allows HTML: shown as written, nothing rendered."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(text, quote=False))


def _escape_with_markers(text: str, citations: Mapping[int, Citation], turn: int) -> str:
    parts = []
    last = 0
    for match in _MARKER.finditer(text):
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
    hover = html.escape(f"{title}: “{quote}”", quote=True)
    return (f'<a class="aq-cite" href="#{source_anchor(turn, citation.number)}" '
            f'title="{hover}">[{citation.number}]</a>')


def render_question(question: str) -> str:
    """The reader's question as it is shown in the chat (as text)."""
    return escape_markdown(question)


def reply_as_text(answer: Answer) -> str:
    """The reply and its sources as plain text, for scripts (the ``/ask`` endpoint)."""
    lines = [answer.text]
    if answer.notice:
        lines += ["", f"Note: {answer.notice}"]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            lines.append(f"[{c.number}] {_article_line(c.hit)}")
            lines.append(f"    “{' '.join(c.quote.split())}”")
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


def render_sources(answer: Answer | None, turn: int = 0, *, searching: bool = False) -> str:
    """The sources panel for a reply: each cited passage with its headline (a link when the
    article has a web address), outlet, country, date and score, the quoted words marked in
    it; then the other passages retrieved. All article text is escaped."""
    if answer is None:
        text = ("Searching the articles…" if searching else "Ask a question: the passages each "
                "reply quotes appear here, the quoted words marked.")
        return f'<div class="aq-sources"><p class="aq-sources-head">{text}</p></div>'

    head = []
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


def _hit_card(hit: Hit) -> str:
    return (f'<div class="aq-source"><div class="aq-source-title">{_headline(hit)}</div>'
            f'<div class="aq-meta">{_meta(hit)}</div>'
            f'<div class="aq-passage">{html.escape(hit.text)}</div></div>')


def _headline(hit: Hit) -> str:
    title = html.escape(hit.article.title)
    url = hit.article.url
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


def make_filters(source: str | None, country: str | None, since: str | None,
                 until: str | None) -> dict[str, str] | None:
    """The ``filters`` mapping for the index from the page's filter fields (empty: no filter).

    Raises:
        ValueError: A date is not YYYY-MM-DD (the message says which).
    """
    values = {"source": source, "country": country, "since": since, "until": until}
    filters = {key: str(value).strip() for key, value in values.items()
               if value is not None and str(value).strip()}
    parse_filters(filters)
    return filters or None


# -- uploads -----------------------------------------------------------------------------------


@dataclass
class StagedUpload:
    """Uploaded article files copied into a folder of our own, under generated names.

    Attributes:
        files: The staged files, to ingest.
        names: Display name (as the browser sent it, or ``archive.zip: member``) of each staged
            file, by its path. Display names are only ever shown, escaped; never used as paths.
        refused: ``(display name, reason)`` of what was not staged.
        skipped: Display names of .zip members passed over as not articles (folders, hidden
            files, README/LICENSE).
    """

    files: list[Path] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    total_bytes: int = 0


class _TooLarge(Exception):
    pass


def stage_uploads(uploads: Sequence[tuple[str | Path, str]], folder: Path) -> StagedUpload:
    """Copies uploaded files (and the article files inside uploaded .zip files) into ``folder``
    under generated names that keep only a known suffix.

    Bounded by :data:`MAX_UPLOAD_FILES`, :data:`MAX_FILE_BYTES`, :data:`MAX_ARTICLE_FILES` and
    :data:`MAX_TOTAL_BYTES`; whatever is over a bound is refused with the reason.

    Args:
        uploads: ``(path of the received file on this machine, name the browser gave it)``.
        folder: An empty folder of our own.
    """
    staged = StagedUpload()
    for number, (path, name) in enumerate(uploads, start=1):
        name = _display_name(name)
        if number > MAX_UPLOAD_FILES:
            staged.refused.append((name, f"more than {MAX_UPLOAD_FILES} files in one upload; "
                                         "upload the rest separately or as a .zip"))
            continue
        suffix = PurePosixPath(name.lower()).suffix
        if suffix not in UPLOAD_SUFFIXES:
            staged.refused.append((name, _unsupported(suffix)))
            continue
        source = Path(path)
        size = source.stat().st_size
        if size > MAX_FILE_BYTES:
            staged.refused.append((name, f"larger than {_mib(MAX_FILE_BYTES)}"))
            continue
        if suffix == ".zip":
            _stage_zip(source, name, number, folder, staged)
            continue
        with open(source, "rb") as reader:
            _stage_one(reader, name, suffix, f"upload-{number:03d}", folder, staged)
    return staged


def _stage_one(reader, name: str, suffix: str, stem: str, folder: Path,
               staged: StagedUpload) -> None:
    if len(staged.files) >= MAX_ARTICLE_FILES:
        staged.refused.append((name, f"more than {MAX_ARTICLE_FILES} article files in one "
                                     "upload"))
        return
    target = folder / f"{stem}{suffix}"
    budget = min(MAX_FILE_BYTES, MAX_TOTAL_BYTES - staged.total_bytes)
    try:
        written = _copy_bounded(reader, target, budget)
    except _TooLarge:
        target.unlink(missing_ok=True)
        reason = (f"larger than {_mib(MAX_FILE_BYTES)}" if budget == MAX_FILE_BYTES else
                  f"the upload is over {_mib(MAX_TOTAL_BYTES)} in all")
        staged.refused.append((name, reason))
        return
    staged.total_bytes += written
    staged.files.append(target)
    staged.names[str(target)] = name


def _stage_zip(source: Path, name: str, number: int, folder: Path,
               staged: StagedUpload) -> None:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        staged.refused.append((name, "not a readable .zip file"))
        return
    with archive:
        for position, member in enumerate(archive.infolist(), start=1):
            shown = f"{name}: {_display_name(member.filename, keep_folders=True)}"
            if member.is_dir():
                continue
            member_path = PurePosixPath(member.filename.replace("\\", "/"))
            base = member_path.name
            if stat.S_ISLNK(member.external_attr >> 16):
                staged.refused.append((shown, "a symbolic link; links are not followed"))
            elif (member.filename.startswith(("/", "\\")) or ".." in member_path.parts
                  or re.match(r"[A-Za-z]:", member.filename)):
                staged.refused.append((shown, "an unsafe path inside the .zip"))
            elif (base.startswith(".") or "__MACOSX" in member_path.parts
                  or base.lower().startswith(SKIPPED_NAME_PREFIXES)):
                staged.skipped.append(shown)
            elif member.flag_bits & 0x1:
                staged.refused.append((shown, "encrypted; upload it unencrypted"))
            elif (suffix := member_path.suffix.lower()) not in ARTICLE_SUFFIXES:
                staged.refused.append((shown, _unsupported(suffix) if suffix != ".zip" else
                                       "a .zip inside a .zip is not read; unpack it first"))
            else:
                try:
                    with archive.open(member) as reader:
                        _stage_one(reader, shown, suffix, f"upload-{number:03d}-{position:05d}",
                                   folder, staged)
                except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as error:
                    staged.refused.append((shown, f"cannot be unpacked: {error}"))


def _copy_bounded(reader, target: Path, limit: int) -> int:
    written = 0
    with open(target, "xb") as writer:
        while block := reader.read(1 << 16):
            written += len(block)
            if written > limit:
                raise _TooLarge
            writer.write(block)
    return written


def _display_name(name: str, keep_folders: bool = False) -> str:
    """A name from the browser or a .zip, for display only: control characters dropped and the
    length bounded (it is escaped where it is shown)."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", str(name))
    if not keep_folders:
        name = re.split(r"[\\/]", name)[-1]
    return name[:200] or "(unnamed)"


def _unsupported(suffix: str) -> str:
    kinds = ", ".join(sorted(UPLOAD_SUFFIXES))
    what = f"{suffix} files are" if suffix else "files without a suffix are"
    return f"{what} not read; upload {kinds}"


def _mib(size: int) -> str:
    return f"{size / 2**20:g} MB"


def render_upload_report(report: IngestReport | None, staged: StagedUpload,
                         titles: Sequence[str] = ()) -> str:
    """What an upload did, as HTML: the ingest summary, the headlines added, and every file
    refused or failed with the reason, under the name the browser gave it (escaped)."""
    parts = ['<div class="aq-upload">']
    if report is not None:
        parts.append(f"<p><b>{html.escape(report.summary())}</b></p>")
        if titles:
            shown = "".join(f"<li>{html.escape(t)}</li>" for t in titles[:20])
            more = f"<li>and {len(titles) - 20} more</li>" if len(titles) > 20 else ""
            parts.append(f"<p>Added:</p><ul>{shown}{more}</ul>")
    elif not staged.refused:
        parts.append("<p>No files were uploaded.</p>")
    problems = list(staged.refused)
    if report is not None:
        problems += [(_failed_name(path, staged.names), reason) for path, reason in report.failed]
    if problems:
        items = "".join(f"<li><b>{html.escape(name)}</b>: {html.escape(reason)}</li>"
                        for name, reason in problems)
        parts.append(f'<p class="aq-refused">Refused or failed ({len(problems)}):</p>'
                     f"<ul>{items}</ul>")
    if staged.skipped:
        parts.append(f"<p>Skipped as not articles: {len(staged.skipped)} "
                     "(folders, hidden files, README/LICENSE).</p>")
    parts.append("</div>")
    return "".join(parts)


def _failed_name(path: str, names: Mapping[str, str]) -> str:
    """The display name for a failed path (``staged-file`` or ``staged-file#record``)."""
    for staged, name in names.items():
        if path == staged or path.startswith(staged + "#") or path.startswith(staged + ":"):
            return name + path[len(staged):]
    return Path(path).name


# -- the page's actions, without Gradio --------------------------------------------------------


class PageActions:
    """What the page does with the index, safe to call from Gradio's worker threads.

    Searches and answers use ``index`` under a lock (its SQLite connection is shared by the
    threads). Uploads ingest through a second handle on the same folder, opened on first use
    with its own lock, so a long upload does not hold up the chat; the reading handle sees each
    ingest once it has committed.
    """

    def __init__(self, index: ArticleIndex, writer: ArticleIndex | None = None) -> None:
        self.index = index
        self._writer = writer
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def info(self) -> dict[str, Any]:
        with self._read_lock:
            return self.index.info()

    def search(self, question: str, k: int = 5,
               filters: Mapping[str, object] | None = None) -> list[Hit]:
        with self._read_lock:
            return self.index.search([question], k, filters=filters)[0]

    def ask_stream(self, question: str, history: Sequence[Mapping[str, object]] | None = None,
                   filters: Mapping[str, object] | None = None) -> Iterator[Answer]:
        """:meth:`ArticleIndex.ask_stream`, each step taken under the lock."""
        stream = self.index.ask_stream(question, history, filters=filters)
        while True:
            with self._read_lock:
                answer = next(stream, None)
            if answer is None:
                return
            yield answer

    def ask(self, question: str, history: Sequence[Mapping[str, object]] | None = None,
            filters: Mapping[str, object] | None = None) -> Answer:
        *_, final = self.ask_stream(question, history, filters)
        return final

    def upload(self, uploads: Sequence[tuple[str | Path, str]], *, source: str | None = None,
               country: str | None = None) -> str:
        """Stages and ingests uploaded files; returns the report as HTML (see
        :func:`render_upload_report`)."""
        with tempfile.TemporaryDirectory(prefix="articleqa-upload-") as folder:
            staged = stage_uploads(uploads, Path(folder))
            if not staged.files:
                return render_upload_report(None, staged)
            with self._write_lock:
                writer = self._writer_index()
                report = writer.ingest(staged.files, source=source or None,
                                       country=country or None, progress=False)
                titles = [writer.article(article_id).title for article_id in report.added]
        return render_upload_report(report, staged, titles)

    def _writer_index(self) -> ArticleIndex:
        if self._writer is None:
            self._writer = ArticleIndex.open(self.index.path, create=False)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


# -- the Gradio page ---------------------------------------------------------------------------


def build_app(index: ArticleIndex, *, writer: ArticleIndex | None = None):
    """The Gradio page over ``index``: the chat, its sources, filters, upload and index status,
    and the ``/ask`` and ``/search`` endpoints for scripts.

    Args:
        index: The index to answer from.
        writer: A second handle on the same folder for uploads (opened on first upload when
            None).
    """
    import gradio as gr

    actions = PageActions(index, writer)
    info = actions.info()
    sources, countries = filter_choices(info)

    def chat(question: str, turns: list[dict[str, str]], source: str, country: str,
             since: str | None, until: str | None):
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield _chat_display(turns), turns, gr.skip(), gr.skip()
            return
        try:
            filters = make_filters(source, country, since, until)
        except ValueError as error:
            gr.Warning(str(error))
            yield _chat_display(turns), turns, gr.skip(), gr.skip()
            return
        history = _history(turns)
        turn = len(turns)
        shown = [*_chat_display(turns), {"role": "user", "content": render_question(question)},
                 {"role": "assistant", "content": "…"}]
        yield shown, turns, render_sources(None, searching=True), ""
        answer = None
        try:
            for answer in actions.ask_stream(question, history, filters):
                shown[-1] = {"role": "assistant", "content": render_reply(answer, turn)}
                yield shown, turns, gr.skip(), ""
        except (ArticleQAError, ValueError) as error:
            shown[-1] = {"role": "assistant",
                         "content": escape_markdown(f"Could not answer: {error}")}
            yield shown, turns, gr.skip(), ""
            return
        assert answer is not None  # ask_stream always yields the complete answer last
        turns = [*turns, {"question": question, "text": answer.text,
                          "shown": render_reply(answer, turn)}]
        yield _chat_display(turns), turns, render_sources(answer, turn), ""

    def clear():
        return [], [], render_sources(None), ""

    def upload(files: list[str] | None, source: str, country: str, chosen_source: str,
               chosen_country: str,
               progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio idiom)
        files = files or []
        progress(0, desc=f"Reading {len(files)} file(s)")
        try:
            report = actions.upload([(path, Path(path).name) for path in files],
                                    source=(source or "").strip(),
                                    country=(country or "").strip())
        except (ArticleQAError, OSError) as error:
            report = (f'<p class="aq-refused">Could not add the files: '
                      f"{html.escape(str(error))}</p>")
        return (report, None, *refresh(chosen_source, chosen_country))

    def refresh(chosen_source: str, chosen_country: str):
        now = actions.info()
        new_sources, new_countries = filter_choices(now)
        first, last = date_span(now)
        return (
            render_status(now),
            gr.Markdown(render_notice(now), visible=is_empty(now)),
            gr.Dropdown(choices=new_sources, value=_still(chosen_source, new_sources)),
            gr.Dropdown(choices=new_countries, value=_still(chosen_country, new_countries)),
            gr.Textbox(placeholder=first),
            gr.Textbox(placeholder=last),
        )

    def api_ask(question: str, source: str = "", country: str = "", since: str = "",
                until: str = "") -> str:
        """Answers a question from the articles: the reply with [n] markers, then its sources
        (headline, outlet, country, date, address and the quoted words)."""
        try:
            answer = actions.ask(question, None, make_filters(source, country, since, until))
        except (ArticleQAError, ValueError) as error:
            raise gr.Error(str(error)) from None
        return reply_as_text(answer)

    def api_search(question: str, k: int = 5, source: str = "", country: str = "",
                   since: str = "", until: str = "") -> list[dict]:
        """The k passages that best match the question, best first, as records."""
        try:
            hits = actions.search(question, k, make_filters(source, country, since, until))
        except (ArticleQAError, ValueError) as error:
            raise gr.Error(str(error)) from None
        return [hit_record(hit) for hit in hits]

    with gr.Blocks(title="articleqa", fill_width=True) as page:
        with gr.Sidebar(open=True, width=340, elem_id="aq-sidebar"):
            gr.Markdown("### Index")
            status = gr.HTML(render_status(info), elem_id="aq-status")
            gr.Markdown("### Filters")
            source_filter = gr.Dropdown(sources, value="", label="Outlet", elem_id="aq-source",
                                        interactive=True)
            country_filter = gr.Dropdown(countries, value="", label="Country",
                                         elem_id="aq-country", interactive=True)
            first, last = date_span(info)
            with gr.Row():
                since_filter = gr.Textbox(label="From (YYYY-MM-DD)", placeholder=first,
                                          elem_id="aq-since", max_lines=1, min_width=100)
                until_filter = gr.Textbox(label="To", placeholder=last, elem_id="aq-until",
                                          max_lines=1, min_width=100)
            gr.Markdown("### Add articles")
            files = gr.File(label=("Article files: .txt, .md, .json, .jsonl, .ndjson, "
                                   "or a .zip of them"),
                            file_count="multiple", type="filepath", elem_id="aq-files")
            with gr.Row():
                upload_source = gr.Textbox(label="Outlet (if the files name none)",
                                           max_lines=1, min_width=100,
                                           elem_id="aq-upload-source")
                upload_country = gr.Textbox(label="Country (if none)", max_lines=1,
                                            min_width=100, elem_id="aq-upload-country")
            add = gr.Button("Add articles", elem_id="aq-add")
            upload_report = gr.HTML(elem_id="aq-upload-report")
        gr.Markdown("## articleqa · ask the news\nAnswers quote the articles; each `[n]` "
                    "leads to its passage on the right (hover to read the quote).")
        notice = gr.Markdown(render_notice(info), visible=is_empty(info), elem_id="aq-notice")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="aq-chat", height=560,
                    latex_delimiters=[], sanitize_html=True, allow_tags=False,
                    feedback_options=None, buttons=["copy"],
                    placeholder=("Ask about the indexed news, e.g. "
                                 f"*{EXAMPLE_QUESTION}*, then ask a follow-up."),
                )
                with gr.Row():
                    question = gr.Textbox(placeholder=EXAMPLE_QUESTION, show_label=False,
                                          scale=5, elem_id="aq-question", max_lines=3,
                                          submit_btn=False)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="aq-ask",
                                     min_width=80)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources_panel = gr.HTML(render_sources(None), elem_id="aq-sources")
        turns = gr.State([])

        chat_inputs = [question, turns, source_filter, country_filter, since_filter,
                       until_filter]
        chat_outputs = [chatbot, turns, sources_panel, question]
        for trigger in (send.click, question.submit):
            trigger(chat, chat_inputs, chat_outputs, api_visibility="private",
                    concurrency_limit=8, show_progress="minimal", show_progress_on=chatbot)
        chatbot.clear(clear, None, chat_outputs, api_visibility="private")
        refreshed = [status, notice, source_filter, country_filter, since_filter, until_filter]
        add.click(upload, [files, upload_source, upload_country, source_filter, country_filter],
                  [upload_report, files, *refreshed], api_visibility="private",
                  concurrency_limit=1, show_progress_on=files)
        page.load(refresh, [source_filter, country_filter], refreshed,
                  api_visibility="private", show_progress="hidden")
        gr.api(api_ask, api_name="ask", concurrency_limit=8)
        gr.api(api_search, api_name="search", concurrency_limit=8)
    page.articleqa_actions = actions  # for tests and for closing the upload handle
    return page


def serve(page, *, host: str = "127.0.0.1", port: int = 7860, block: bool = True,
          quiet: bool = False) -> None:
    """Launches a page from :func:`build_app` with the page's styles and upload bound."""
    page.launch(server_name=host, server_port=port, css=CSS, js=JS,
                max_file_size=MAX_FILE_BYTES, prevent_thread_lock=not block, quiet=quiet)


def hit_record(hit: Hit) -> dict[str, object]:
    """A hit as a JSON-ready record (the ``/search`` endpoint)."""
    article = hit.article
    return {
        "score": round(hit.score, 4), "text": hit.text, "chunk_id": hit.chunk_id,
        "start": hit.start, "end": hit.end, "article_id": article.id, "title": article.title,
        "source": article.source, "country": article.country,
        "published": article.published.isoformat() if article.published else None,
        "url": article.url,
    }


def _chat_display(turns: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": render_question(turn["question"])})
        messages.append({"role": "assistant", "content": turn["shown"]})
    return messages


def _history(turns: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """The conversation as the index reads it: the questions and replies as written."""
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": turn["question"]})
        messages.append({"role": "assistant", "content": turn["text"]})
    return messages


def _still(value: str | None, choices: Sequence[tuple[str, str]]) -> str:
    return value if value and any(value == v for _, v in choices) else ""

