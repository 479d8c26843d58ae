"""The web page: a Gradio search page over an index. Presentation only; no retrieval logic.

Article text is always escaped before it reaches the page: markup inside an article is shown
as text, never rendered or run.
"""

from __future__ import annotations

import html

from articleqa.index import ArticleIndex
from articleqa.retrieval import Hit

CSS = """
.aq-hit { border: 1px solid #ddd; border-radius: 8px; padding: 10px 14px; margin: 8px 0; }
.aq-meta { color: #555; font-size: 0.9em; margin-bottom: 6px; }
.aq-text { white-space: pre-wrap; }
"""


def render_hits(question: str, hits: list[Hit]) -> str:
    """Search hits as safe HTML: every piece of article text is escaped."""
    if not hits:
        return f"<p>No passages found for <q>{html.escape(question)}</q>.</p>"
    parts = []
    for rank, hit in enumerate(hits, start=1):
        article = hit.article
        meta = " · ".join(
            html.escape(str(value))
            for value in (article.source, article.country, article.published)
            if value
        )
        title = html.escape(article.title)
        if article.url and article.url.startswith(("http://", "https://")):
            link = html.escape(article.url)
            title = f'<a href="{link}" target="_blank" rel="noopener">{title}</a>'
        parts.append(
            f'<div class="aq-hit"><div><b>{rank}. {title}</b></div>'
            f'<div class="aq-meta">{meta} · score {hit.score:.3f}</div>'
            f'<div class="aq-text">{html.escape(hit.text)}</div></div>'
        )
    return "\n".join(parts)


def render_status(index: ArticleIndex) -> str:
    """One line on what the index holds, or how to fill it when it is empty."""
    info = index.info()
    if not info["articles"]:
        return (
            f"The index at `{info['path']}` is empty. Add articles with "
            f"`articleqa ingest --index {info['path']} FOLDER`, or start the page with "
            f"`python app.py --articles FOLDER`."
        )
    first, last = info["published"]
    dates = f", published {first} to {last}" if first else ""
    return (
        f"{info['articles']} articles, {info['passages']} passages from "
        f"{', '.join(info['sources']) or 'unknown outlets'}{dates}. Model: {info['model']}."
    )


def build_app(index: ArticleIndex):
    """The Gradio page for ``index``: a question box, a passage count, and the hits."""
    import gradio as gr

    def search(question: str, k: float) -> str:
        if not question or not question.strip():
            return "<p>Type a question first.</p>"
        return render_hits(question, index.search_one(question, k=int(k)))

    with gr.Blocks(title="articleqa") as page:
        gr.Markdown("# articleqa\nAsk the news archive; see the passages that answer.")
        status = gr.Markdown(render_status(index), elem_id="status")
        with gr.Row():
            question = gr.Textbox(label="Question", scale=4, elem_id="question",
                                  placeholder="What did Hammouchi say about cybercrime?")
            k = gr.Slider(1, 20, value=5, step=1, label="Passages", scale=1)
        ask = gr.Button("Search", variant="primary", elem_id="search")
        results = gr.HTML(elem_id="results")
        ask.click(search, [question, k], results, api_name="search")
        question.submit(search, [question, k], results, api_name=False)
        page.load(lambda: render_status(index), None, status, api_name=False)
    return page
