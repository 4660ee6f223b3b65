"""Chat Completions request parts -> neutral types: messages, tools, tool choice, format.

Strict on what we know, lenient on what we don't (`mockserver.protocols.leniency`): a field,
content-part type or tool type the API added after this module was written is accepted and
noted, unless the scenario asks for `validation: strict`; a known field with a wrong value gets
the API's own error either way. The legacy `functions` / `function_call` pair is read as tools
and a tool choice (the reply then comes back as `message.function_call`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.errors import APIError
from mockserver.core.exchange import Attachment, Message, ResponseFormat, Tool, ToolCall, ToolChoice
from mockserver.protocols import leniency
from mockserver.protocols.openai import validation as v
from mockserver.tokens import media_tokens

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = ("text", "image_url", "input_audio", "refusal", "audio", "file")
TOOL_TYPES = ("function", "custom")
# The Responses API's part types: a known porting mistake the live API refuses, not a new type.
RESPONSES_PART_TYPES = ("input_text", "input_image", "input_file", "output_text")


# `ChatCompletionCreateParams` of openai-python 3.x, plus `stream`; and what gateways relay to
# the models behind them (Qwen's `enable_thinking`, DeepSeek's and Claude's `thinking`, ...).
FIELDS = v.names(
    "audio frequency_penalty function_call functions logit_bias logprobs max_completion_tokens "
    "max_tokens messages metadata modalities model moderation n parallel_tool_calls prediction "
    "presence_penalty prompt_cache_key prompt_cache_options prompt_cache_retention "
    "reasoning_effort response_format safety_identifier seed service_tier stop store stream "
    "stream_options temperature tool_choice tools top_logprobs top_p user verbosity "
    "web_search_options"
)
GATEWAY_FIELDS = v.names(
    "enable_thinking thinking_budget thinking top_k min_p repetition_penalty extra_body "
    "reasoning include_reasoning google"
)
MESSAGE_FIELDS = v.names(
    "role content name tool_calls tool_call_id function_call refusal audio annotations "
    "reasoning_content prefix partial"
)


def unknown_fields(body: Mapping[str, Any]) -> None:
    """Fields no version of the API (or gateway) defines: noted, or refused when strict."""
    for key in body:
        if key not in FIELDS and key not in GATEWAY_FIELDS:
            leniency.unknown(
                f"unknown field '{key}'",
                v.bad(f"Unrecognized request argument supplied: {key}", None, None),
            )


def parse_messages(raw_messages: list[Any]) -> list[Message]:
    messages: list[Message] = []
    call_names: dict[str, str] = {}
    for index, raw in enumerate(raw_messages):
        where = f"messages[{index}]"
        if not isinstance(raw, dict):
            raise v.bad(
                f"Invalid type for '{where}': expected an object, but got {v.describe(raw)} "
                "instead.",
                where,
                "invalid_type",
            )
        role = raw.get("role")
        if role is None:
            raise v.missing(f"{where}.role")
        v.one_of(role, ROLES, f"{where}.role")
        _unknown_message_fields(raw, index)
        content = raw.get("content")
        if "content" not in raw and role in ("system", "developer", "user", "tool"):
            raise v.missing(f"{where}.content")
        text, attachments = _content(content, f"{where}.content")
        name = v.typed(raw, "name", "string", param=f"{where}.name")
        if role in ("system", "developer"):
            messages.append(Message(role="system", text=text, name=name))
        elif role == "user":
            messages.append(Message(role="user", text=text, name=name, attachments=attachments))
        elif role == "assistant":
            calls = _history_calls(raw.get("tool_calls"), f"{where}.tool_calls")
            calls += _history_function_call(raw.get("function_call"), index)
            call_names.update((c.id, c.name) for c in calls)
            messages.append(Message(role="assistant", text=text, name=name, tool_calls=calls))
        elif role == "tool":
            call_id = raw.get("tool_call_id")
            if not isinstance(call_id, str):
                raise v.missing(f"{where}.tool_call_id")
            if call_id not in call_names:
                raise v.bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"{where}.role",
                    None,
                )
            messages.append(
                Message(role="tool", text=text, tool_call_id=call_id, tool_name=call_names[call_id])
            )
        else:  # legacy "function" role: a function result named by `name`
            call_id = _answered_function_call(messages, name)
            messages.append(
                Message(role="tool", text=text, tool_name=name, name=name, tool_call_id=call_id)
            )
    return messages


def _unknown_message_fields(raw: Mapping[str, Any], index: int) -> None:
    for key in raw:
        if key not in MESSAGE_FIELDS:
            leniency.unknown(
                f"unknown field 'messages[{index}].{key}'",
                v.bad(
                    f"Additional properties are not allowed ('{key}' was unexpected) - "
                    f"'messages.{index}'",
                    None,
                    None,
                ),
            )


def _content(content: Any, where: str) -> tuple[str, list[Attachment]]:
    """Text and attachments of a message's content: a string, null, or an array of parts."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise v.bad(
            f"Invalid type for '{where}': expected one of a string or array of objects, but got "
            f"{v.describe(content)} instead.",
            where,
            "invalid_type",
        )
    texts: list[str] = []
    attachments: list[Attachment] = []
    for index, part in enumerate(content):
        part_where = f"{where}[{index}]"
        if not isinstance(part, dict):
            raise v.bad(
                f"Invalid type for '{part_where}': expected an object, but got "
                f"{v.describe(part)} instead.",
                part_where,
                "invalid_type",
            )
        kind = part.get("type")
        if kind is None:
            raise v.missing(f"{part_where}.type")
        if kind in RESPONSES_PART_TYPES:
            raise _one_of_error(kind, PART_TYPES, f"{part_where}.type")
        if kind not in PART_TYPES:
            leniency.unknown(
                f"unknown content part type '{kind}' at {part_where}",
                _one_of_error(kind, PART_TYPES, f"{part_where}.type"),
            )
            continue
        if kind == "text":
            texts.append(v.required_str(part, "text", part_where))
        elif kind == "refusal":
            texts.append(v.required_str(part, "refusal", part_where))
        elif kind == "image_url":
            image = part.get("image_url")
            if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                raise v.missing(f"{part_where}.image_url.url")
            url = image["url"]
            image_part = Attachment("image", v.data_mime(url), image.get("detail"))
            attachments.append(
                media_tokens.sized(image_part, media_tokens.data_url_image_size(url))
            )
        elif kind in ("input_audio", "audio"):
            audio = part.get("input_audio") or part.get("audio") or {}
            fmt = audio.get("format") if isinstance(audio, dict) else None
            data = audio.get("data", "") if isinstance(audio, dict) else ""
            attachments.append(Attachment("audio", f"audio/{fmt}" if fmt else None, size=len(data)))
        else:
            file = part.get("file") or {}
            data = file.get("file_data", "") if isinstance(file, dict) else ""
            attachments.append(Attachment("file", v.data_mime(str(data)), size=len(str(data))))
    return "\n".join(texts), attachments


def _one_of_error(value: Any, allowed: tuple[str, ...], param: str) -> APIError:
    try:
        v.one_of(value, allowed, param)
    except APIError as error:
        return error
    raise AssertionError(f"{value!r} is one of {allowed}")  # pragma: no cover


def _history_calls(raw: Any, where: str) -> list[ToolCall]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise v.bad(
            f"Invalid type for '{where}': expected an array, but got {v.describe(raw)} instead.",
            where,
            "invalid_type",
        )
    calls = []
    for index, call in enumerate(raw):
        if isinstance(call, dict) and call.get("type") == "custom":
            custom = call.get("custom")
            if not isinstance(custom, dict) or not isinstance(custom.get("name"), str):
                raise v.missing(f"{where}[{index}].custom.name")
            text = custom.get("input", "")
            calls.append(ToolCall(str(call.get("id", "")), custom["name"], str(text)))
            continue
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise v.missing(f"{where}[{index}].function.name")
        call_id = call.get("id")
        if not isinstance(call_id, str):
            raise v.missing(f"{where}[{index}].id")
        arguments = function.get("arguments", "")
        calls.append(
            ToolCall(call_id, function["name"], arguments if isinstance(arguments, str) else "")
        )
    return calls


def _history_function_call(raw: Any, index: int) -> list[ToolCall]:
    """A legacy assistant `function_call`, as a tool call with an id made from its place."""
    if raw is None:
        return []
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise v.missing(f"messages[{index}].function_call.name")
    arguments = raw.get("arguments", "")
    call_id = f"function_call_{index}"
    return [ToolCall(call_id, raw["name"], arguments if isinstance(arguments, str) else "")]


def _answered_function_call(messages: list[Message], name: str | None) -> str | None:
    """The id of the latest legacy function call a `function` message answers."""
    for message in reversed(messages):
        for call in message.tool_calls:
            if call.name == name and call.id.startswith("function_call_"):
                return call.id
    return None


def parse_tools(raw: list[Any]) -> list[Tool]:
    tools = []
    for index, tool in enumerate(raw):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise v.bad(
                f"Invalid type for '{where}': expected an object, but got {v.describe(tool)} "
                "instead.",
                where,
                "invalid_type",
            )
        kind = tool.get("type", "function")
        if kind not in TOOL_TYPES:
            # A tool type newer than this module: nothing the mock can call.
            leniency.unknown(
                f"unknown tool type '{kind}' at {where}",
                _one_of_error(kind, TOOL_TYPES, f"{where}.type"),
            )
            continue
        if kind == "custom":
            custom = tool.get("custom")
            if not isinstance(custom, dict) or not isinstance(custom.get("name"), str):
                raise v.missing(f"{where}.custom.name")
            description = str(custom.get("description") or "")
            tools.append(Tool(custom["name"], description, kind="custom"))
            continue
        tools.append(_function(tool.get("function"), f"{where}.function"))
    return tools


def _function(function: Any, where: str) -> Tool:
    if not isinstance(function, dict):
        raise v.missing(where)
    name = function.get("name")
    if not isinstance(name, str):
        raise v.missing(f"{where}.name")
    parameters = function.get("parameters")
    return Tool(
        name,
        str(function.get("description") or ""),
        parameters if isinstance(parameters, dict) else {},
    )


def parse_functions(raw: list[Any]) -> list[Tool]:
    """The legacy `functions` list: one function definition per item."""
    return [_function(function, f"functions[{index}]") for index, function in enumerate(raw)]


def parse_function_call(raw: Any, tools: list[Tool]) -> ToolChoice:
    """The legacy `function_call`: "none", "auto" or `{"name": ...}`."""
    if raw is None:
        return ToolChoice("auto" if tools else "none")
    if isinstance(raw, str):
        v.one_of(raw, ("none", "auto"), "function_call")
        return ToolChoice(raw)  # type: ignore[arg-type]
    name = raw.get("name") if isinstance(raw, dict) else None
    if not isinstance(name, str):
        raise v.missing("function_call.name")
    if not any(t.name == name for t in tools):
        raise v.bad(
            f"Invalid value for 'function_call': function '{name}' not found in 'functions'.",
            "function_call",
            None,
        )
    return ToolChoice("function", name)


def parse_tool_choice(raw: Any, tools: list[Tool]) -> ToolChoice:
    if raw is None:
        return ToolChoice("auto" if tools else "none")
    if isinstance(raw, str):
        v.one_of(raw, ("none", "auto", "required"), "tool_choice")
        if raw != "none" and not tools:
            raise v.bad(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                "specified.",
                "tool_choice",
                None,
            )
        return ToolChoice(raw)  # type: ignore[arg-type]
    if isinstance(raw, dict):
        kind = raw.get("type", "function")
        if kind == "allowed_tools":
            return _allowed_tools(raw.get("allowed_tools"), tools)
        if kind not in TOOL_TYPES:
            leniency.unknown(
                f"unknown tool_choice type '{kind}'",
                _one_of_error(kind, ("function", "custom", "allowed_tools"), "tool_choice"),
            )
            return ToolChoice("auto" if tools else "none")
        named = raw.get(kind)
        name = named.get("name") if isinstance(named, dict) else None
        if not isinstance(name, str):
            raise v.missing(f"tool_choice.{kind}.name")
        return _named(name, tools)
    raise v.bad(
        f"Invalid type for 'tool_choice': expected one of a string or object, but got "
        f"{v.describe(raw)} instead.",
        "tool_choice",
        "invalid_type",
    )


def _named(name: str, tools: list[Tool]) -> ToolChoice:
    if not any(t.name == name for t in tools):
        raise v.bad(
            f"Invalid value for 'tool_choice': tool '{name}' not found in 'tools'.",
            "tool_choice",
            None,
        )
    return ToolChoice("function", name)


def _allowed_tools(raw: Any, tools: list[Tool]) -> ToolChoice:
    """`{type: allowed_tools, allowed_tools: {mode, tools}}`: "auto" as it is; "required"
    calls the first allowed tool (the neutral choice names one tool or none)."""
    if not isinstance(raw, dict):
        raise v.missing("tool_choice.allowed_tools")
    mode = raw.get("mode")
    if mode is None:
        raise v.missing("tool_choice.allowed_tools.mode")
    v.one_of(mode, ("auto", "required"), "tool_choice.allowed_tools.mode")
    allowed = v.typed(raw, "tools", "array", param="tool_choice.allowed_tools.tools")
    if allowed is None:
        raise v.missing("tool_choice.allowed_tools.tools")
    if mode == "auto":
        return ToolChoice("auto" if tools else "none")
    for entry in allowed:
        named = entry.get(entry.get("type", "function")) if isinstance(entry, dict) else None
        name = named.get("name") if isinstance(named, dict) else None
        if isinstance(name, str) and any(t.name == name for t in tools):
            return ToolChoice("function", name)
    return ToolChoice("required")


def parse_response_format(raw: Mapping[str, Any] | None) -> ResponseFormat:
    if raw is None:
        return ResponseFormat()
    kind = raw.get("type")
    if kind is None:
        raise v.missing("response_format.type")
    v.one_of(kind, ("text", "json_object", "json_schema"), "response_format.type")
    if kind != "json_schema":
        return ResponseFormat(kind)
    spec = raw.get("json_schema")
    if not isinstance(spec, dict):
        raise v.missing("response_format.json_schema")
    if not isinstance(spec.get("name"), str):
        raise v.missing("response_format.json_schema.name")
    schema = spec.get("schema")
    return ResponseFormat(
        "json_schema",
        schema if isinstance(schema, dict) else {},
        spec["name"],
        bool(spec.get("strict")),
    )
