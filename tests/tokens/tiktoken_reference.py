"""Fixtures shared by the tokenizer tests: tiktoken's own encodings as the reference, loaded
through tiktoken's cache layout from the bundled files (independent of mockserver's loader), and
a private mockserver cache directory per session."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
import tiktoken

from mockserver.tokens.tokenizer import bundled_bpe_path

ENCODINGS = ("o200k_base", "cl100k_base")
BPE_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tiktoken.Encoding]:
    """tiktoken's own encodings, loaded through its own cache layout (sha1(url) file names)
    from the decompressed bundled files: independent of mockserver's loader."""
    directory = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in BPE_URLS.items():
        raw = gzip.decompress(bundled_bpe_path(name).read_bytes())
        (directory / hashlib.sha1(url.encode()).hexdigest()).write_bytes(raw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(directory))
        return {name: tiktoken.get_encoding(name) for name in ENCODINGS}


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
