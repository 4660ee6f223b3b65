"""Anthropic Messages request validation, with the live API's rules and wording.

Errors name the location the way the API's validator does, tagged unions included:

    messages.0.content.1.image.source.base64.media_type: Input should be 'image/jpeg', ...
    tools.0.custom.input_schema: Field required
    thinking.enabled.budget_tokens: Input should be greater than or equal to 1024

The system prompt comes first, then `messages` flattened to neutral messages (`conversation`);
the validator's wording is in `validation`. Server tools (web search, code execution, ...) are
accepted and ignored: they run on Anthropic's side, so the mock neither lists nor calls them.

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

from msgspec import Struct, field

from mockserver.core.exchange import (
    Message,
    ResponseFormat,
    Tool,
    ToolChoice,
)
from mockserver.protocols import leniency
from mockserver.protocols.anthropic.conversation import (
    parse_messages,
    text_blocks,
)
from mockserver.protocols.anthropic.validation import (
    at_least,
    at_most,
    bad,
    names,
    need,
    no_extra,
    tag_error,
    typed,
)

# `MessageCreateParams` of anthropic-python 2.x and its beta variant (body fields; `betas`
# travels as the `anthropic-beta` header).
TOP_LEVEL = names(
    "model messages max_tokens system stop_sequences stream temperature top_p top_k metadata "
    "tools tool_choice thinking service_tier output_config output_format container "
    "context_management mcp_servers inference_geo speed cache_control diagnostics "
    "user_profile_id workspace_id compaction thread fallbacks billing_policy "
    "fallback_credit_token"
)
# Betas under which `messages` may hold `system` messages (and per-message settings).
SYSTEM_MESSAGE_BETAS = re.compile(r"^(?:mid-conversation-|per-turn-control-)")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
# Anthropic-defined tools are versioned by date ("web_search_20250305"), plus the MCP toolset.
SERVER_TOOL = re.compile(r"^[a-z_]+_\d{8}$|^mcp_toolset$")
CHOICE_MODES = {"auto": "auto", "any": "required", "tool": "function", "none": "none"}
THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
OUTPUT_CONFIG_FIELDS = names("effort format task_budget")


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


def parse_system(raw: Any) -> list[Message]:
    if raw is None:
        return []
    text = text_blocks(raw, "system")
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
