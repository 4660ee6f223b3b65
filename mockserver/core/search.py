"""Server-side web search, neutral: what a search found and which spans of the answer cite it.

Every dialect words it its own way (chat `url_citation` annotations, Responses
`web_search_call` items, Anthropic `web_search_tool_result` blocks, Gemini `groundingMetadata`);
the spans are computed here once so they agree:

    cited_spans("Paris is big. It is old.", 2) -> [Span(0, 13, 0), Span(14, 24, 1)]
"""

from __future__ import annotations

import re

from msgspec import Struct, field

# The neutral name of the hosted search tool in `Exchange.server_tools` (and for `tools:`).
WEB_SEARCH = "web_search"

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


class SearchResult(Struct):
    title: str
    url: str
    snippet: str = ""


class WebSearch(Struct):
    """One search the model ran before answering: its query and what came back."""

    query: str
    results: list[SearchResult] = field(default_factory=list)


class Span(Struct):
    """Characters `start:end` of the answer text cite `results[result]`."""

    start: int
    end: int
    result: int


def cited_spans(text: str, results: int) -> list[Span]:
    """Sentence i of `text` cites result i, for as many sentences as there are results
    (leading and trailing blanks left out of each span); nothing cites when there are none."""
    spans: list[Span] = []
    if results <= 0:
        return spans
    for found in _SENTENCE.finditer(text):
        sentence = found.group()
        stripped = sentence.strip()
        if not stripped:
            continue
        start = found.start() + (len(sentence) - len(sentence.lstrip()))
        spans.append(Span(start, start + len(stripped), len(spans)))
        if len(spans) == results:
            break
    return spans
