"""The web page: rendering (:mod:`.render`), uploads (:mod:`.uploads`) and the Gradio page
(:mod:`.page`). ``app.py`` serves it."""

from __future__ import annotations

from articleqa.web.page import EXAMPLE_QUESTION, PageActions, build_app, make_filters, serve
from articleqa.web.render import (
    escape_markdown,
    filter_choices,
    highlight,
    render_notice,
    render_question,
    render_reply,
    render_sources,
    render_status,
    reply_as_text,
)
from articleqa.web.uploads import (
    MAX_ARTICLE_FILES,
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    MAX_UPLOAD_FILES,
    StagedUpload,
    render_upload_report,
    stage_uploads,
)

__all__ = [
    "EXAMPLE_QUESTION",
    "MAX_ARTICLE_FILES",
    "MAX_FILE_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_UPLOAD_FILES",
    "PageActions",
    "StagedUpload",
    "build_app",
    "escape_markdown",
    "filter_choices",
    "highlight",
    "make_filters",
    "render_notice",
    "render_question",
    "render_reply",
    "render_sources",
    "render_status",
    "render_upload_report",
    "reply_as_text",
    "serve",
    "stage_uploads",
]
