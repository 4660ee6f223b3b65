"""Same requests, same scenarios -> byte-identical responses across server restarts.

Each run is a fresh server process on its own port with a different PYTHONHASHSEED, so nothing
that leaks `hash()`, the wall clock or an unseeded generator into a response can pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT, SCENARIOS

SERVER = """
import sys, time
from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.settings import Settings
server = ServerThread(create_app(Settings(scenario_paths=sys.argv[1:], port=0))).start()
print(server.port, flush=True)
time.sleep(120)
"""

OPENAI = {"authorization": "Bearer sk-test"}
ANTHROPIC = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}
GEMINI = {"x-goog-api-key": "test-key"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}

REQUESTS: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    (
        "/v1/chat/completions",
        OPENAI,
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]},
    ),
    # the same request twice: fresh ids the second time, the same on every run
    (
        "/v1/chat/completions",
        OPENAI,
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]},
    ),
    (
        "/v1/chat/completions",
        OPENAI,
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "write me something"}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "n": 2,
        },
    ),
    (
        "/v1/chat/completions",
        OPENAI,
        {
            "model": "o3",
            "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
            "tools": [WEATHER],
            "tool_choice": "required",
        },
    ),
    ("/v1/responses", OPENAI, {"model": "gpt-4.1", "input": "hello", "stream": True}),
    (
        "/v1/messages",
        ANTHROPIC,
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
        },
    ),
    (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        GEMINI,
        {"contents": [{"role": "user", "parts": [{"text": "tell me anything"}]}]},
    ),
    (
        "/v1/embeddings",
        OPENAI,
        {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8},
    ),
]


@contextmanager
def server_process(hash_seed: str, home: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER,
            str(SCENARIOS / "greeting.yaml"),
            str(SCENARIOS / "tool_agent.yaml"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin", "HOME": str(home)},
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=10)


def run_sequence(base_url: str) -> list[bytes]:
    """Each response's status line, headers and body, as the client received them."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        responses = [
            client.post(path, json=body, headers=headers) for path, headers, body in REQUESTS
        ]
    return [
        b"%d\n%s\n\n%s"
        % (r.status_code, b"\n".join(b"%s: %s" % h for h in r.headers.raw), r.content)
        for r in responses
    ]


def test_byte_identical_across_restarts(tmp_path: Path) -> None:
    with server_process("1", tmp_path) as url:
        first = run_sequence(url)
    with server_process("2", tmp_path) as url:
        second = run_sequence(url)
    assert all(b'"error":{' not in response for response in first), first
    assert first == second  # headers too: no `date`, the wall clock
    assert all(b"\ndate: " not in response.partition(b"\n\n")[0] for response in first)
    once, again = (json.loads(response.partition(b"\n\n")[2]) for response in first[:2])
    assert once["id"] != again["id"]  # a repeated request gets fresh ids...
    assert once["choices"] == again["choices"]  # ...and the same answer
