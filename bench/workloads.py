"""The requests the bench sends: one `Workload` per endpoint and reply shape.

Rules in `bench/scenarios/throughput.yaml` are selected by a marker ("bench-scripted", ...) in
the last user message; the `default` workload carries no marker and gets the built-in reply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCENARIOS = Path(__file__).parent / "scenarios"
THROUGHPUT_SCENARIO = SCENARIOS / "throughput.yaml"
LATENCY_SCENARIO = SCENARIOS / "latency.yaml"
GATEWAY_SCENARIO = SCENARIOS / "gateway.yaml"

CHAT_MODEL = "gpt-4o-mini"
AUTH = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
SCRIPTED_PROMPT = "bench-scripted: tell me something about foxes."
# The literal replies of the scenario rules, as o200k token counts (checked on capture).
SCRIPTED_TOKENS = 20


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=lambda: dict(AUTH))
    stream: bool = False
    content_events: int | None = None  # events carrying reply text, when the reply is scripted

    def encoded(self) -> bytes:
        return encode_json(self.body)


def encode_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def chat_body(prompt: str, *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": prompt}],
        **extra,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


CHAT = Workload("chat", "/v1/chat/completions", chat_body(SCRIPTED_PROMPT))
STREAM_20 = Workload(
    "stream-20",
    "/v1/chat/completions",
    chat_body("bench-stream-twenty: a short story, please.", stream=True),
    stream=True,
    content_events=20,
)
STREAM_200 = Workload(
    "stream-200",
    "/v1/chat/completions",
    chat_body("bench-stream-two-hundred: a longer story, please.", stream=True),
    stream=True,
    content_events=200,
)
# No marker: the built-in default answers, with fake text sized like the scripted reply.
DEFAULT_PROMPT = "Write a short note about the weather."
DEFAULT = Workload(
    "default", "/v1/chat/completions", chat_body(DEFAULT_PROMPT, max_tokens=SCRIPTED_TOKENS)
)
ANTHROPIC = Workload(
    "anthropic",
    "/v1/messages",
    {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": SCRIPTED_PROMPT}],
    },
    headers={
        "x-api-key": "sk-bench",
        "anthropic-version": "2023-06-01",
        "Content-Type": "application/json",
    },
)
RESPONSES = Workload("responses", "/v1/responses", {"model": CHAT_MODEL, "input": SCRIPTED_PROMPT})
GEMINI = Workload(
    "gemini",
    "/v1beta/models/gemini-2.5-flash:generateContent",
    {"contents": [{"role": "user", "parts": [{"text": SCRIPTED_PROMPT}]}]},
    headers={"x-goog-api-key": "sk-bench", "Content-Type": "application/json"},
)
EMBEDDINGS = Workload(
    "embeddings",
    "/v1/embeddings",
    {"model": "text-embedding-3-small", "input": SCRIPTED_PROMPT},
)

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (CHAT, STREAM_20, STREAM_200, DEFAULT, ANTHROPIC, RESPONSES, GEMINI, EMBEDDINGS)
}

# The scripted chat through gateway mode (`bench/scenarios/gateway.yaml`'s key).
GATEWAY_CHAT = Workload(
    "gateway-chat",
    "/v1/chat/completions",
    chat_body(SCRIPTED_PROMPT),
    headers={"Authorization": "Bearer sk-benchgateway01", "Content-Type": "application/json"},
)

PACED = Workload(
    "paced",
    "/v1/chat/completions",
    chat_body("bench-paced: take your time.", stream=True),
    stream=True,
    content_events=50,
)


def distinct_requests(count: int) -> list[Workload]:
    """`count` different chat requests (scripted, default, streamed): each occurs once, so no
    answer depends on a per-process occurrence counter (the multi-worker comparison)."""
    result = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            body = chat_body(f"{SCRIPTED_PROMPT} (request {i})")
        elif kind == 1:
            body = chat_body(f"Describe item number {i} of a catalogue.", max_tokens=40)
        else:
            body = chat_body(f"bench-stream-twenty: variant {i}", stream=True)
        result.append(Workload(f"distinct-{i}", CHAT.path, body, stream=kind == 2))
    return result
