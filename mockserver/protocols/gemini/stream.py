"""`streamGenerateContent`: a reply as a series of `GenerateContentResponse` chunks (one per
text piece, function calls whole in the last, running usage counts), sent as SSE events with
`alt=sse` or as one JSON array cut into frames without it.
"""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.gemini import errors, hosted_tools
from mockserver.protocols.gemini import images as gemini_images
from mockserver.protocols.gemini.extras import prompt_details
from mockserver.protocols.gemini.response import (
    call_parts,
    candidate_body,
    include_thoughts,
    response_id,
    usage_metadata,
)

ARRAY_SEPARATOR = b"\r\n,\r\n"


def render_stream_array(reply: Reply, exchange: Exchange) -> bytes:
    """The whole `streamGenerateContent` answer without `alt=sse`: one JSON array."""
    return b"".join(array_frames(stream_chunks(reply, exchange)))


def array_frames(chunks: list[dict[str, Any]]) -> list[bytes]:
    """A JSON array cut into frames: "[" + first, "\\r\\n,\\r\\n" + each next, then "]"."""
    if not chunks:
        return [b"[]"]
    frames = [b"[" + orjson.dumps(chunks[0])]
    frames.extend(ARRAY_SEPARATOR + orjson.dumps(chunk) for chunk in chunks[1:])
    frames.append(b"]")
    return frames


def array_error_frame(error: APIError) -> bytes:
    """The frame that ends a JSON-array stream with an error object."""
    return ARRAY_SEPARATOR + orjson.dumps(errors.error_body(error)) + b"]"


def _share(total: int, done: int, count: int) -> int:
    return total if done >= count else total * done // count


def _choice_steps(
    index: int, choice: Choice, thoughts: bool
) -> list[tuple[dict[str, Any], int, int]]:
    """(candidate, visible tokens so far, thought tokens so far) for each chunk of a choice."""
    reasoning = choice.reasoning_tokens
    visible = choice.completion_tokens - reasoning
    thought_pieces = (choice.reasoning_pieces or [choice.reasoning or ""]) if thoughts else []
    thought_pieces = [piece for piece in thought_pieces if piece]
    text_pieces = choice.text_pieces or ([choice.text] if choice.text else [])
    text_pieces = text_pieces + (
        choice.refusal_pieces or ([choice.refusal] if choice.refusal else [])
    )
    calls = call_parts(choice)
    steps: list[tuple[list[dict[str, Any]], int, int]] = []
    for t, piece in enumerate(thought_pieces):
        steps.append(
            ([{"text": piece, "thought": True}], 0, _share(reasoning, t + 1, len(thought_pieces)))
        )
    code = hosted_tools.code_parts(choice)
    if code:  # the run comes whole, before the answer
        steps.append((code, 0, reasoning))
    visible_steps = len(text_pieces) + (1 if calls else 0)
    for x, piece in enumerate(text_pieces):
        steps.append(([{"text": piece}], _share(visible, x + 1, visible_steps), reasoning))
    if calls or not steps:
        steps.append((calls, visible, reasoning))
    last = len(steps) - 1
    return [
        (candidate_body(index, parts, choice if k == last else None), shown, thought)
        for k, (parts, shown, thought) in enumerate(steps)
    ]


def stream_chunks(reply: Reply, exchange: Exchange) -> list[dict[str, Any]]:
    """Every chunk of the stream as a GenerateContentResponse, candidates interleaved."""
    thoughts = include_thoughts(exchange)
    per_choice = [_choice_steps(i, c, thoughts) for i, c in enumerate(reply.choices)]
    usage = reply.usage
    details = prompt_details(exchange, usage.prompt_tokens)
    model, rid = exchange.model, response_id(reply)
    steps = max((len(s) for s in per_choice), default=0)
    chunks: list[dict[str, Any]] = []
    for k in range(steps):
        if k == steps - 1:
            shown, thought = (
                usage.completion_tokens - usage.reasoning_tokens,
                usage.reasoning_tokens,
            )
        else:
            shown = sum(s[min(k, len(s) - 1)][1] for s in per_choice)
            thought = sum(s[min(k, len(s) - 1)][2] for s in per_choice)
        chunks.append(
            {
                "candidates": [s[k][0] for s in per_choice if k < len(s)],
                "usageMetadata": usage_metadata(
                    usage.prompt_tokens, shown, thought, details, usage.cached_tokens
                ),
                "modelVersion": model,
                "responseId": rid,
            }
        )
    if chunks and gemini_images.wants_image(exchange):
        return gemini_images.image_chunks(chunks, exchange, [c.file for c in reply.choices])
    return chunks
