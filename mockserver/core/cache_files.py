"""The per-user cache folder, and the data derived once and kept there as JSON.

What is derived once and can be derived again at any time lives here: the BPE rank tables
(`mockserver.tokens.bpe_files`) and the parsed data files. Each is kept under the sha256 of
what it was derived from, so a changed source is derived again; a missing, unreadable or
unwritable cache only costs the derivation:

    packaged_yaml("data/models.yaml") -> {"models": [...]}   # PyYAML once, then JSON
    derived_json("prose-o200k_base", source, derive)         # derive() once per source
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson


def cache_dir() -> Path:
    """`$MOCKSERVER_CACHE_DIR`, else `$XDG_CACHE_HOME/mockserver`, else `~/.cache/mockserver`."""
    if explicit := os.environ.get("MOCKSERVER_CACHE_DIR"):
        return Path(explicit)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "mockserver"
    return Path.home() / ".cache" / "mockserver"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all; an unwritable cache folder is not an error
    (the next start derives the data again)."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def derived_json(stem: str, source: bytes, derive: Callable[[], Any]) -> Any:
    """What `derive()` returns for `source`: read from the cache folder when an earlier call
    stored it, else derived and stored (only if JSON gives it back as it is: lists, not tuples;
    no dates or sets)."""
    cached = cache_dir() / f"{stem}-{hashlib.sha256(source).hexdigest()}.json"
    with contextlib.suppress(OSError, orjson.JSONDecodeError):
        return orjson.loads(cached.read_bytes())
    value = derive()
    encoded = orjson.dumps(value)
    if orjson.loads(encoded) == value:
        write_atomically(cached, encoded)
    return value


# The package's own folder: it is installed as files (importlib.resources would find the same
# file, but importing its readers adds to every start-up).
PACKAGE_DIR = Path(__file__).resolve().parent.parent


def package_sources(modules: Iterable[str]) -> bytes | None:
    """The bytes of these package files (paths relative to the package), joined: part of a
    cache key when the derived data depends on the code; None when one can't be read."""
    try:
        return b"".join((PACKAGE_DIR / module).read_bytes() for module in modules)
    except OSError:
        return None


def packaged_yaml(resource: str) -> Any:
    """The plain data of the YAML file `resource` (relative to the package), safe-loaded."""
    text = (PACKAGE_DIR / resource).read_bytes()

    def parse() -> Any:
        import yaml

        # CSafeLoader is the libyaml-accelerated SafeLoader: plain data only, no Python objects.
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))

    return derived_json(Path(resource).stem, text, parse)
