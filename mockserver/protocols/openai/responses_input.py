"""Responses API request parts -> neutral types: `input` items, `tools` and `tool_choice`.

`input` is a string (one user message) or a list of items: messages (`role` + `content` as a
string or parts), `function_call` / `function_call_output` pairs, `reasoning` items (accepted,
ignored), `item_reference`s and the hosted tools' call items (accepted, ignored), and
`additional_tools` (tools offered in the conversation, as Codex sends them). A function call
joins the assistant message before it, so one assistant turn stays one `Message`; an output
becomes a role "tool" message named after its call. The live API's pairing rules apply: an output
needs its call, and every call needs its output. An item or content-part type newer than this
module is accepted and noted (`mockserver.protocols.leniency`), or refused with
`validation: strict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import replace

from mockserver.core.errors import APIError
from mockserver.core.exchange import Attachment, Message, Tool, ToolCall, ToolChoice
from mockserver.protocols import leniency
from mockserver.protocols.openai import validation as v
from mockserver.tokens import media_tokens

ROLES = ("assistant", "system", "developer", "user")
PART_TYPES = (
    "input_text",
    "input_image",
    "input_audio",
    "output_text",
    "refusal",
    "input_file",
    "computer_screenshot",
    "summary_text",
    "encrypted_content",
)
ASSISTANT_PART_TYPES = ("output_text", "refusal")
# Chat Completions' part types: a known porting mistake the live API refuses, not a new type.
CHAT_PART_TYPES = ("text", "image_url", "file", "audio")
# Items the live API accepts in `input` that carry nothing matching or usage needs here.
IGNORED_ITEMS = (
    "reasoning",
    "item_reference",
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "web_search_call",
    "image_generation_call",
    "code_interpreter_call",
    "local_shell_call",
    "local_shell_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "mcp_call",
    "compaction",
    "tool_search_call",
    "tool_search_output",
)
CALL_ITEMS = ("function_call", "custom_tool_call")
OUTPUT_ITEMS = ("function_call_output", "custom_tool_call_output")
TOOLS_ITEM = "additional_tools"
ITEM_TYPES = ("message", *CALL_ITEMS, *OUTPUT_ITEMS, *IGNORED_ITEMS, TOOLS_ITEM)


def input_tools(raw: Any) -> list[Tool]:
    """The tools `additional_tools` input items offer (Codex sends its tools this way)."""
    if not isinstance(raw, list):
        return []
    tools: list[Tool] = []
    for item in raw:
        if isinstance(item, dict) and item.get("type") == TOOLS_ITEM:
            offered = item.get("tools")
            if isinstance(offered, list):
                tools.extend(parse_tools([t for t in offered if isinstance(t, dict)], quiet=True))
    return tools


def parse_input(raw: Any, history: list[Message]) -> list[Message]:
    """`history` (instructions, previous response) followed by the messages of `input`."""
    if raw is None:
        items: list[Any] = []
    elif isinstance(raw, str):
        items = [{"type": "message", "role": "user", "content": raw}]
    elif isinstance(raw, list):
        items = raw
    else:
        raise v.bad(
            "Invalid type for 'input': expected one of a string or array of input items, but "
            f"got {v.describe(raw)} instead.",
            "input",
            "invalid_type",
        )
    messages = list(history)
    call_names = {call.id: call.name for m in history for call in m.tool_calls}
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise v.bad(
                f"Invalid type for '{where}': expected an input item, but got "
                f"{v.describe(item)} instead.",
                where,
                "invalid_type",
            )
        kind = item.get("type", "message" if "role" in item else None)
        if kind is None:
            raise v.missing(f"{where}.type")
        if kind not in ITEM_TYPES:
            # An item type newer than this module: nothing here to match or count.
            leniency.unknown(
                f"unknown input item type '{kind}' at {where}",
                _one_of_error(kind, ITEM_TYPES, f"{where}.type"),
            )
            continue
        if kind == "message":
            messages.append(_message(item, where))
        elif kind in CALL_ITEMS:
            call = _call(item, where, kind)
            call_names[call.id] = call.name
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant":
                # Never mutate: `last` may belong to a stored conversation.
                messages[-1] = replace(last, tool_calls=[*last.tool_calls, call])
            else:
                messages.append(Message(role="assistant", tool_calls=[call]))
        elif kind in OUTPUT_ITEMS:
            messages.append(_output(item, where, call_names))
        elif kind == "reasoning" and not isinstance(item.get("summary"), list):
            raise v.missing(f"{where}.summary")
    _require_outputs(messages)
    return messages


def _message(item: Mapping[str, Any], where: str) -> Message:
    role = item.get("role")
    if role is None:
        raise v.missing(f"{where}.role")
    v.one_of(role, ROLES, f"{where}.role")
    if "content" not in item:
        raise v.missing(f"{where}.content")
    allowed = ASSISTANT_PART_TYPES if role == "assistant" else PART_TYPES
    text, attachments = content_text(item["content"], f"{where}.content", allowed)
    if role in ("system", "developer"):
        return Message(role="system", text=text)
    if role == "assistant":
        return Message(role="assistant", text=text)
    return Message(role="user", text=text, attachments=attachments)


def content_text(
    content: Any, where: str, allowed: tuple[str, ...] = PART_TYPES
) -> tuple[str, list[Attachment]]:
    """Text (parts joined with newlines) and attachments of a string or an array of parts."""
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise v.bad(
            f"Invalid type for '{where}': expected one of a string or array of input content, "
            f"but got {v.describe(content)} instead.",
            where,
            "invalid_type",
        )
    texts: list[str] = []
    attachments: list[Attachment] = []
    for index, part in enumerate(content):
        at = f"{where}[{index}]"
        if not isinstance(part, dict):
            raise v.bad(
                f"Invalid type for '{at}': expected an object, but got {v.describe(part)} instead.",
                at,
                "invalid_type",
            )
        kind = part.get("type")
        if kind is None:
            raise v.missing(f"{at}.type")
        if kind not in PART_TYPES and kind not in CHAT_PART_TYPES:
            leniency.unknown(
                f"unknown content part type '{kind}' at {at}",
                _one_of_error(kind, allowed, f"{at}.type"),
            )
            continue
        _one_of(kind, allowed, f"{at}.type")
        if kind in ("input_text", "output_text", "summary_text"):
            texts.append(v.required_str(part, "text", at))
        elif kind == "refusal":
            texts.append(v.required_str(part, "refusal", at))
        elif kind in ("input_image", "computer_screenshot"):
            url = part.get("image_url")
            mime = v.data_mime(url) if isinstance(url, str) else None
            image = Attachment("image", mime, part.get("detail") or "auto")
            size = media_tokens.data_url_image_size(url) if isinstance(url, str) else None
            attachments.append(media_tokens.sized(image, size))
        elif kind == "input_audio":
            audio = part.get("input_audio")
            audio = audio if isinstance(audio, dict) else {}
            fmt, data = audio.get("format"), str(audio.get("data") or "")
            attachments.append(Attachment("audio", f"audio/{fmt}" if fmt else None, size=len(data)))
        elif kind == "input_file":
            file_data = part.get("file_data")
            file_data = file_data if isinstance(file_data, str) else ""
            attachments.append(Attachment("file", v.data_mime(file_data), size=len(file_data)))
    return "\n".join(texts), attachments


def _call(item: Mapping[str, Any], where: str, kind: str) -> ToolCall:
    payload = "arguments" if kind == "function_call" else "input"
    for key in ("call_id", "name", payload):
        if not isinstance(item.get(key), str):
            raise v.missing(f"{where}.{key}")
    return ToolCall(item["call_id"], item["name"], item[payload])


def _output(item: Mapping[str, Any], where: str, call_names: Mapping[str, str]) -> Message:
    call_id = item.get("call_id")
    if not isinstance(call_id, str):
        raise v.missing(f"{where}.call_id")
    if "output" not in item:
        raise v.missing(f"{where}.output")
    if call_id not in call_names:
        raise v.bad(
            f"No tool call found for function call output with call_id {call_id}.", "input", None
        )
    text, attachments = content_text(item["output"], f"{where}.output")
    return Message(
        role="tool",
        text=text,
        tool_call_id=call_id,
        tool_name=call_names[call_id],
        attachments=attachments,
    )


def _require_outputs(messages: list[Message]) -> None:
    """The live API rejects a conversation with a function call that has no output."""
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    for message in messages:
        for call in message.tool_calls:
            if call.id not in answered:
                raise v.bad(f"No tool output found for function call {call.id}.", "input", None)


def parse_tools(raw: list[Any], *, quiet: bool = False) -> list[Tool]:
    """Function (and custom) tools as neutral `Tool`s; hosted tools are accepted and skipped.
    `quiet`: a malformed tool is skipped, not refused (tools offered inside `input`)."""
    tools: list[Tool] = []
    for index, tool in enumerate(raw):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise v.bad(
                f"Invalid type for '{where}': expected an object, but got {v.describe(tool)} "
                "instead.",
                where,
                "invalid_type",
            )
        kind = tool.get("type")
        if not isinstance(kind, str):
            if quiet:
                continue
            raise v.missing(f"{where}.type")
        if kind == "namespace":
            nested = [t for t in tool.get("tools") or [] if isinstance(t, dict)]
            tools.extend(parse_tools(nested, quiet=quiet))
        if kind not in ("function", "custom"):
            continue
        name = tool.get("name")
        if not isinstance(name, str):
            if quiet:
                continue
            raise v.missing(f"{where}.name")
        parameters = tool.get("parameters")
        tools.append(
            Tool(
                name,
                str(tool.get("description") or ""),
                parameters if isinstance(parameters, dict) else {},
                kind="custom" if kind == "custom" else "function",
            )
        )
    return tools


def parse_tool_choice(raw: Any, tools: list[Tool], *, hosted: bool = False) -> ToolChoice:
    """`"auto" | "none" | "required"` or `{type: "function", name}` (and the hosted variants)."""
    if raw is None:
        return ToolChoice("auto" if tools else "none")
    if isinstance(raw, str):
        v.one_of(raw, ("none", "auto", "required"), "tool_choice")
        if raw == "required" and not tools and not hosted:  # a hosted tool can be required
            raise v.bad(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                "specified.",
                "tool_choice",
                None,
            )
        return ToolChoice(raw)  # type: ignore[arg-type]
    if not isinstance(raw, dict):
        raise v.bad(
            "Invalid type for 'tool_choice': expected one of a string or object, but got "
            f"{v.describe(raw)} instead.",
            "tool_choice",
            "invalid_type",
        )
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise v.missing("tool_choice.type")
    if kind == "allowed_tools":
        return ToolChoice("required" if raw.get("mode") == "required" else "auto")
    if kind not in ("function", "custom"):
        return ToolChoice("auto")  # a hosted tool: nothing the neutral reply can force
    name = raw.get("name")
    if not isinstance(name, str):
        raise v.missing("tool_choice.name")
    if not any(tool.name == name for tool in tools):
        raise v.bad(
            f"Invalid value for 'tool_choice': tool '{name}' not found in 'tools'.",
            "tool_choice",
            None,
        )
    return ToolChoice("function", name)


def _one_of_error(value: Any, allowed: tuple[str, ...], param: str) -> APIError:
    """The error `_one_of` raises for `value`."""
    try:
        _one_of(value, allowed, param)
    except APIError as error:
        return error
    raise AssertionError(f"{value!r} is one of {allowed}")


def _one_of(value: Any, allowed: tuple[str, ...], param: str) -> None:
    """`validation.one_of`, but two values read "'a' and 'b'" as the API writes them."""
    if len(allowed) == 2 and value not in allowed:
        raise v.bad(
            f"Invalid value: '{value}'. Supported values are: '{allowed[0]}' and '{allowed[1]}'.",
            param,
            "invalid_value",
        )
    v.one_of(value, allowed, param)
