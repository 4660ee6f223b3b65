"""`mockserver.scenario` loads its names on first use: a server with no scenario file answers
without ever importing pydantic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mockserver.scenario as package


def test_every_exported_name_resolves_to_its_module() -> None:
    assert sorted(package.__all__) == sorted(package._MODULE_OF)
    for name in package.__all__:
        value = getattr(package, name)
        assert value.__module__ == f"mockserver.scenario.{package._MODULE_OF[name]}", name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Nonexistent"):
        package.Nonexistent  # noqa: B018


SERVE = """\
import sys

from starlette.testclient import TestClient

from mockserver.http.app import create_app
from mockserver.settings import Settings
from mockserver.server_state import MockState
import mockserver.http.server_thread

openai = {"authorization": "Bearer sk-test"}
anthropic = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}
chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
flaky = {**chat, "messages": [{"role": "user", "content": "flaky?"}]}
requests = [
    ("/v1/chat/completions", chat, openai),
    ("/v1/chat/completions", {**chat, "stream": True}, openai),
    ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi"}, openai),
    ("/v1/messages", {**chat, "model": "claude-sonnet-4-5", "max_tokens": 50}, anthropic),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"}, openai),
    ("/v1/chat/completions", flaky, openai),
    ("/v1/chat/completions", flaky, openai),
    ("/v1/chat/completions", flaky, openai),
]
bodies = []
state = MockState.from_settings(Settings(scenario_paths=sys.argv[1:]))
with TestClient(create_app(state=state)) as client:
    for path, body, headers in requests:
        answer = client.post(path, json=body, headers=headers)
        bodies.append(f"{answer.status_code} {answer.text}")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "yaml"))
models = ("mockserver.scenario.model", "mockserver.scenario.loader")
loaded += [m for m in models if m in sys.modules]
print(loaded)
print(bodies)
"""


def serve(*paths: Path, cache: Path) -> tuple[str, str]:
    """What a fresh process imported while serving `paths`, and the responses it gave."""
    done = subprocess.run(
        [sys.executable, "-c", SERVE, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "MOCKSERVER_CACHE_DIR": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    imported, answers = done.stdout.splitlines()
    return imported, answers


def test_serving_without_scenario_files_never_imports_the_models(tmp_path: Path) -> None:
    first_imports, _ = serve(cache=tmp_path)  # a cold cache folder: PyYAML parses the catalog
    assert "pydantic" not in first_imports
    imported, _ = serve(cache=tmp_path)
    assert imported == "[]"
