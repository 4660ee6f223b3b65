"""The `Response` object a Responses reply renders to: its ids, the echoed request settings,
the output items and usage (`responses_stream` cuts a stream from it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from mockserver.core import ids
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.openai import chat_outputs, web_search
from mockserver.protocols.openai.chat_render import service_tier


def make_response_id(reply: Reply) -> str:
    return object_id("resp", reply, "response")


def object_id(prefix: str, reply: Reply, label: str) -> str:
    """Shaped like the live ids: `resp_67ccd3a9da748190baa7f15...` (48 hex characters).

    8 hex of the creation time, 4 random, `8190`, 16 random, then 16 shared by a response and
    every item in it (as in the live API, where an item's id ends like its response's).
    """
    global _minted
    key, created, start, tail, minted = _minted
    if key != reply.key or created != reply.created:
        # One digest gives the shared tail and the middles of the two ids every reply has.
        key, created = reply.key, reply.created
        digest = ids.hex_digest(key, "response-ids", 56)
        start, tail = f"{created & 0xFFFFFFFF:08x}", digest[:16]
        minted = {
            "response": f"resp_{start}{digest[16:20]}8190{digest[20:36]}{tail}",
            "message": f"msg_{start}{digest[36:40]}8190{digest[40:56]}{tail}",
        }
        _minted = (key, created, start, tail, minted)
    found = minted.get(label)
    if found is None:  # a label has one prefix: the whole id is kept
        middle = ids.hex_digest(key, label, 20)
        found = minted[label] = f"{prefix}_{start}{middle[:4]}8190{middle[4:]}{tail}"
    return found


# The ids of the latest reply: the pipeline stores a response, then renders it, and every item
# id shares the response's tail, so each part is derived once. Replaced whole, never mutated
# but for adding the id of a label, so threads at worst derive one twice.
_minted: tuple[str, int, str, str, dict[str, str]] = ("", 0, "", "", {})


def response_status(choice: Choice | None) -> str:
    if choice is not None and choice.finish_reason in ("length", "content_filter"):
        return "incomplete"
    return "completed"


def response_envelope(reply: Reply, exchange: Exchange, status: str) -> dict[str, Any]:
    """Every top-level field of the `Response` object except `output` and `usage`."""
    return {**_head(reply, exchange, status), **_echoed(exchange)}


def _head(reply: Reply, exchange: Exchange, status: str) -> dict[str, Any]:
    """The fields before the echoed settings: the reply's id, times and status."""
    choice = reply.choices[0] if reply.choices else None
    incomplete = None
    if status == "incomplete" and choice is not None:
        reason = (
            "content_filter" if choice.finish_reason == "content_filter" else "max_output_tokens"
        )
        incomplete = {"reason": reason}
    return {
        "id": make_response_id(reply),
        "object": "response",
        "created_at": reply.created,
        "status": status,
        "background": bool(exchange.body.get("background", False)),
        "completed_at": reply.created + 1 if status == "completed" else None,
        "error": None,
        "incomplete_details": incomplete,
    }


def _echoed(exchange: Exchange) -> dict[str, Any]:
    """The request's settings as every response to it echoes them."""
    echoed = exchange.derived.get("responses.echo")
    if echoed is None:
        echoed = exchange.derived["responses.echo"] = _echoed_settings(exchange)
    result: dict[str, Any] = echoed
    return result


def _echoed_settings(exchange: Exchange) -> dict[str, Any]:
    """The request's settings as the response echoes them: the same for every occurrence."""
    body = exchange.body
    reasoning = body.get("reasoning") or {}
    echoed: dict[str, Any] = {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": exchange.model,
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": _summary_mode(body)},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": service_tier(body.get("service_tier")),
        "store": body.get("store") is not False,
        "temperature": _number(body.get("temperature"), 1.0),
        "text": _text_config(body.get("text")),
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": [_tool_echo(tool) for tool in body.get("tools") or []],
        "top_logprobs": body.get("top_logprobs") or 0,
        "top_p": _number(body.get("top_p"), 1.0),
        "truncation": body.get("truncation") or "disabled",
        "metadata": body.get("metadata") or {},
    }
    # The spec types `user` as a plain string: echo it only when one was sent.
    if isinstance(body.get("user"), str):
        echoed["user"] = body["user"]
    return echoed


def output_items(
    reply: Reply, exchange: Exchange, choice: Choice | None, status: str
) -> list[dict[str, Any]]:
    return [
        {"id": object_id(prefix, reply, label), **item}
        for prefix, label, item in _unnamed_items(reply, exchange, choice, status)
    ]


def _unnamed_items(
    reply: Reply, exchange: Exchange, choice: Choice | None, status: str
) -> list[tuple[str, str, dict[str, Any]]]:
    """The output items without their ids, each with the id's prefix and label."""
    if choice is None:
        return []
    items: list[tuple[str, str, dict[str, Any]]] = []
    if choice.reasoning_tokens or choice.reasoning:
        items.append(("rs", "reasoning", _reasoning_item(reply, exchange, choice)))
    if choice.search is not None:
        items.append(("ws", "web_search_call", web_search.search_call(choice, exchange.body)))
    if choice.refusal is not None or choice.text is not None or not choice.tool_calls:
        if choice.refusal is not None:
            part: dict[str, Any] = {"type": "refusal", "refusal": choice.refusal}
        else:
            top = chat_outputs.responses_top_logprobs(exchange)
            part = {
                "type": "output_text",
                "annotations": web_search.citations(choice, nested=False),
                "logprobs": [] if top is None else chat_outputs.token_entries(choice, 0, top),
                "text": choice.text or "",
            }
        message = {"type": "message", "status": "completed", "content": [part], "role": "assistant"}
        items.append(("msg", "message", message))
    custom = {tool.name for tool in exchange.tools if tool.kind == "custom"}
    for index, call in enumerate(choice.tool_calls):
        if call.name in custom:  # a freeform tool: its call carries plain text
            custom_call = {
                "type": "custom_tool_call",
                "status": "completed",
                "call_id": call.id,
                "input": call.arguments,
                "name": call.name,
            }
            items.append(("ctc", f"custom_tool_call:{index}", custom_call))
            continue
        function_call = {
            "type": "function_call",
            "status": "completed",
            "arguments": call.arguments,
            "call_id": call.id,
            "name": call.name,
        }
        items.append(("fc", f"function_call:{index}", function_call))
    if status == "incomplete" and items and "status" in items[-1][2]:
        items[-1][2]["status"] = "incomplete"
    return items


class _BodyParts(NamedTuple):
    """A Responses body in the pieces that are the same for every occurrence of a reply,
    between the response id and `created_at`, `completed_at`, and the item ids."""

    before_completed: bytes  # ,"status":…,"completed_at":
    completed: bool  # `completed_at` is `created_at` + 1, else null
    before_output: bytes  # ,"error":…,<the echoed settings>,"output":[
    items: list[tuple[str, str, bytes]]  # id prefix, id label, the item after its id
    tail: bytes  # ],"usage":…}


def body_parts(reply: Reply, exchange: Exchange) -> _BodyParts | None:
    """The parts of the body of `reply`; None when a reasoning item carries encrypted
    content, which is derived from the reply key."""
    choice = reply.choices[0] if reply.choices else None
    reasons = choice is not None and bool(choice.reasoning_tokens or choice.reasoning)
    if reasons and _encrypts_reasoning(exchange.body):
        return None
    status = response_status(choice)
    head = _head(reply, exchange, status)
    status_fields = orjson.dumps({"status": status, "background": head["background"]})
    rest = orjson.dumps({"error": None, "incomplete_details": head["incomplete_details"]})
    return _BodyParts(
        before_completed=b",%s," % status_fields[1:-1] + b'"completed_at":',
        completed=head["completed_at"] is not None,
        before_output=b',%s,%s,"output":[' % (rest[1:-1], orjson.dumps(_echoed(exchange))[1:-1]),
        items=[
            (prefix, label, orjson.dumps(item)[1:])
            for prefix, label, item in _unnamed_items(reply, exchange, choice, status)
        ],
        tail=b'],"usage":%s}' % orjson.dumps(usage_body(reply)),
    )


def _reasoning_item(reply: Reply, exchange: Exchange, choice: Choice) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "reasoning"}
    # Raw reasoning never leaves the live API; a summary does, when the request asks for one.
    if choice.reasoning and _summary_mode(exchange.body) is not None:
        item["summary"] = [{"type": "summary_text", "text": choice.reasoning}]
    else:
        item["summary"] = []
    if _encrypts_reasoning(exchange.body):
        item["encrypted_content"] = "gAAAAAB" + ids.base62(reply.key, "encrypted-reasoning", 120)
    return item


def _encrypts_reasoning(body: Mapping[str, Any]) -> bool:
    include = body.get("include")
    return isinstance(include, list) and "reasoning.encrypted_content" in include


def usage_body(reply: Reply) -> dict[str, Any]:
    usage = reply.usage
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def _summary_mode(body: Mapping[str, Any]) -> str | None:
    reasoning = body.get("reasoning")
    if not isinstance(reasoning, dict):
        return None
    mode = reasoning.get("summary") or reasoning.get("generate_summary")
    return mode if isinstance(mode, str) else None


def _number(value: Any, default: float) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _text_config(text: Any) -> dict[str, Any]:
    fmt = text.get("format") if isinstance(text, dict) else None
    verbosity = text.get("verbosity") if isinstance(text, dict) else None
    if not isinstance(fmt, dict):
        fmt = {"type": "text"}
    elif fmt.get("type") == "json_schema":
        fmt = {"strict": False, **fmt}
    return {"format": fmt, "verbosity": verbosity or "medium"}


def _tool_echo(tool: Any) -> Any:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        return tool
    return {
        "type": "function",
        "description": tool.get("description"),
        "name": tool.get("name"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict") if isinstance(tool.get("strict"), bool) else True,
    }
