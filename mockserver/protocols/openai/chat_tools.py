"""Chat Completions `tools` and `tool_choice` -> neutral `Tool`s and a `ToolChoice`, and the
legacy pair they replaced: `functions` and `function_call` (read as tools and a tool choice; the
reply then comes back as `message.function_call`). A tool type newer than this module is
accepted and noted, or refused with `validation: strict`.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.exchange import Tool, ToolChoice
from mockserver.protocols import leniency
from mockserver.protocols.openai import validation as v

TOOL_TYPES = ("function", "custom")


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
                v.one_of_error(kind, TOOL_TYPES, f"{where}.type"),
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
                v.one_of_error(kind, ("function", "custom", "allowed_tools"), "tool_choice"),
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
