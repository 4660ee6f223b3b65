"""`messages` (and the system prompt's blocks) of a Messages request -> neutral messages.

Text parts are joined with "\n", images and documents become attachments, each `tool_result` a
role "tool" message named after the `tool_use` it answers; every `tool_use` must be answered in
the next message. Blocks that carry nothing the mock matches or counts (thinking, server tool
results) are accepted and skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from msgspec import Struct, field

from mockserver.core.exchange import (
    Attachment,
    Message,
    Role,
    ToolCall,
)
from mockserver.protocols import leniency
from mockserver.protocols.anthropic.validation import (
    at,
    bad,
    names,
    need,
    no_extra,
    required,
    tag_error,
    typed,
)
from mockserver.tokens import media_tokens

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
# Blocks the API accepts in history that carry nothing the mock matches or counts.
IGNORED_BLOCKS = names(
    "thinking redacted_thinking server_tool_use web_search_tool_result web_fetch_tool_result "
    "code_execution_tool_result bash_code_execution_tool_result tool_search_tool_result "
    "text_editor_code_execution_tool_result mcp_tool_use mcp_tool_result container_upload "
    "tool_reference"
)
BLOCK_TAGS = "'text', 'image', 'document', 'search_result', 'thinking', 'redacted_thinking', "
BLOCK_TAGS += "'tool_use', 'tool_result', 'server_tool_use', 'web_search_tool_result'"
# The fields each block type takes (any other is "Extra inputs are not permitted").
TEXT_FIELDS = names("type text cache_control citations")
IMAGE_FIELDS = names("type source cache_control transformations")
SYSTEM_MESSAGE_FIELDS = names("role content output_config cache_control")
DOCUMENT_FIELDS = names("type source cache_control citations context title")
TOOL_USE_FIELDS = names("type id name input cache_control caller toolset_name")
TOOL_RESULT_FIELDS = names("type tool_use_id content is_error cache_control toolset_name")
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


def text_blocks(raw: Any, loc: str) -> str:
    """A string, or a list of text blocks joined with newlines (system prompts, doc content)."""
    if isinstance(raw, str):
        return raw
    parts = []
    for i, block in enumerate(typed(raw, "list", loc)):
        block = typed(block, "dictionary", at(loc, i))
        if block.get("type") != "text":
            raise tag_error(at(loc, i), block.get("type"), "'text'")
        parts.append(need(block, "text", "string", f"{loc}.{i}.text"))
    return "\n".join(parts)


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
            text = text_blocks(required(raw, "content", loc), f"{loc}.content")
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
        texts.append(text_blocks(content, f"{loc}.search_result.content"))
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
