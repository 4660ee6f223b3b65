"""Reading a Gemini `GenerateContentRequest` into the parts of a neutral `Exchange`.

Unknown names are rejected at the top level, in `generationConfig` and in a Content (the live
API rejects them everywhere; deeper objects are read leniently here). Contents flatten to
messages: "model" turns become assistant messages with their `functionCall`s as tool calls;
each `functionResponse` becomes a role "tool" message matched to its call by `id`, or, as
Gemini 2.x sends none, to the first unanswered call of the same name; thought parts are
dropped. `responseSchema` / `parameters` (Gemini Schema) become lower-case JSON Schema,
`responseJsonSchema` / `parametersJsonSchema` are taken as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import orjson
from msgspec import Struct, field

from mockserver.core import ids
from mockserver.core.exchange import Attachment, Message, ResponseFormat, Tool, ToolCall, ToolChoice
from mockserver.protocols.gemini.proto import Reader, camel, names, pick, snake
from mockserver.tokens import media_tokens

ROLES = ("user", "model", "function")  # "function": the legacy role of function responses
PART_DATA = (
    "text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
    "codeExecutionResult", "toolCall", "toolResponse",
)  # fmt: skip
MIME_TYPES = (
    "text/plain",
    "application/json",
    "application/xml",
    "application/yaml",
    "text/x.enum",
)
MODES = ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED")
THINKING_LEVELS = ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH")
FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
INVALID_FUNCTION_NAME = (
    "Invalid function name. Must start with a letter or an underscore. Must be alphameric "
    "(a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum "
    "length of 64."
)
INVALID_ROLE = "Please use a valid role: user, model."
MIME_PROBLEM = (
    "allowed mimetypes are `text/plain`, `application/json`, `application/xml`, "
    "`application/yaml` and `text/x.enum`."
)
# From python-genai 3.6's `_GenerateContentParameters_to_mldev` and the REST reference.
REQUEST_FIELDS = names(
    "model", "contents", "systemInstruction", "tools", "toolConfig", "safetySettings",
    "generationConfig", "cachedContent", "labels", "serviceTier", "store", "continuationToken",
)  # fmt: skip
GENERATION_FIELDS = names(
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
    "_responseJsonSchema", "responseModalities", "candidateCount", "maxOutputTokens",
    "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty",
    "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
    "thinkingConfig", "imageConfig", "mediaResolution", "audioTranscriptionConfig",
    "enableAffectiveDialog",
)  # fmt: skip
CONTENT_FIELDS = names("role", "parts")
# `Tool` of the v1beta proto: an unknown tool is a note (lenient) or Google's 400 (strict).
TOOL_FIELDS = names(
    "functionDeclarations", "googleSearch", "googleSearchRetrieval", "codeExecution",
    "urlContext", "googleMaps", "computerUse", "fileSearch", "retrieval",
    "enterpriseWebSearch", "mcpServers",
)  # fmt: skip


class GenerateRequest(Struct):
    """What a GenerateContentRequest says, in neutral terms (the Exchange minus the envelope)."""

    messages: list[Message] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice = field(default_factory=ToolChoice)
    response_format: ResponseFormat = field(default_factory=ResponseFormat)
    n: int = 1
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    reasoning_effort: str | None = None
    reasoning_budget: int | None = None
    seed: int | None = None


def read_generate_request(
    body: Mapping[str, Any], version: str = "v1beta", request: str = "GenerateContentRequest"
) -> GenerateRequest:
    """The neutral reading of a request body; raises GeminiError with the API's words.
    `contents` is required only when `request` is "GenerateContentRequest"."""
    r = Reader(version, request)
    r.known(body, REQUEST_FIELDS, None)
    r.text(body, "model", None)
    r.text(body, "cachedContent", None)
    r.repeated(body, "safetySettings", None, r.type_url("SafetySetting"))
    r.message(body, "labels", None, "Labels")
    out = GenerateRequest()
    system = r.message(body, "systemInstruction", None, "Content")
    if system is not None:
        raw = r.repeated(system, "parts", "system_instruction", r.type_url("Part")) or []
        parts = _read_parts(r, raw, "system_instruction", [])
        out.messages.append(Message("system", "\n".join(parts.texts), attachments=parts.files))
    contents = r.repeated(body, "contents", None, r.type_url("Content"))
    if not contents and request == "GenerateContentRequest":
        r.check("contents", "contents is not specified")
    out.messages.extend(_read_contents(r, contents or []))
    out.tools = _read_tools(r, r.repeated(body, "tools", None, r.type_url("Tool")) or [])
    tool_config = r.message(body, "toolConfig", None, "ToolConfig") or {}
    out.tool_choice = _read_tool_choice(r, tool_config)
    config = r.message(body, "generationConfig", None, "GenerationConfig") or {}
    _read_generation_config(r, config, out)
    r.raise_problems()
    return out


class _Parts(Struct):
    texts: list[str] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    results: list[Message] = field(default_factory=list)


def _read_contents(r: Reader, contents: list[Any]) -> list[Message]:
    messages: list[Message] = []
    pending: list[ToolCall] = []  # calls of the last model turn not answered yet
    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        if not isinstance(content, dict):
            r.bad_value(where, r.type_url("Content"), content)
            continue
        r.known(content, CONTENT_FIELDS, where)
        role = r.text(content, "role", where) or "user"
        if role not in ROLES:
            r.late_error = INVALID_ROLE
        raw_parts = r.repeated(content, "parts", where, r.type_url("Part"))
        if not raw_parts:
            r.check(f"{where}.parts", "contents.parts must not be empty.")
            continue
        parts = _read_parts(r, raw_parts, where, pending)
        text = "\n".join(parts.texts)
        if role == "model":
            messages.append(
                Message("assistant", text, tool_calls=parts.calls, attachments=parts.files)
            )
            pending = list(parts.calls)
            continue
        messages.extend(parts.results)
        if parts.texts or parts.files or not parts.results:
            messages.append(Message("user", text, attachments=parts.files))
    return messages


def _read_parts(r: Reader, raw_parts: list[Any], where: str, pending: list[ToolCall]) -> _Parts:
    out = _Parts()
    for j, part in enumerate(raw_parts):
        at = f"{where}.parts[{j}]"
        if not isinstance(part, dict):
            r.bad_value(at, r.type_url("Part"), part)
            continue
        present = [n if n in part else snake(n) for n in PART_DATA if pick(part, n) is not None]
        if not present:
            r.check(f"{at}.data", "required oneof field 'data' must have one initialized field")
            continue
        if len(present) > 1:
            problem = f"Oneof field 'data' is already set. Cannot set '{present[1]}'"
            r.shape.append((at, f'Invalid JSON payload received. Unknown name "{present[1]}" '
                                f"at '{at}': {problem}"))  # fmt: skip
            continue
        kind = camel(present[0])
        if kind == "text":
            text = r.text(part, "text", at)
            if text is not None and pick(part, "thought") is not True:
                out.texts.append(text)
        elif kind in ("inlineData", "fileData"):
            blob = r.message(part, kind, at, "Blob" if kind == "inlineData" else "FileData")
            out.files.append(_attachment(blob or {}))
        elif kind == "functionCall":
            call = r.message(part, kind, at, "FunctionCall") or {}
            out.calls.append(_history_call(r, call, f"{at}.function_call", (where, j)))
        elif kind == "functionResponse":
            answer = r.message(part, kind, at, "FunctionResponse") or {}
            where_answer = f"{at}.function_response"
            out.results.append(_tool_result(r, answer, where_answer, pending, (where, j)))
    return out


def _attachment(blob: Mapping[str, Any]) -> Attachment:
    mime = pick(blob, "mimeType")
    mime = mime if isinstance(mime, str) else None
    data = blob.get("data")
    size = len(data) * 3 // 4 if isinstance(data, str) else 0  # base64 text -> bytes
    major = (mime or "").partition("/")[0]
    kind: Literal["image", "audio", "file"] = (
        "image" if major == "image" else "audio" if major == "audio" else "file"
    )
    attachment = Attachment(kind, mime_type=mime, size=size)
    if kind == "image" and isinstance(data, str):
        media_tokens.sized(attachment, media_tokens.base64_image_size(data))
    return attachment


def _history_call(r: Reader, call: Mapping[str, Any], at: str, origin: tuple[str, int]) -> ToolCall:
    name = r.text(call, "name", at) or ""
    if not name:
        r.check(f"{at}.name", "Name cannot be empty.")
    args = r.message(call, "args", at, "Struct") or {}
    call_id = r.text(call, "id", at) or _synthetic_id(name, origin)
    return ToolCall(call_id, name, orjson.dumps(args).decode())


def _tool_result(
    r: Reader, answer: Mapping[str, Any], at: str, pending: list[ToolCall], origin: tuple[str, int]
) -> Message:
    """A functionResponse as a role "tool" message whose text is its `response` JSON."""
    name = r.text(answer, "name", at) or ""
    if not name:
        r.check(f"{at}.name", "Name cannot be empty.")
    call_id = r.text(answer, "id", at)
    answered = next(
        (c for c in pending if c.id == call_id or (call_id is None and c.name == name)), None
    )
    if answered is not None:
        pending.remove(answered)
        call_id = call_id or answered.id
    payload = r.message(answer, "response", at, "Struct") or {}
    return Message(
        "tool",
        orjson.dumps(payload).decode(),
        tool_call_id=call_id or _synthetic_id(name, origin),
        tool_name=name or None,
    )


def _synthetic_id(name: str, origin: tuple[str, int]) -> str:
    """A stable neutral id for a call (or a result) the client sent without one."""
    return "call_" + ids.base62(ids.digest("gemini-call", name, *origin), "call", 24)


def _read_tools(r: Reader, raw_tools: list[Any]) -> list[Tool]:
    tools: list[Tool] = []
    for t, tool in enumerate(raw_tools):
        where = f"tools[{t}]"
        if not isinstance(tool, dict):
            r.bad_value(where, r.type_url("Tool"), tool)
            continue
        r.known(tool, TOOL_FIELDS, where)
        # googleSearch, codeExecution, urlContext: `server_tools` (hosted_tools.py).
        url = r.type_url("FunctionDeclaration")
        for d, declaration in enumerate(r.repeated(tool, "functionDeclarations", where, url) or []):
            at = f"{where}.function_declarations[{d}]"
            if not isinstance(declaration, dict):
                r.bad_value(at, url, declaration)
                continue
            name = r.text(declaration, "name", at) or ""
            if not FUNCTION_NAME.fullmatch(name):
                r.check(f"{at}.name", INVALID_FUNCTION_NAME)
            json_schema = pick(declaration, "parametersJsonSchema")
            schema = r.message(declaration, "parameters", at, "Schema")
            if isinstance(json_schema, dict):
                parameters = json_schema
            else:
                parameters = r.json_schema(schema, f"{at}.parameters") if schema else {}
            description = r.text(declaration, "description", at) or ""
            tools.append(Tool(name, description, parameters))
    return tools


def _read_tool_choice(r: Reader, tool_config: Mapping[str, Any]) -> ToolChoice:
    """AUTO, VALIDATED (text or a call) and no mode: auto; NONE: none; ANY: required, or the
    one function when `allowedFunctionNames` names exactly one."""
    parent = "tool_config.function_calling_config"
    config = r.message(tool_config, "functionCallingConfig", "tool_config", "FunctionCallingConfig")
    if config is None:
        return ToolChoice()
    mode = r.enum(config, "mode", parent, "FunctionCallingConfig.Mode", MODES)
    allowed = r.repeated(config, "allowedFunctionNames", parent, "TYPE_STRING") or []
    if mode == "NONE":
        return ToolChoice("none")
    if mode == "ANY":
        if len(allowed) == 1 and isinstance(allowed[0], str):
            return ToolChoice("function", allowed[0])
        return ToolChoice("required")
    return ToolChoice()


def _read_generation_config(r: Reader, config: Mapping[str, Any], out: GenerateRequest) -> None:
    at = "generation_config"
    r.known(config, GENERATION_FIELDS, at)
    for name in ("temperature", "topP", "topK", "presencePenalty", "frequencyPenalty"):
        r.number(config, name, at)
    r.integer(config, "logprobs", at)
    r.boolean(config, "responseLogprobs", at)
    out.n = r.integer(config, "candidateCount", at) or 1
    out.max_tokens = r.integer(config, "maxOutputTokens", at) or None  # proto3: 0 is unset
    out.seed = r.integer(config, "seed", at)
    stops = r.repeated(config, "stopSequences", at, "TYPE_STRING") or []
    out.stop = [stop for stop in stops if isinstance(stop, str)]
    thinking = r.message(config, "thinkingConfig", at, "ThinkingConfig") or {}
    where = f"{at}.thinking_config"
    budget = r.integer(thinking, "thinkingBudget", where)
    out.reasoning_budget = None if budget is None or budget < 0 else budget  # -1: dynamic
    r.boolean(thinking, "includeThoughts", where)
    level = r.enum(thinking, "thinkingLevel", where, "ThinkingLevel", THINKING_LEVELS)
    if level and level != "THINKING_LEVEL_UNSPECIFIED":
        out.reasoning_effort = level.lower()
    mime = r.text(config, "responseMimeType", at)
    if mime is not None and mime not in MIME_TYPES:
        r.check(f"{at}.response_mime_type", MIME_PROBLEM)
    schema = r.message(config, "responseSchema", at, "Schema")
    json_schema = pick(config, "responseJsonSchema")
    if json_schema is None:
        json_schema = pick(config, "_responseJsonSchema")
    if mime != "application/json":
        return  # text/x.enum answers one bare enum value: plain text for the engine
    if isinstance(json_schema, dict):
        out.response_format = _json_format(json_schema)
    elif schema is not None:
        out.response_format = _json_format(r.json_schema(schema, f"{at}.response_schema"))
    else:
        out.response_format = ResponseFormat("json_object")


def _json_format(schema: dict[str, Any]) -> ResponseFormat:
    title = schema.get("title")
    return ResponseFormat(
        "json_schema", schema=schema, name=title if isinstance(title, str) else None, strict=True
    )
