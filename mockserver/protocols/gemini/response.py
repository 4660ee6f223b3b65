"""A `GenerateContentResponse` from a reply: candidates (thoughts, text, code runs, function
calls with their ids and thought signatures), finish reasons, safety ratings of a blocked
candidate, and `usageMetadata`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from mockserver.core import ids
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.gemini import grounding, hosted_tools
from mockserver.protocols.gemini import images as gemini_images
from mockserver.protocols.gemini import logprobs as gemini_logprobs
from mockserver.protocols.gemini.extras import prompt_details
from mockserver.protocols.gemini.proto import pick

FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}
BLOCKED_RATINGS = [
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
]
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def include_thoughts(exchange: Exchange) -> bool:
    """Whether the request asked for thought summaries (`thinkingConfig.includeThoughts`)."""
    config = pick(exchange.body, "generationConfig")
    thinking = pick(config, "thinkingConfig") if isinstance(config, Mapping) else None
    return isinstance(thinking, Mapping) and pick(thinking, "includeThoughts") is True


def body_before_id(reply: Reply, exchange: Exchange) -> dict[str, Any]:
    """A response's fields before `responseId`."""
    thoughts = include_thoughts(exchange)
    usage = reply.usage
    candidates = [candidate_body(i, _parts(c, thoughts), c) for i, c in enumerate(reply.choices)]
    top = gemini_logprobs.requested(exchange.body)
    if top is not None:
        for index, (candidate, choice) in enumerate(zip(candidates, reply.choices, strict=True)):
            gemini_logprobs.add_logprobs(candidate, choice, index, top)
    if gemini_images.wants_image(exchange):
        gemini_images.add_images(candidates, exchange, [c.file for c in reply.choices])
    return {
        "candidates": candidates,
        "usageMetadata": usage_metadata(
            usage.prompt_tokens,
            usage.completion_tokens - usage.reasoning_tokens,
            usage.reasoning_tokens,
            prompt_details(exchange, usage.prompt_tokens),
            usage.cached_tokens,
        ),
        "modelVersion": exchange.model,
    }


def response_id(reply: Reply) -> str:
    return ids.base62(reply.key, "gemini-response", 23)


def function_call_id(call_id: str) -> str:
    """Gemini-style call id (8 lower-case letters) derived from the neutral `call_...` id."""
    return "".join(_LOWER[ord(c) % 26] for c in ids.base62(call_id, "gemini-call", 8))


def usage_metadata(
    prompt: int, candidates: int, thoughts: int, details: list[dict[str, Any]], cached: int = 0
) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if candidates:
        usage["candidatesTokenCount"] = candidates
    usage["totalTokenCount"] = prompt + candidates + thoughts
    if cached:
        usage["cachedContentTokenCount"] = cached
    if details:
        usage["promptTokensDetails"] = details
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def call_parts(choice: Choice) -> list[dict[str, Any]]:
    """Function calls as parts; a call whose arguments are not a JSON object (cut by the token
    limit) is left out: Gemini emits calls whole or not at all."""
    parts: list[dict[str, Any]] = []
    for call in choice.tool_calls:
        try:
            args = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError:
            continue
        if isinstance(args, dict):
            function_call = {"name": call.name, "args": args, "id": function_call_id(call.id)}
            parts.append({"functionCall": function_call})
    if parts and choice.reasoning_tokens:
        # Thinking models sign their first call; clients must send the signature back.
        parts[0]["thoughtSignature"] = _signature(choice.tool_calls[0].id)
    return parts


def _signature(call_id: str) -> str:
    """An opaque, valid base64 signature (the SDK decodes it) derived from the call id."""
    digest = hashlib.blake2b(f"{call_id}:thought-signature".encode(), digest_size=48).digest()
    return base64.b64encode(digest).decode()


def _parts(choice: Choice, thoughts: bool) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if thoughts and choice.reasoning:
        parts.append({"text": choice.reasoning, "thought": True})
    parts.extend(hosted_tools.code_parts(choice))
    text = (choice.text or "") + (choice.refusal or "")
    if text:
        parts.append({"text": text})
    parts.extend(call_parts(choice))
    return parts


def candidate_body(
    index: int, parts: list[dict[str, Any]], choice: Choice | None = None
) -> dict[str, Any]:
    """A candidate; with `choice` it is the final one and carries `finishReason`. A blocked
    candidate (SAFETY) has no content, an empty one has a content with no parts."""
    finish = FINISH[choice.finish_reason] if choice is not None else None
    candidate: dict[str, Any] = {}
    if parts:
        candidate["content"] = {"parts": parts, "role": "model"}
    elif finish != "SAFETY":
        candidate["content"] = {"role": "model"}
    if finish is not None:
        candidate["finishReason"] = finish
    if choice is not None and choice.search is not None:
        candidate["groundingMetadata"] = grounding.grounding_metadata(choice)
    if choice is not None and choice.url_fetches:
        candidate["urlContextMetadata"] = hosted_tools.url_context_metadata(choice)
    candidate["index"] = index
    if finish == "SAFETY":
        candidate["safetyRatings"] = BLOCKED_RATINGS
    return candidate
