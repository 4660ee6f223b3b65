"""Hosted tools other than web search, neutral: code the model ran, pages it fetched.

The vendor runs these itself (Gemini's `codeExecution` and `urlContext` tools); a reply shows
what they did next to its text. Their neutral names in `Exchange.server_tools` (and for the
`tools:` match key) are the constants below.
"""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

CODE_EXECUTION = "code_execution"
URL_CONTEXT = "url_context"

Outcome = Literal["ok", "failed", "deadline_exceeded"]
FetchStatus = Literal["success", "error", "paywall", "unsafe"]


class CodeRun(Struct):
    """Python the model wrote and ran, and what it printed."""

    code: str
    output: str = ""
    outcome: Outcome = "ok"


class UrlFetch(Struct):
    """A page the model read (URL context), and whether it could."""

    url: str
    status: FetchStatus = "success"
