"""The per-user cache folder, and the packaged YAML data kept there as JSON.

What is derived once from a packaged file and can be derived again at any time lives here: the
BPE rank tables (`mockserver.bpe_ranks`) and the parsed data files. A data file is parsed with
PyYAML the first time; later starts read the JSON written then (~0.1 ms), and skip importing
PyYAML (~20 ms on a start-up that is ~0.3 s). The cache key is the file's sha256, so an edited
file is parsed again:

    packaged_yaml("data/models.yaml") -> {"models": [...]}
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import os
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


def packaged_yaml(resource: str) -> Any:
    """The plain data of the YAML file `resource` (relative to the package), safe-loaded."""
    text = importlib.resources.files("mockserver").joinpath(resource).read_bytes()
    cached = cache_dir() / f"{Path(resource).stem}-{hashlib.sha256(text).hexdigest()}.json"
    with contextlib.suppress(OSError, orjson.JSONDecodeError):
        return orjson.loads(cached.read_bytes())
    import yaml

    # CSafeLoader is the libyaml-accelerated SafeLoader: plain data only, no Python objects.
    document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    encoded = orjson.dumps(document)
    if orjson.loads(encoded) == document:  # only what JSON keeps as it is (no dates, no sets)
        write_atomically(cached, encoded)
    return document
