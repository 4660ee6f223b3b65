"""Recording a session through the proxy, as the record tests all start: a server on the
upstream's scenario, a recording proxy in front of it, the session run through the proxy, and
both stopped before anything replays (replays then find no upstream)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app

Seen = TypeVar("Seen")


def record_through_proxy(
    folder: Path, upstream_yaml: str, name: str, session: Callable[[str], Seen]
) -> tuple[Path, Seen]:
    """`session(proxy_url)` recorded into `folder/recordings/{name}.yaml`: the file and what
    the session saw."""
    from mockserver.http.app import create_app
    from mockserver.settings import Settings

    (folder / "upstream.yaml").write_text(upstream_yaml)
    upstream = ServerThread(create_app(Settings(scenario_paths=[str(folder / "upstream.yaml")])))
    upstream.start()
    path = folder / "recordings" / f"{name}.yaml"
    proxy = ServerThread(recording_app(path, RecordMode.RECORD, upstream.url)).start()
    try:
        seen = session(proxy.url)
    finally:
        proxy.stop()
        upstream.stop()  # gone before anything replays
    return path, seen


def each(sessions: Mapping[str, Callable[[str], Any]]) -> Callable[[str], dict[str, Any]]:
    """One session running every named one in turn; what each saw, by name."""
    return lambda base: {name: session(base) for name, session in sessions.items()}


def assert_valid_and_keyless(path: Path, key: str) -> None:
    """The recording passes `mockserver validate`, and no file written beside it holds `key`."""
    from mockserver.cli import main

    assert main(["validate", str(path)]) == 0
    for written in path.parent.rglob("*"):
        if written.is_file():
            assert key.encode() not in written.read_bytes(), written
