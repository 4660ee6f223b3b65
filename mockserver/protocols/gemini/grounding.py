"""Grounding with Google Search, in Gemini's words: the `google_search` tool (and the older
`googleSearchRetrieval`) gives the final candidate a `groundingMetadata`:

    webSearchQueries   [the query]
    searchEntryPoint   {renderedContent: the HTML of the "Google Search suggestions" chip}
    groundingChunks    [{web: {uri, title, domain}}]  one per page found
    groundingSupports  [{segment: {startIndex, endIndex, text}, groundingChunkIndices: [i]}]

Segment indices count UTF-8 bytes of the text part, as the API's do. The live API's `uri` is a
`vertexaisearch.cloud.google.com` redirect; here it is the page's own URL, which is what a
scenario scripts and a test wants to see.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote_plus, urlsplit

from mockserver.core.reply import Choice
from mockserver.core.search import cited_spans


def grounding_metadata(choice: Choice) -> dict[str, Any] | None:
    search = choice.search
    if search is None:
        return None
    text = choice.text or ""
    supports = []
    for span in cited_spans(text, len(search.results)):
        start = len(text[: span.start].encode())
        supports.append(
            {
                "segment": {
                    "startIndex": start,
                    "endIndex": start + len(text[span.start : span.end].encode()),
                    "text": text[span.start : span.end],
                },
                "groundingChunkIndices": [span.result],
            }
        )
    chunks = [
        {"web": {"uri": r.url, "title": r.title, "domain": urlsplit(r.url).hostname or ""}}
        for r in search.results
    ]
    query = escape(search.query)
    chip = (
        '<div class="container"><div class="chips">'
        f'<a class="chip" href="https://www.google.com/search?q={quote_plus(search.query)}">'
        f"{query}</a></div></div>"
    )
    return {
        "searchEntryPoint": {"renderedContent": chip},
        "groundingChunks": chunks,
        "groundingSupports": supports,
        "webSearchQueries": [search.query],
    }
