"""`mockserver.scenario` loads its names on first use: a server with no scenario file answers
without ever importing pydantic or PyYAML's loader machinery for scenarios."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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


SERVE_WITHOUT_SCENARIOS = """\
import sys

from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.scenario import ScenarioSet
from mockserver.settings import Settings
from mockserver.state import MockState
import mockserver.server_thread

openai = {"authorization": "Bearer sk-test"}
anthropic = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}
chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
requests = [
    ("/v1/chat/completions", chat, openai),
    ("/v1/chat/completions", {**chat, "stream": True}, openai),
    ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi"}, openai),
    ("/v1/messages", {**chat, "model": "claude-sonnet-4-5", "max_tokens": 50}, anthropic),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"}, openai),
]
assert ScenarioSet.from_paths([]) == ScenarioSet()
with TestClient(create_app(state=MockState.from_settings(Settings()))) as client:
    for path, body, headers in requests:
        assert client.post(path, json=body, headers=headers).status_code == 200, path
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "pydantic")
models = ("mockserver.scenario.model", "mockserver.scenario.loader")
loaded += [m for m in models if m in sys.modules]
print(loaded)
"""


def test_serving_without_scenario_files_never_imports_the_models() -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SERVE_WITHOUT_SCENARIOS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_from_paths_with_files_is_the_loader() -> None:
    from pathlib import Path

    good = Path(__file__).parent / "good.yaml"
    loaded, expected = package.ScenarioSet.from_paths([good]), package.load_paths([good])
    assert [r.where for r in loaded.rules] == [r.where for r in expected.rules]
    assert loaded.rules and loaded.seed == expected.seed
