"""The names a reply template sees for one request: `match`, `request` and `tool_result`.

`match` holds the regex named groups of the rule that matched (`{{ match.city }}`); the names
are `mockserver.engine.content.templates.CONTEXT_NAMES`, which templates are checked against
at load.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.exchange import Exchange
from mockserver.scenario.matching import Variables


def template_context(exchange: Exchange, variables: Variables) -> dict[str, Any]:
    """The names a reply template can use: `match`, `request` and `tool_result`.

    `tool_result` is None unless the last message is a tool result, so `{% if tool_result %}`
    works and `{{ tool_result.name }}` fails loudly when there is none.
    """
    result = exchange.tool_result
    return {
        "match": dict(variables),
        "request": {
            "model": exchange.model,
            "last_user": exchange.last_user,
            "system": exchange.system,
            "turn": exchange.turn,
            "stream": exchange.stream,
            "n": exchange.n,
            "max_tokens": exchange.max_tokens,
            "messages": [
                {"role": m.role, "text": m.text, "name": m.name} for m in exchange.messages
            ],
            "tools": [tool.name for tool in exchange.tools] + exchange.server_tools,
        },
        "tool_result": None
        if result is None
        else {"name": result.tool_name, "call_id": result.tool_call_id, "content": result.text},
    }
