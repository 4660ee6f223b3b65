"""A recording session: the file, the mode, the proxy that serves it.

app = recording_app(Path("recordings/session.yaml"), RecordMode.ONCE, "https://api.openai.com")
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mockserver.record.cassette import Cassette
from mockserver.record.modes import RecordMode
from mockserver.record.proxy import Recorder, RecordingProxy
from mockserver.record.redact import Redactor


def recording_app(
    path: Path,
    mode: RecordMode,
    upstream: str | None,
    *,
    redact_headers: Iterable[str] = (),
    redact_fields: Iterable[str] = (),
    timing: bool = True,
) -> RecordingProxy:
    """The proxy for one recording file. Raises ValueError when the mode needs an upstream
    and none is given, and `ScenarioError` when the existing file does not validate."""
    from mockserver.http.app import create_app
    from mockserver.scenario import load_paths
    from mockserver.server_state import MockState
    from mockserver.settings import Settings

    effective = mode.effective(path.exists())
    if effective.records and not upstream:
        raise ValueError(
            f"record mode {mode.value!r} needs an upstream URL to record {path} from "
            "(or use mode 'replay')"
        )
    if effective is RecordMode.REPLAY and not path.exists():
        raise ValueError(f"record mode 'replay': no recording at {path}; record it first")
    shown = _without_query(upstream) if upstream else "the upstream"
    cassette = Cassette.open(
        path, Redactor(redact_headers, redact_fields), shown, fresh=effective is RecordMode.RECORD
    )
    existing = [path] if path.exists() and effective is not RecordMode.RECORD else []
    settings = Settings(scenario_paths=[str(p) for p in existing], strict=True)
    state = MockState(settings, load_paths(existing))
    return RecordingProxy(
        Recorder(cassette, state, timing), effective, upstream, create_app(state=state)
    )


def _without_query(url: str) -> str:
    """The upstream as written in the file's header: no query (it may carry `?key=`) and no
    user:password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
