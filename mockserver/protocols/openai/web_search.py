"""Web search in OpenAI's words: search models and `web_search_options` in Chat Completions,
the hosted `web_search` tool in Responses; `url_citation` annotations in both.

    chat:      {"type": "url_citation", "url_citation": {start_index, end_index, title, url}}
    responses: {"type": "url_citation", start_index, end_index, title, url}
"""

from __future__ import annotations

from typing import Any

from mockserver.core.reply import Choice
from mockserver.core.search import WEB_SEARCH, cited_spans

# Hosted tool types of the Responses API that search the web.
RESPONSES_TOOLS = ("web_search", "web_search_preview", "web_search_2025_08_26")


def is_search_model(model: str) -> bool:
    """`gpt-4o-search-preview`, `gpt-5-search-api`...: the models that search in Chat."""
    return "-search-" in model or model.endswith("-search")


def chat_searches(model: str, body: Any) -> list[str]:
    """Search models always search; others (other vendors' models, through the gateway) when
    `web_search_options` is given (OpenAI's own refuse it: `ChatDialect.check_request`)."""
    asked = isinstance(body.get("web_search_options"), dict)  # `{}` asks too
    if is_search_model(model) or asked:
        return [WEB_SEARCH]
    return []


def responses_searches(raw_tools: Any) -> list[str]:
    if not isinstance(raw_tools, list):
        return []
    offered = any(isinstance(t, dict) and t.get("type") in RESPONSES_TOOLS for t in raw_tools)
    return [WEB_SEARCH] if offered else []


def citations(choice: Choice, *, nested: bool) -> list[dict[str, Any]]:
    """`url_citation` annotations on the choice's text; `nested` is Chat Completions' shape."""
    search = choice.search
    if search is None or not choice.text:
        return []
    annotations: list[dict[str, Any]] = []
    for span in cited_spans(choice.text, len(search.results)):
        result = search.results[span.result]
        fields = {
            "end_index": span.end,
            "start_index": span.start,
            "title": result.title,
            "url": result.url,
        }
        if nested:
            annotations.append({"type": "url_citation", "url_citation": fields})
        else:
            annotations.append({"type": "url_citation", **fields})
    return annotations


def search_call(choice: Choice, body: Any) -> dict[str, Any]:
    """The `web_search_call` output item (its id added by the caller); the pages it found
    are listed only when `include` asks for `web_search_call.action.sources`."""
    search = choice.search
    assert search is not None
    action: dict[str, Any] = {"type": "search", "query": search.query}
    include = body.get("include")
    if isinstance(include, list) and "web_search_call.action.sources" in include:
        action["sources"] = [{"type": "url", "url": result.url} for result in search.results]
    return {"type": "web_search_call", "status": "completed", "action": action}
