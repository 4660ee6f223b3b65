"""Chat Completions request parts -> neutral types: the fields, messages, response format and
the thinking settings gateways relay (`tools` and `tool_choice` are read by `chat_tools`).

Strict on what we know, lenient on what we don't (`mockserver.protocols.leniency`): a field or
content-part type the API added after this module was written is accepted and noted, unless the
scenario asks for `validation: strict`; a known field with a wrong value gets the API's own error
either way. The legacy `function` role and `function_call` in history are read as tool results
and tool calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.exchange import Attachment, Message, ResponseFormat, ToolCall
from mockserver.protocols import leniency
from mockserver.protocols.openai import validation as v
from mockserver.tokens import media_tokens

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = ("text", "image_url", "input_audio", "refusal", "audio", "file")
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
            raise v.one_of_error(kind, PART_TYPES, f"{part_where}.type")
        if kind not in PART_TYPES:
            leniency.unknown(
                f"unknown content part type '{kind}' at {part_where}",
                v.one_of_error(kind, PART_TYPES, f"{part_where}.type"),
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
            clip = Attachment("audio", f"audio/{fmt}" if fmt else None, size=len(data))
            attachments.append(media_tokens.timed(clip, str(data), fmt))
        else:
            file = part.get("file") or {}
            data = file.get("file_data", "") if isinstance(file, dict) else ""
            attachments.append(Attachment("file", v.data_mime(str(data)), size=len(str(data))))
    return "\n".join(texts), attachments


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


def gateway_thinking(body: Any) -> int | None:
    """What a gateway's client asks of a thinking model behind it: Qwen's `enable_thinking`
    (+ `thinking_budget`), or `thinking: {type: enabled|disabled, budget_tokens}` (DeepSeek,
    Claude through the gateway). A budget (0: no thinking; -1: as the model likes), or None."""
    enabled = v.typed(body, "enable_thinking", "boolean")
    thinking = v.typed(body, "thinking", "object")
    budget = v.typed(body, "thinking_budget", "integer")
    if thinking is not None:
        kind = thinking.get("type")
        v.one_of(kind, ("enabled", "disabled", "auto", "adaptive"), "thinking.type")
        enabled = kind != "disabled"
        tokens = thinking.get("budget_tokens")
        budget = tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else budget
    if enabled is None:
        return None
    if not enabled:
        return 0
    return budget if budget is not None and budget > 0 else -1


def google_thinking(body: Any) -> tuple[bool | None, int | None]:
    """Gemini's OpenAI-compatible thinking settings, `google.thinking_config` (sent with the
    SDK's `extra_body`, also nested once more in `extra_body`, as Google's docs show it):
    `include_thoughts` (None when not given) and `thinking_budget`."""
    google = body.get("google")
    if google is None and isinstance(body.get("extra_body"), dict):
        google = body["extra_body"].get("google")
    config = google.get("thinking_config") if isinstance(google, dict) else None
    if not isinstance(config, dict):
        return None, None
    include = config.get("include_thoughts")
    budget = config.get("thinking_budget")
    return (
        include if isinstance(include, bool) else None,
        budget if isinstance(budget, int) and not isinstance(budget, bool) else None,
    )
