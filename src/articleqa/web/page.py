"""The Gradio page: a chat over an index, with the sources of each reply beside it, filters,
uploads and the index status; and the ``/ask`` and ``/search`` endpoints for scripts.

Presentation only: retrieval and answers come from :class:`~articleqa.index.ArticleIndex`, what
is shown from :mod:`articleqa.web.render`, uploads from :mod:`articleqa.web.uploads`.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from articleqa.answering import Answer
from articleqa.coverage import Take
from articleqa.errors import ArticleNotFoundError, ArticleQAError
from articleqa.filters import Filters, parse_filters
from articleqa.index import ArticleIndex
from articleqa.retrieval import Hit, check_question, hit_to_json
from articleqa.web.render import (
    date_span,
    escape_markdown,
    filter_choices,
    is_empty,
    render_notice,
    render_question,
    render_reply,
    render_sources,
    render_status,
    reply_as_text,
)
from articleqa.web.uploads import MAX_FILE_BYTES, render_upload_report, stage_uploads

#: Other outlets' takes shown under the sources of a reply.
TAKES_SHOWN = 4
#: The reader's day, as the browser knows it (YYYY-MM-DD, local time).
READER_DAY_JS = "() => new Date().toLocaleDateString('en-CA')"
#: The example question the empty chat suggests.
EXAMPLE_QUESTION = "What did Hammouchi say about cybercrime?"
#: Questions (chat, ``/ask`` and ``/search`` together) answered at once by default; more wait
#: in Gradio's queue. The index runs them side by side and encodes their questions together
#: (bench/chat_load.py); the cores, not this bound, set the pace. Uploads go one at a time.
QUESTIONS_AT_ONCE = 24

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
.aq-takes { margin-top: 12px; }
.aq-takes summary { font-weight: 600; }
.aq-status { font-size: 0.88em; display: grid; grid-template-columns: max-content 1fr;
  gap: 2px 10px; }
.aq-status .aq-key { font-weight: 600; }
.aq-upload ul { margin: 4px 0; }
.aq-refused { color: #b91c1c; }
.aq-warned { color: #92400e; }
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


def make_filters(source: str | None, country: str | None, since: str | None,
                 until: str | None) -> Filters:
    """The filters for the index from the page's filter fields (blank fields: no filter).

    Raises:
        ValueError: A date is not YYYY-MM-DD (the message says which).
    """
    values = {"source": source, "country": country, "since": since, "until": until}
    return parse_filters({key: str(value).strip() for key, value in values.items()
                          if value is not None and str(value).strip()})


# -- the page's actions, without Gradio --------------------------------------------------------


class PageActions:
    """What the page does with the index, called from Gradio's worker threads (an
    :class:`ArticleIndex` may be shared by threads).

    Uploads ingest through a second handle on the same folder (``writer``, opened here when
    None), with its own encoder, so that a long upload does not hold up the chat; the reading
    handle sees each ingest once it has committed.
    """

    def __init__(self, index: ArticleIndex, writer: ArticleIndex | None = None) -> None:
        self.index = index
        self._writer = writer or ArticleIndex.open(index.path, create=False, llm=None)

    def info(self) -> dict[str, Any]:
        return self.index.info()

    def search(self, question: str, k: int = 5, filters: Filters | None = None,
               as_of: str | None = None) -> list[Hit]:
        return self.index.search([question], k, filters=filters, as_of=as_of or None)[0]

    def ask_stream(self, question: str, history: Sequence[Mapping[str, object]] | None = None,
                   filters: Filters | None = None, as_of: str | None = None
                   ) -> Iterator[Answer]:
        return self.index.ask_stream(question, history, filters=filters, as_of=as_of or None)

    def ask(self, question: str, history: Sequence[Mapping[str, object]] | None = None,
            filters: Filters | None = None, as_of: str | None = None) -> Answer:
        return self.index.ask(question, history, filters=filters, as_of=as_of or None)

    def takes(self, answer: Answer, k: int = TAKES_SHOWN) -> list[Take]:
        """Other outlets' takes on the article the answer cites first (none without one)."""
        if not answer.citations:
            return []
        try:
            return self.index.coverage(answer.citations[0].hit.article.id, k)
        except ArticleNotFoundError:  # removed since the answer was made
            return []

    def upload(self, uploads: Sequence[tuple[str | Path, str]], *, source: str | None = None,
               country: str | None = None) -> str:
        """Stages and ingests uploaded files; returns the report as HTML (see
        :func:`render_upload_report`)."""
        with tempfile.TemporaryDirectory(prefix="articleqa-upload-") as folder:
            staged = stage_uploads(uploads, Path(folder))
            if not staged.files:
                return render_upload_report(None, staged)
            report = self._writer.ingest(staged.files, source=source or None,
                                         country=country or None, progress=False)
            titles = [self._writer.article(article_id).title for article_id in report.added]
        return render_upload_report(report, staged, titles)

    def close(self) -> None:
        """Closes the upload handle (not ``index``, which the caller opened)."""
        self._writer.close()


# -- the Gradio page ---------------------------------------------------------------------------


def build_app(index: ArticleIndex, *, writer: ArticleIndex | None = None,
              questions_at_once: int = QUESTIONS_AT_ONCE):
    """The Gradio page over ``index``: the chat, its sources, filters, upload and index status,
    and the ``/ask`` and ``/search`` endpoints for scripts.

    Args:
        index: The index to answer from.
        writer: A second handle on the same folder for uploads (opened on first upload when
            None).
        questions_at_once: Questions (chat, ``/ask`` and ``/search`` together) answered at
            once; more wait in the queue.
    """
    import gradio as gr

    actions = PageActions(index, writer)
    info = actions.info()
    sources, countries = filter_choices(info)

    def chat(question: str, turns: list[dict[str, str]], source: str, country: str,
             since: str | None, until: str | None, today: str | None = None):
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield _chat_display(turns), turns, gr.skip(), gr.skip()
            return
        try:
            check_question(question)  # before it is shown: a stream cannot show what fails
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
            for answer in actions.ask_stream(question, history, filters, today):
                shown[-1] = {"role": "assistant", "content": render_reply(answer, turn)}
                yield shown, turns, gr.skip(), ""
        except (ArticleQAError, ValueError) as error:
            shown[-1] = {"role": "assistant",
                         "content": escape_markdown(f"Could not answer: {error}")}
            yield shown, turns, gr.skip(), ""
            return
        assert answer is not None  # ask_stream always yields the complete answer last
        turns = [*turns, {"question": question, "text": answer.text,
                          "shown": render_reply(answer, turn), "answer": answer}]
        yield (_chat_display(turns), turns,
               render_sources(answer, turn, takes=actions.takes(answer)), "")

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
        except (ArticleQAError, OSError, ValueError) as error:
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
                until: str = "", as_of: str = "") -> str:
        """Answers a question from the articles: the reply with [n] markers, then its sources
        (headline, outlet, country, date, address and the quoted words). ``as_of`` is the
        reader's day (YYYY-MM-DD; the server's today when blank): "this week" counts from
        it."""
        try:
            answer = actions.ask(question, None, make_filters(source, country, since, until),
                                 as_of)
        except (ArticleQAError, ValueError) as error:
            raise gr.Error(str(error)) from None
        return reply_as_text(answer)

    def api_search(question: str, k: int = 5, source: str = "", country: str = "",
                   since: str = "", until: str = "", as_of: str = "") -> list[dict]:
        """The k passages that best match the question, best first, as records (the shape
        of ``articleqa search --json``); ``as_of`` as for ``/ask``."""
        try:
            hits = actions.search(question, k, make_filters(source, country, since, until),
                                  as_of)
        except (ArticleQAError, ValueError) as error:
            raise gr.Error(str(error)) from None
        return [hit_to_json(hit) for hit in hits]

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
        reader_day = gr.Textbox(visible=False, elem_id="aq-today")

        chat_inputs = [question, turns, source_filter, country_filter, since_filter,
                       until_filter, reader_day]
        chat_outputs = [chatbot, turns, sources_panel, question]
        for trigger in (send.click, question.submit):
            trigger(chat, chat_inputs, chat_outputs, api_visibility="private",
                    concurrency_limit=questions_at_once, concurrency_id="questions",
                    show_progress="minimal", show_progress_on=chatbot)
        chatbot.clear(clear, None, chat_outputs, api_visibility="private")
        refreshed = [status, notice, source_filter, country_filter, since_filter, until_filter]
        add.click(upload, [files, upload_source, upload_country, source_filter, country_filter],
                  [upload_report, files, *refreshed], api_visibility="private",
                  concurrency_limit=1, show_progress_on=files)
        page.load(refresh, [source_filter, country_filter], refreshed,
                  api_visibility="private", show_progress="hidden")
        page.load(None, None, reader_day, js=READER_DAY_JS, api_visibility="private",
                  show_progress="hidden")
        gr.api(api_ask, api_name="ask", concurrency_limit=questions_at_once,
               concurrency_id="questions")
        gr.api(api_search, api_name="search", concurrency_limit=questions_at_once,
               concurrency_id="questions")
    page.articleqa_actions = actions  # for tests and for closing the upload handle
    return page


def serve(page, *, host: str = "127.0.0.1", port: int = 7860, block: bool = True,
          quiet: bool = False) -> None:
    """Launches a page from :func:`build_app` with the page's styles and upload bound."""
    page.launch(server_name=host, server_port=port, css=CSS, js=JS,
                max_file_size=MAX_FILE_BYTES, prevent_thread_lock=not block, quiet=quiet)


def _chat_display(turns: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": render_question(turn["question"])})
        messages.append({"role": "assistant", "content": turn["shown"]})
    return messages


def _history(turns: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """The conversation as the index reads it: the questions, and the replies with the
    :class:`~articleqa.answering.Answer` each was made from (kept on the server)."""
    messages: list[dict[str, object]] = []
    for turn in turns:
        messages.append({"role": "user", "content": turn["question"]})
        messages.append({"role": "assistant", "content": turn["text"],
                         "answer": turn.get("answer")})
    return messages


def _still(value: str | None, choices: Sequence[tuple[str, str]]) -> str:
    return value if value and any(value == v for _, v in choices) else ""
