"""Realtime conversation items: checked as the API checks them, and read into neutral messages.

An item is kept as the client sent it (with the id the server gave it); the neutral
conversation a response answers is read from the items each time:

    message (system/user/assistant)  -> Message, its text the parts' text or transcript
    function_call                    -> an assistant Message with the call (runs merged)
    function_call_output             -> a tool Message answering the call
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.core.errors import APIError
from mockserver.core.exchange import Message, Tool, ToolCall, ToolChoice

ITEM_TYPES = ("message", "function_call", "function_call_output")
ROLES = ("user", "assistant", "system")
# Content part types each role takes (GA words, then the beta's).
PART_TYPES = {
    "user": ("input_text", "input_audio", "input_image", "item_reference"),
    "system": ("input_text",),
    "assistant": ("output_text", "output_audio", "text", "audio"),
}


def invalid(message: str, param: str | None = None, code: str = "invalid_value") -> APIError:
    return APIError(400, message, type="invalid_request_error", code=code, param=param)


def missing(param: str) -> APIError:
    return invalid(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def check_item(item: Any, param: str = "item") -> dict[str, Any]:
    """The item, or the API's error naming what is wrong with it."""
    if not isinstance(item, dict):
        raise invalid(f"Invalid type for '{param}': expected an object.", param, "invalid_type")
    kind = item.get("type")
    if kind is None:
        raise missing(f"{param}.type")
    if kind not in ITEM_TYPES:
        raise invalid(
            f"Invalid value: '{kind}'. Supported values are: "
            + ", ".join(f"'{t}'" for t in ITEM_TYPES)
            + ".",
            f"{param}.type",
        )
    if kind == "message":
        role = item.get("role")
        if role is None:
            raise missing(f"{param}.role")
        if role not in ROLES:
            raise invalid(
                f"Invalid value: '{role}'. Supported values are: 'user', 'assistant', 'system'.",
                f"{param}.role",
            )
        content = item.get("content")
        if not isinstance(content, list):
            raise missing(f"{param}.content")
        for index, part in enumerate(content):
            where = f"{param}.content[{index}]"
            if not isinstance(part, dict) or "type" not in part:
                raise missing(f"{where}.type")
            if part["type"] not in PART_TYPES[role]:
                allowed = ", ".join(f"'{t}'" for t in PART_TYPES[role])
                raise invalid(
                    f"Invalid value: '{part['type']}'. Supported values are: {allowed}.",
                    f"{where}.type",
                )
    elif kind == "function_call":
        for name in ("name", "arguments"):
            if not isinstance(item.get(name), str):
                raise missing(f"{param}.{name}")
    else:
        for name in ("call_id", "output"):
            if not isinstance(item.get(name), str):
                raise missing(f"{param}.{name}")
    return item


def audio_bytes(item: Mapping[str, Any]) -> int:
    """The pcm16 bytes an item's `input_audio` parts carry (base64, ignored when not)."""
    total = 0
    for part in item.get("content") or []:
        audio = part.get("audio") if isinstance(part, dict) else None
        if isinstance(audio, str):
            try:
                total += len(base64.b64decode(audio, validate=True))
            except (binascii.Error, ValueError):
                raise invalid(
                    "Invalid 'item.content.audio'. Expected base64-encoded audio bytes.",
                    "item.content.audio",
                ) from None
    return total


def without_audio(item: dict[str, Any]) -> dict[str, Any]:
    """The item with its audio data replaced by its size: what a response's request carries
    (the journal, the retry group's hash) needs no megabytes of base64."""
    content = item.get("content")
    if not isinstance(content, list) or not any("audio" in part for part in content):
        return item
    parts = [
        {**part, "audio": f"<{len(part['audio'])} base64 characters>"}
        if isinstance(part.get("audio"), str)
        else part
        for part in content
    ]
    return {**item, "content": parts}


def part_text(part: Mapping[str, Any]) -> str:
    text = part.get("text")
    if isinstance(text, str):
        return text
    transcript = part.get("transcript")
    return transcript if isinstance(transcript, str) else ""


def messages_of(items: Sequence[Mapping[str, Any]]) -> list[Message]:
    """The conversation the items make, in order."""
    messages: list[Message] = []
    names: dict[str, str] = {}
    for item in items:
        kind = item.get("type")
        if kind == "message":
            text = "\n".join(t for t in map(part_text, item.get("content") or []) if t)
            messages.append(Message(role=item["role"], text=text))
        elif kind == "function_call":
            call_id = str(item.get("call_id") or item.get("id") or "")
            call = ToolCall(call_id, str(item["name"]), str(item["arguments"]))
            names[call_id] = call.name
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant" and last.tool_calls and not last.text:
                last.tool_calls.append(call)
            else:
                messages.append(Message(role="assistant", tool_calls=[call]))
        elif kind == "function_call_output":
            call_id = str(item["call_id"])
            messages.append(
                Message(
                    role="tool",
                    text=str(item["output"]),
                    tool_call_id=call_id,
                    tool_name=names.get(call_id),
                )
            )
    return messages


def tools_of(raw: Any) -> list[Tool]:
    """Function tools (`{type: function, name, description, parameters}`)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(
            "Invalid type for 'session.tools': expected an array.", "tools", "invalid_type"
        )
    tools = []
    for index, tool in enumerate(raw):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise missing(f"tools[{index}].name")
        if tool.get("type", "function") != "function":
            continue  # MCP servers: nothing of ours calls them
        parameters = tool.get("parameters")
        tools.append(
            Tool(
                name=tool["name"],
                description=str(tool.get("description") or ""),
                parameters=parameters if isinstance(parameters, dict) else {},
            )
        )
    return tools


def tool_choice_of(raw: Any, tools: Sequence[Tool]) -> ToolChoice:
    if raw is None or raw == "auto":
        return ToolChoice()
    if raw in ("none", "required"):
        return ToolChoice(mode=raw)
    if isinstance(raw, dict) and raw.get("type") == "function":
        name = raw.get("name")
        if not any(tool.name == name for tool in tools):
            raise invalid(
                f"Tool choice '{name}' not found in 'tools' parameter.", "tool_choice.name"
            )
        return ToolChoice(mode="function", name=str(name))
    raise invalid(
        f"Invalid value: {raw!r}. Supported values are: 'auto', 'none', 'required', or a function.",
        "tool_choice",
    )
