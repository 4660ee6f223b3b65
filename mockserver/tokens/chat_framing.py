"""Prompt tokens of a chat request: OpenAI's chat framing around the counted texts.

Follows the OpenAI cookbook "How_to_count_tokens_with_tiktoken": every message is wrapped in a
few tokens, tool definitions cost the notebook's `num_tokens_for_tools` arithmetic, images
cost OpenAI's published formula for their size (`media_tokens`), other attachments fixed
amounts. For the cookbook's six-message example `chat_prompt_tokens` gives 124 with o200k_base
and 129 with cl100k_base, as the API reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from mockserver.core.exchange import Attachment, Exchange, Message, ResponseFormat, Tool
from mockserver.tokens import media_tokens
from mockserver.tokens.tokenizer import Tokenizer

# OpenAI cookbook "How_to_count_tokens_with_tiktoken", verified there against the API for
# gpt-3.5-turbo, gpt-4, gpt-4o and gpt-4o-mini: every message is wrapped in 3 tokens
# (<|start|>{role}<|message|>...<|end|>), a name adds 1, and the reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3

# Images are counted from their size (media_tokens); audio and documents at fixed amounts.
FILE_TOKENS = 1000  # about two pages of text


class _ToolOverhead(NamedTuple):
    function: int
    properties: int
    property_key: int
    enum: int
    enum_item: int
    end: int


# The cookbook's `num_tokens_for_tools` constants: gpt-4o family (o200k) and gpt-3.5/4 (cl100k).
_TOOL_OVERHEAD = {
    "o200k_base": _ToolOverhead(7, 3, 3, -3, 3, 12),
    "cl100k_base": _ToolOverhead(10, 3, 3, -3, 3, 12),
}


def attachment_tokens(attachment: Attachment, model: str = "") -> int:
    if attachment.kind == "image":
        return media_tokens.image_tokens(attachment, "openai", model)
    if attachment.kind == "audio":
        return media_tokens.audio_tokens(attachment, "openai")
    return FILE_TOKENS


def message_tokens(message: Message, tokenizer: Tokenizer, model: str = "") -> int:
    """One message with its framing; a tool call in the history counts its name and arguments
    (an approximation: the hidden wrapping of calls is not published)."""
    total = TOKENS_PER_MESSAGE + tokenizer.count(message.role) + tokenizer.count(message.text)
    if message.name:
        total += TOKENS_PER_NAME + tokenizer.count(message.name)
    for call in message.tool_calls:
        total += tokenizer.count(call.name) + tokenizer.count(call.arguments)
    return total + sum(attachment_tokens(a, model) for a in message.attachments)


def _without_final_period(text: str) -> str:
    return text[:-1] if text.endswith(".") else text


def _properties_tokens(
    properties: Mapping[str, Any], tokenizer: Tokenizer, overhead: _ToolOverhead
) -> int:
    """The cookbook's per-property arithmetic; nested object properties (which the cookbook
    does not cover) are counted the same way, recursively."""
    total = overhead.properties
    for key, schema in properties.items():
        schema = schema if isinstance(schema, Mapping) else {}
        total += overhead.property_key
        if isinstance(enum := schema.get("enum"), list):
            total += overhead.enum
            for item in enum:
                text = item if isinstance(item, str) else json.dumps(item)
                total += overhead.enum_item + tokenizer.count(text)
        kind = schema.get("type", "")
        kind = ",".join(map(str, kind)) if isinstance(kind, list) else str(kind)
        description = _without_final_period(str(schema.get("description", "")))
        total += tokenizer.count(f"{key}:{kind}:{description}")
        items = schema.get("items")
        nested_items = items.get("properties") if isinstance(items, Mapping) else None
        for nested in (schema.get("properties"), nested_items):
            if isinstance(nested, Mapping) and nested:
                total += _properties_tokens(nested, tokenizer, overhead)
    return total


def tools_tokens(tools: Iterable[Tool], tokenizer: Tokenizer) -> int:
    """Tool definitions as the cookbook's `num_tokens_for_tools` counts them (0 for none)."""
    tools = list(tools)
    if not tools:
        return 0
    overhead = _TOOL_OVERHEAD.get(tokenizer.name, _TOOL_OVERHEAD["o200k_base"])
    total = overhead.end
    for tool in tools:
        total += overhead.function
        total += tokenizer.count(f"{tool.name}:{_without_final_period(tool.description)}")
        properties = tool.parameters.get("properties")
        if isinstance(properties, Mapping) and properties:
            total += _properties_tokens(properties, tokenizer, overhead)
    return total


def response_format_tokens(response_format: ResponseFormat, tokenizer: Tokenizer) -> int:
    """A json_schema counts as its compact JSON text plus its name (an approximation: the
    server-side rendering of the schema is not published)."""
    if response_format.type != "json_schema" or response_format.schema is None:
        return 0
    schema = json.dumps(response_format.schema, ensure_ascii=False, separators=(",", ":"))
    return tokenizer.count(schema) + tokenizer.count(response_format.name or "")


def chat_prompt_tokens(exchange: Exchange, tokenizer: Tokenizer) -> int:
    """Prompt tokens of a chat request: messages, tool definitions and response schema."""
    return (
        sum(message_tokens(m, tokenizer, exchange.model) for m in exchange.messages)
        + REPLY_PRIMING
        + tools_tokens(exchange.tools, tokenizer)
        + response_format_tokens(exchange.response_format, tokenizer)
    )
