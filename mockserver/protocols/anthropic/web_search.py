"""Web search in Anthropic's words: the `web_search_20250305` server tool.

The message opens with the search Claude ran and what it found, then the answer as text
blocks, each cited sentence its own block with a `web_search_result_location` citation:

    server_tool_use        {id: srvtoolu_…, name: web_search, input: {query}}
    web_search_tool_result {tool_use_id, content: [{type: web_search_result, url, title, …}]}
    text                   {text, citations: [{type: web_search_result_location, cited_text, …}]}
    usage.server_tool_use  {web_search_requests: 1, web_fetch_requests: 0}
"""

from __future__ import annotations

from typing import Any

from mockserver.core import ids
from mockserver.core.reply import Choice
from mockserver.core.search import WEB_SEARCH, WebSearch, cited_spans

TOOL_TYPE_PREFIX = "web_search_"  # web_search_20250305, web_search_20260209...


def server_tools(raw_tools: Any) -> list[str]:
    if not isinstance(raw_tools, list):
        return []
    for tool in raw_tools:
        kind = tool.get("type") if isinstance(tool, dict) else None
        if isinstance(kind, str) and kind.startswith(TOOL_TYPE_PREFIX):
            return [WEB_SEARCH]
    return []


def server_tool_use_id(key: str) -> str:
    return "srvtoolu_01" + ids.base62(key, "srvtoolu", 22)


def server_tool_use(key: str, search: WebSearch) -> dict[str, Any]:
    return {
        "type": "server_tool_use",
        "id": server_tool_use_id(key),
        "name": "web_search",
        "input": {"query": search.query},
    }


def search_result(key: str, search: WebSearch) -> dict[str, Any]:
    return {
        "type": "web_search_tool_result",
        "tool_use_id": server_tool_use_id(key),
        "content": [
            {
                "type": "web_search_result",
                "title": result.title,
                "url": result.url,
                "encrypted_content": ids.base62(result.url, "encrypted_content", 64),
                "page_age": None,
            }
            for result in search.results
        ],
    }


def usage(choice: Choice | None) -> dict[str, Any]:
    """The `server_tool_use` usage entry, empty when nothing was searched."""
    if choice is None or choice.search is None:
        return {}
    return {"server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0}}


def text_blocks(
    choice: Choice, text: str, pieces: list[str]
) -> list[tuple[dict[str, Any], list[str]]]:
    """The answer cut into text blocks, each with its stream pieces: a cited sentence (with
    the blanks before it) is a block with its citation, what follows the last one another."""
    search = choice.search
    assert search is not None
    cuts: list[tuple[int, dict[str, Any] | None]] = []
    for span in cited_spans(text, len(search.results)):
        result = search.results[span.result]
        citation: dict[str, Any] = {
            "type": "web_search_result_location",
            "cited_text": text[span.start : span.end],
            "url": result.url,
            "title": result.title,
            "encrypted_index": ids.base62(f"{result.url}\x1f{span.start}", "encrypted_index", 48),
        }
        cuts.append((span.end, citation))
    if not cuts or cuts[-1][0] < len(text):
        cuts.append((len(text), None))
    blocks: list[tuple[dict[str, Any], list[str]]] = []
    start = 0
    for end, cited in cuts:
        block: dict[str, Any] = {"type": "text", "text": text[start:end]}
        if cited is not None:
            block["citations"] = [cited]
        blocks.append((block, _pieces_between(pieces, start, end)))
        start = end
    return blocks


def _pieces_between(pieces: list[str], start: int, end: int) -> list[str]:
    """The parts of `pieces` (which join to the whole text) that fall in `start:end`."""
    out: list[str] = []
    position = 0
    for piece in pieces:
        piece_end = position + len(piece)
        if piece_end > start and position < end:
            out.append(piece[max(start - position, 0) : end - position])
        position = piece_end
    return [piece for piece in out if piece]
