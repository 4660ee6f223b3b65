"""Gemini's hosted tools on the wire: which ones a request offers, and what the code execution
and URL context tools add to a candidate.

    {"codeExecution": {}}  -> parts  executableCode {language: PYTHON, code},
                                     codeExecutionResult {outcome: OUTCOME_OK, output}, then text
    {"urlContext": {}}     -> urlContextMetadata {urlMetadata: [{retrievedUrl,
                                     urlRetrievalStatus: URL_RETRIEVAL_STATUS_SUCCESS}]}
    {"googleSearch": {}}   -> groundingMetadata (`mockserver.protocols.gemini.grounding`)
"""

from __future__ import annotations

from typing import Any

from mockserver.core.hosted import CODE_EXECUTION, URL_CONTEXT
from mockserver.core.reply import Choice
from mockserver.core.search import WEB_SEARCH
from mockserver.protocols.gemini.proto import pick

# Tool fields (camelCase, as `pick` also reads snake_case) and their neutral names.
HOSTED = {
    "googleSearch": WEB_SEARCH,
    "googleSearchRetrieval": WEB_SEARCH,
    "codeExecution": CODE_EXECUTION,
    "urlContext": URL_CONTEXT,
}


def server_tools(body: Any) -> list[str]:
    tools = pick(body, "tools") if isinstance(body, dict) else None
    offered: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        for field, name in HOSTED.items():
            if pick(tool, field) is not None and name not in offered:
                offered.append(name)
    return offered


def code_parts(choice: Choice) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for run in choice.code_runs:
        parts.append({"executableCode": {"language": "PYTHON", "code": run.code}})
        result = {"outcome": f"OUTCOME_{run.outcome.upper()}", "output": run.output}
        parts.append({"codeExecutionResult": result})
    return parts


def url_context_metadata(choice: Choice) -> dict[str, Any]:
    return {
        "urlMetadata": [
            {
                "retrievedUrl": fetch.url,
                "urlRetrievalStatus": f"URL_RETRIEVAL_STATUS_{fetch.status.upper()}",
            }
            for fetch in choice.url_fetches
        ]
    }
