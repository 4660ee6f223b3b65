"""Fixtures shared by the tokenizer tests: tiktoken's own encodings as the reference (loaded by
its own loader, offline: `tests.tokens._offline_encoding`), and a private mockserver cache
directory per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiktoken

from tests.tokens._offline_encoding import offline_encoding

ENCODINGS = ("o200k_base", "cl100k_base")


@pytest.fixture(scope="session")
def reference() -> dict[str, tiktoken.Encoding]:
    return {name: offline_encoding(name) for name in ENCODINGS}


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mockserver-cache")


@pytest.fixture(autouse=True)
def _private_cache(shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(shared_cache))


@pytest.fixture(params=ENCODINGS)
def name(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value
