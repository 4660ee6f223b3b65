"""Anthropic Messages request validation, with the live API's rules and wording.

Errors name the location the way the API's validator does, tagged unions included:

    messages.0.content.1.image.source.base64.media_type: Input should be 'image/jpeg', ...
    tools.0.custom.input_schema: Field required
    thinking.enabled.budget_tokens: Input should be greater than or equal to 1024

Content is flattened to neutral messages: the system prompt first, text parts joined with "\n",
images and documents as attachments, each `tool_result` as a role "tool" message named after the
`tool_use` it answers. Server tools (web search, code execution, ...) are accepted and ignored:
they run on Anthropic's side, so the mock neither lists nor calls them.

Strict on what we know, lenient on what we don't (`mockserver.protocols.leniency`): a field,
block type or tool type newer than this module is accepted and noted, and refused with the API's
"Extra inputs are not permitted" / tag error only under `validation: strict`. A `system` message
inside `messages` is taken when the request carries a beta that allows one (Claude Code sends
`mid-conversation-*` / `per-turn-control-*` betas), refused as the API does otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from msgspec import Struct, field

from mockserver.core.errors import APIError
from mockserver.core.exchange import (
    Attachment,
    Message,
    ResponseFormat,
    Role,
    Tool,
    ToolCall,
    ToolChoice,
)
from mockserver.protocols import leniency
from mockserver.tokens import media_tokens


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


# `MessageCreateParams` of anthropic-python 2.x and its beta variant (body fields; `betas`
# travels as the `anthropic-beta` header).
TOP_LEVEL = _names(
    "model messages max_tokens system stop_sequences stream temperature top_p top_k metadata "
    "tools tool_choice thinking service_tier output_config output_format container "
    "context_management mcp_servers inference_geo speed cache_control diagnostics "
    "user_profile_id workspace_id compaction thread fallbacks billing_policy "
    "fallback_credit_token"
)
# Betas under which `messages` may hold `system` messages (and per-message settings).
SYSTEM_MESSAGE_BETAS = re.compile(r"^(?:mid-conversation-|per-turn-control-)")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
# Anthropic-defined tools are versioned by date ("web_search_20250305"), plus the MCP toolset.
SERVER_TOOL = re.compile(r"^[a-z_]+_\d{8}$|^mcp_toolset$")
# Blocks the API accepts in history that carry nothing the mock matches or counts.
IGNORED_BLOCKS = _names(
    "thinking redacted_thinking server_tool_use web_search_tool_result web_fetch_tool_result "
    "code_execution_tool_result bash_code_execution_tool_result tool_search_tool_result "
    "text_editor_code_execution_tool_result mcp_tool_use mcp_tool_result container_upload "
    "tool_reference"
)
BLOCK_TAGS = "'text', 'image', 'document', 'search_result', 'thinking', 'redacted_thinking', "
BLOCK_TAGS += "'tool_use', 'tool_result', 'server_tool_use', 'web_search_tool_result'"
# The fields each block type takes (any other is "Extra inputs are not permitted").
TEXT_FIELDS = _names("type text cache_control citations")
IMAGE_FIELDS = _names("type source cache_control transformations")
SYSTEM_MESSAGE_FIELDS = _names("role content output_config cache_control")
DOCUMENT_FIELDS = _names("type source cache_control citations context title")
TOOL_USE_FIELDS = _names("type id name input cache_control caller toolset_name")
TOOL_RESULT_FIELDS = _names("type tool_use_id content is_error cache_control toolset_name")
# Source type -> the field carrying the data; and the media type each source type takes.
SOURCE_FIELDS = {
    "base64": "data",
    "text": "data",
    "content": "content",
    "url": "url",
    "file": "file_id",
}
IMAGE_SOURCES = {"base64": "image/*", "url": "", "file": ""}
DOCUMENT_SOURCES = {"base64": "application/pdf", "text": "text/plain", "content": "text/plain"}
DOCUMENT_SOURCES |= {"url": "application/pdf", "file": ""}
IMAGE_WORDS = "'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
CHOICE_MODES = {"auto": "auto", "any": "required", "tool": "function", "none": "none"}
THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
OUTPUT_CONFIG_FIELDS = _names("effort format task_budget")


class Request(Struct):
    """The validated request, in neutral terms (the dialect wraps it in an `Exchange`)."""

    body: Mapping[str, Any]
    model: str
    messages: list[Message]
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice = field(default_factory=ToolChoice)
    response_format: ResponseFormat = field(default_factory=ResponseFormat)
    stream: bool = False
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    reasoning_effort: str | None = None
    reasoning_budget: int | None = None


def bad(message: str) -> APIError:
    return APIError(400, message, type="invalid_request_error")


def _at(loc: str, key: str | int) -> str:
    return f"{loc}.{key}" if loc else str(key)


def required(obj: Mapping[str, Any], key: str, loc: str = "") -> Any:
    if obj.get(key) is None:
        raise bad(f"{_at(loc, key)}: Field required")
    return obj[key]


def need(obj: Mapping[str, Any], key: str, kind: str, loc: str) -> Any:
    """A required field of JSON type `kind`: `{loc}.{key}: Field required` when absent."""
    return typed(required(obj, key, loc), kind, _at(loc, key))


_KINDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "string": (str, "a valid string"),
    "integer": (int, "a valid integer"),
    "number": ((int, float), "a valid number"),
    "boolean": (bool, "a valid boolean"),
    "list": (list, "a valid list"),
    "dictionary": (dict, "a valid dictionary"),
}


def typed(value: Any, kind: str, loc: str) -> Any:
    """`value` when it has the JSON type `kind` (None passes: optional fields may be null)."""
    if value is None or kind == "any":
        return value
    python_type, words = _KINDS[kind]
    if not isinstance(value, python_type) or (
        isinstance(value, bool) and kind in ("integer", "number")
    ):
        raise bad(f"{loc}: Input should be {words}")
    return value


def at_least(value: float | None, minimum: float, loc: str) -> None:
    if value is not None and value < minimum:
        raise bad(f"{loc}: Input should be greater than or equal to {minimum}")


def at_most(value: float | None, maximum: float, loc: str) -> None:
    if value is not None and value > maximum:
        raise bad(f"{loc}: Input should be less than or equal to {maximum}")


def no_extra(obj: Mapping[str, Any], allowed: frozenset[str] | set[str], loc: str) -> None:
    """Fields beyond `allowed`: noted, or refused under `validation: strict`."""
    for key in obj:
        if key not in allowed:
            where = _at(loc, key)
            leniency.unknown(
                f"unknown field '{where}'", bad(f"{where}: Extra inputs are not permitted")
            )


def tag_error(loc: str, tag: Any, tags: str) -> APIError:
    if tag is None:
        return bad(f"{loc}: Unable to extract tag using discriminator 'type'")
    return bad(
        f"{loc}: Input tag '{tag}' found using 'type' does not match any of the expected "
        f"tags: {tags}"
    )


def beta_flags(header: str | None) -> frozenset[str]:
    """The flags of an `anthropic-beta` header ("a,b" or "a, b")."""
    return frozenset(flag.strip() for flag in (header or "").split(",") if flag.strip())


def parse_request(body: Any, *, counting: bool, betas: frozenset[str] = frozenset()) -> Request:
    if not isinstance(body, dict):
        raise bad("Input should be a valid dictionary")
    no_extra(body, TOP_LEVEL, "")
    model = need(body, "model", "string", "")
    if not model:
        raise bad("model: String should have at least 1 character")
    max_tokens = None
    if not counting:
        max_tokens = need(body, "max_tokens", "integer", "")
        at_least(max_tokens, 0, "max_tokens")
    raw_messages = need(body, "messages", "list", "")
    if not raw_messages:
        raise bad("messages: at least one message is required")
    request = Request(body=body, model=model, messages=parse_system(body.get("system")))
    system_messages = any(SYSTEM_MESSAGE_BETAS.match(flag) for flag in betas)
    request.messages.extend(parse_messages(raw_messages, system_messages=system_messages))
    request.max_tokens = max_tokens
    request.tools = parse_tools(typed(body.get("tools"), "list", "tools") or [])
    request.tool_choice = parse_tool_choice(body.get("tool_choice"))
    stops = typed(body.get("stop_sequences"), "list", "stop_sequences") or []
    request.stop = [typed(s, "string", f"stop_sequences.{i}") for i, s in enumerate(stops)]
    request.stream = bool(typed(body.get("stream"), "boolean", "stream"))
    temperature = typed(body.get("temperature"), "number", "temperature")
    at_least(temperature, 0, "temperature")
    at_most(temperature, 1, "temperature")
    top_p = typed(body.get("top_p"), "number", "top_p")
    at_least(top_p, 0, "top_p")
    at_most(top_p, 1, "top_p")
    at_least(typed(body.get("top_k"), "integer", "top_k"), 0, "top_k")
    metadata = typed(body.get("metadata"), "dictionary", "metadata") or {}
    no_extra(metadata, {"user_id"}, "metadata")
    typed(metadata.get("user_id"), "string", "metadata.user_id")
    tier = body.get("service_tier")
    if tier is not None and tier not in ("auto", "standard_only"):
        raise bad("service_tier: Input should be 'auto' or 'standard_only'")
    parse_output_config(body, request)
    parse_thinking(body.get("thinking"), request, temperature, body.get("top_k"))
    return request


def parse_output_config(body: Mapping[str, Any], request: Request) -> None:
    """Structured output (`output_config.format`, or the beta's `output_format`) and effort."""
    config = typed(body.get("output_config"), "dictionary", "output_config") or {}
    effort = config.get("effort")
    if effort is not None and effort not in ("low", "medium", "high", "xhigh", "max"):
        raise bad("output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'")
    request.reasoning_effort = effort
    no_extra(config, OUTPUT_CONFIG_FIELDS, "output_config")
    fmt, loc = config.get("format"), "output_config.format"
    if fmt is None:
        fmt, loc = body.get("output_format"), "output_format"
    if fmt is None:
        return
    fmt = typed(fmt, "dictionary", loc)
    if fmt.get("type") != "json_schema":
        raise tag_error(loc, fmt.get("type"), "'json_schema'")
    schema = need(fmt, "schema", "dictionary", f"{loc}.json_schema")
    request.response_format = ResponseFormat(type="json_schema", schema=schema, strict=True)


def parse_thinking(
    raw: Any, request: Request, temperature: float | None, top_k: Any = None
) -> None:
    """`thinking` maps to a reasoning budget (enabled) or effort (adaptive); effort alone
    (output_config.effort without thinking) shapes answers, it doesn't make Claude think."""
    effort, request.reasoning_effort = request.reasoning_effort, None
    if raw is None:
        return
    thinking = typed(raw, "dictionary", "thinking")
    kind = thinking.get("type")
    if kind == "disabled":
        return
    if kind == "enabled":
        budget = need(thinking, "budget_tokens", "integer", "thinking.enabled")
        at_least(budget, 1024, "thinking.enabled.budget_tokens")
        if request.max_tokens is not None and request.max_tokens <= budget:
            raise bad(
                "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                f"documentation at {THINKING_DOCS}#max-tokens-and-context-window-size"
            )
        request.reasoning_budget = budget
    elif kind == "adaptive":
        request.reasoning_effort = effort or "medium"
    else:
        raise tag_error("thinking", kind, "'adaptive', 'disabled', 'enabled'")
    if request.tool_choice.mode in ("required", "function"):
        raise bad("Thinking may not be enabled when tool_choice forces tool use.")
    if temperature is not None and temperature != 1:
        raise bad(
            "`temperature` may only be set to 1 when thinking is enabled or in adaptive mode. "
            f"Please consult our documentation at {THINKING_DOCS}"
        )
    if top_k is not None:
        raise bad(
            "`top_k` must be unset when thinking is enabled. Please consult our documentation "
            f"at {THINKING_DOCS}#important-considerations-when-using-extended-thinking"
        )


def _text_blocks(raw: Any, loc: str) -> str:
    """A string, or a list of text blocks joined with newlines (system prompts, doc content)."""
    if isinstance(raw, str):
        return raw
    parts = []
    for i, block in enumerate(typed(raw, "list", loc)):
        block = typed(block, "dictionary", _at(loc, i))
        if block.get("type") != "text":
            raise tag_error(_at(loc, i), block.get("type"), "'text'")
        parts.append(need(block, "text", "string", f"{loc}.{i}.text"))
    return "\n".join(parts)


def parse_system(raw: Any) -> list[Message]:
    if raw is None:
        return []
    text = _text_blocks(raw, "system")
    return [Message(role="system", text=text)] if text else []


def parse_tools(raw: list[Any]) -> list[Tool]:
    tools: list[Tool] = []
    names: set[str] = set()
    for i, item in enumerate(raw):
        loc = f"tools.{i}"
        item = typed(item, "dictionary", loc)
        kind = item.get("type")
        if isinstance(kind, str) and SERVER_TOOL.match(kind):
            continue
        if kind not in (None, "custom"):
            error = tag_error(
                loc,
                kind,
                "'custom', 'bash_20250124', 'text_editor_20250728', 'web_search_20250305'",
            )
            if not isinstance(kind, str):
                raise error
            leniency.unknown(f"unknown tool type '{kind}' at {loc}", error)
            continue
        loc += ".custom"
        name = need(item, "name", "string", loc)
        if not TOOL_NAME.match(name):
            raise bad(f"{loc}.name: String should match pattern '{TOOL_NAME.pattern}'")
        schema = need(item, "input_schema", "dictionary", loc)
        if schema.get("type") != "object":
            raise bad(f"{loc}.input_schema.type: Input should be 'object'")
        description = typed(item.get("description"), "string", f"{loc}.description") or ""
        if name in names:
            raise bad("tools: Tool names must be unique.")
        names.add(name)
        tools.append(Tool(name=name, description=description, parameters=schema))
    return tools


def parse_tool_choice(raw: Any) -> ToolChoice:
    if raw is None:
        return ToolChoice()
    choice = typed(raw, "dictionary", "tool_choice")
    kind = choice.get("type")
    if kind not in CHOICE_MODES:
        raise tag_error("tool_choice", kind, "'auto', 'any', 'tool', 'none'")
    loc = f"tool_choice.{kind}"
    typed(choice.get("disable_parallel_tool_use"), "boolean", f"{loc}.disable_parallel_tool_use")
    if kind == "tool":
        name = need(choice, "name", "string", loc)
        return ToolChoice(mode="function", name=name)
    return ToolChoice(mode=CHOICE_MODES[kind])  # type: ignore[arg-type]


class _Turn(Struct):
    """What one vendor message flattened to, plus the tool ids it opened or answered."""

    messages: list[Message] = field(default_factory=list)
    tool_use_ids: list[str] = field(default_factory=list)
    tool_result_ids: list[tuple[str, str]] = field(default_factory=list)  # (location, id)


def parse_messages(raw_messages: list[Any], *, system_messages: bool = False) -> list[Message]:
    """The conversation; `system_messages`: a beta allows `system` messages in it."""
    names: dict[str, str] = {}  # tool_use id -> tool name, for the results that answer it
    turns: list[_Turn] = []
    order: list[_Turn] = []  # every turn, system messages included, in order
    last = len(raw_messages) - 1
    for i, raw in enumerate(raw_messages):
        loc = f"messages.{i}"
        raw = typed(raw, "dictionary", loc)
        role = required(raw, "role", loc)
        if role == "system" and system_messages:
            no_extra(raw, SYSTEM_MESSAGE_FIELDS, loc)
            text = _text_blocks(required(raw, "content", loc), f"{loc}.content")
            order.append(_Turn(messages=[Message(role="system", text=text)]))
            continue
        if role == "system":
            raise bad(
                'messages: Unexpected role "system". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.'
            )
        if role not in ("user", "assistant"):
            raise bad(f"{loc}.role: Input should be 'user' or 'assistant'")
        no_extra(raw, {"role", "content"}, loc)
        content = required(raw, "content", loc)
        if not isinstance(content, (str, list)):
            raise bad(f"{loc}.content: Input should be a valid list")
        final_assistant = i == last and role == "assistant"
        if not content and not final_assistant:
            raise bad(
                f"{loc}: all messages must have non-empty content except for the optional "
                "final assistant message"
            )
        if final_assistant and isinstance(content, str) and content != content.rstrip():
            raise bad("messages: final assistant content cannot end with trailing whitespace")
        turn = _parse_turn(role, content, loc, names)
        turns.append(turn)
        order.append(turn)
    _check_pairing(turns)
    return [message for turn in order for message in turn.messages]


def _check_pairing(turns: list[_Turn]) -> None:
    """Every tool_use is answered in the next message, every tool_result answers the previous."""
    for i, turn in enumerate(turns):
        previous = set(turns[i - 1].tool_use_ids) if i else set()
        for loc, tool_use_id in turn.tool_result_ids:
            if tool_use_id not in previous:
                raise bad(
                    f"{loc}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{tool_use_id}. Each `tool_result` block must have a corresponding "
                    "`tool_use` block in the previous message."
                )
        if turn.tool_use_ids and i + 1 < len(turns):
            answered = {tool_use_id for _, tool_use_id in turns[i + 1].tool_result_ids}
            missing = [t for t in turn.tool_use_ids if t not in answered]
            if missing:
                raise bad(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message."
                )


def _parse_turn(role: str, content: str | list[Any], loc: str, names: dict[str, str]) -> _Turn:
    turn = _Turn()
    speaker_role: Role = "user" if role == "user" else "assistant"
    if isinstance(content, str):
        turn.messages.append(Message(role=speaker_role, text=content))
        return turn
    texts: list[str] = []
    attachments: list[Attachment] = []
    calls: list[ToolCall] = []

    def flush() -> None:
        if texts or attachments or calls:
            message = Message(
                speaker_role, "\n".join(texts), tool_calls=calls[:], attachments=attachments[:]
            )
            turn.messages.append(message)
            texts.clear()
            attachments.clear()
            calls.clear()

    for j, block in enumerate(content):
        where = f"{loc}.content.{j}"
        block = typed(block, "dictionary", where)
        kind = block.get("type")
        if kind == "tool_use" and role == "assistant":
            call = _tool_use(block, f"{where}.tool_use")
            names[call.id] = call.name
            calls.append(call)
            turn.tool_use_ids.append(call.id)
        elif kind == "tool_result" and role == "user":
            flush()
            result = _tool_result(block, f"{where}.tool_result", names)
            turn.messages.append(result)
            turn.tool_result_ids.append((where, result.tool_call_id or ""))
        elif kind in ("tool_use", "tool_result"):
            owner = "assistant" if kind == "tool_use" else "user"
            raise bad(f"{where}: `{kind}` blocks can only be in `{owner}` messages")
        elif kind not in IGNORED_BLOCKS:
            _content_block(block, where, texts, attachments)
    flush()
    return turn


def _content_block(
    block: Mapping[str, Any], loc: str, texts: list[str], attachments: list[Attachment]
) -> None:
    """A text, image, document or search_result block, into `texts` / `attachments`."""
    kind = block.get("type")
    if kind == "text":
        no_extra(block, TEXT_FIELDS, f"{loc}.text")
        text = need(block, "text", "string", f"{loc}.text")
        if not text:
            raise bad("messages: text content blocks must be non-empty")
        if not text.strip():
            raise bad("messages: text content blocks must contain non-whitespace text")
        texts.append(text)
    elif kind == "image":
        no_extra(block, IMAGE_FIELDS, f"{loc}.image")
        attachments.append(_image(need(block, "source", "dictionary", f"{loc}.image"), loc))
    elif kind == "document":
        no_extra(block, DOCUMENT_FIELDS, f"{loc}.document")
        attachments.append(_document(need(block, "source", "dictionary", f"{loc}.document"), loc))
    elif kind == "search_result":
        content = required(block, "content", f"{loc}.search_result")
        texts.append(_text_blocks(content, f"{loc}.search_result.content"))
    elif isinstance(kind, str):  # a block type newer than this module
        leniency.unknown(
            f"unknown content block type '{kind}' at {loc}", tag_error(loc, kind, BLOCK_TAGS)
        )
    else:
        raise tag_error(loc, kind, BLOCK_TAGS)


def _source(source: Mapping[str, Any], loc: str, media_types: Mapping[str, str]) -> Attachment:
    """An image or document source; `media_types` maps each source type to the one media type
    it takes (an image's base64 source takes any of `IMAGE_TYPES`)."""
    kind = source.get("type")
    if not isinstance(kind, str) or kind not in media_types:
        raise tag_error(loc, kind, ", ".join(f"'{k}'" for k in media_types))
    where = f"{loc}.{kind}"
    value = need(source, SOURCE_FIELDS[kind], "string" if kind != "content" else "any", where)
    expected = media_types.get(kind, "")
    if kind in ("base64", "text"):
        media_type = required(source, "media_type", where)
        if media_type not in (IMAGE_TYPES if expected == "image/*" else (expected,)):
            allowed = IMAGE_WORDS if expected == "image/*" else f"'{expected}'"
            raise bad(f"{where}.media_type: Input should be {allowed}")
        expected = media_type
    if kind in ("base64", "text", "content"):
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        size = len(text) * 3 // 4 if kind == "base64" else len(text.encode())
        return Attachment(kind="file", mime_type=expected or None, size=size)
    return Attachment(kind="file", mime_type=expected or None)


def _image(source: Mapping[str, Any], loc: str) -> Attachment:
    attachment = _source(source, f"{loc}.image.source", IMAGE_SOURCES)
    attachment.kind = "image"
    data = source.get("data")
    if source.get("type") == "base64" and isinstance(data, str):
        media_tokens.sized(attachment, media_tokens.base64_image_size(data))
    return attachment


def _document(source: Mapping[str, Any], loc: str) -> Attachment:
    return _source(source, f"{loc}.document.source", DOCUMENT_SOURCES)


def _tool_use(block: Mapping[str, Any], loc: str) -> ToolCall:
    no_extra(block, TOOL_USE_FIELDS, loc)
    call_id = need(block, "id", "string", loc)
    name = need(block, "name", "string", loc)
    arguments = need(block, "input", "dictionary", loc)
    return ToolCall(id=call_id, name=name, arguments=orjson.dumps(arguments).decode())


def _tool_result(block: Mapping[str, Any], loc: str, names: dict[str, str]) -> Message:
    no_extra(block, TOOL_RESULT_FIELDS, loc)
    tool_use_id = need(block, "tool_use_id", "string", loc)
    typed(block.get("is_error"), "boolean", f"{loc}.is_error")
    content = block.get("content")
    texts: list[str] = []
    attachments: list[Attachment] = []
    if isinstance(content, str):
        texts.append(content)
    elif content is not None:
        for k, part in enumerate(typed(content, "list", f"{loc}.content")):
            where = f"{loc}.content.{k}"
            part = typed(part, "dictionary", where)
            if part.get("type") not in IGNORED_BLOCKS:
                _content_block(part, where, texts, attachments)
    return Message(
        role="tool",
        text="\n".join(texts),
        tool_call_id=tool_use_id,
        tool_name=names.get(tool_use_id),
        attachments=attachments,
    )
