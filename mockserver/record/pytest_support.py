"""Record and replay for one test of the pytest plugin.

    @pytest.mark.mockserver(record_mode="once")
    def test_agent(): ...

The test's recording is `recordings/<module>/<test>.yaml` next to its file. When the mode comes
to replay (`replay`, or `once` with the file there), the recording is loaded as the test's own
scenario, in strict mode: a request it lacks fails the test listing the nearest rules. When it
records (`record`, `new_episodes`, `once` with no file yet), a recording proxy runs for the test
in front of the upstream (`--mockserver-upstream`, the `mockserver_upstream` ini option or
`$MOCKSERVER_UPSTREAM`), and the SDK variables point at it, with the developer's own keys.
`--mockserver-record-mode` overrides every marker's mode: a developer re-records with
`--mockserver-record-mode=record`, CI replays with `--mockserver-record-mode=replay`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mockserver.record.modes import RecordMode

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread
    from mockserver.scenario import Scenario

DEFAULT_MODE = RecordMode.ONCE
FOLDER = "recordings"
# The variables that carry keys: in a recording test they keep the developer's own values.
KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY")


class RecordingError(Exception):
    """The test's record/replay cannot start; the message says why and what to do."""


def recording_path(test_file: Path, test_name: str) -> Path:
    """`tests/test_agent.py`, `test_plan[gpt-4o]` ->
    `tests/recordings/test_agent/test_plan-gpt-4o.yaml`"""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
    return test_file.parent / FOLDER / test_file.stem / f"{stem}.yaml"


class TestRecording:
    __test__ = False  # not a test class, whatever its name says to pytest

    def __init__(self, path: Path, mode: RecordMode) -> None:
        self.path = path
        self.mode = mode
        self.proxy: ServerThread | None = None
        self.scenarios: tuple[Scenario, ...] = ()

    @classmethod
    def begin(
        cls,
        test_file: Path,
        test_name: str,
        marker_mode: object,
        option_mode: str | None,
        upstream: str | None,
    ) -> TestRecording:
        try:
            mode = RecordMode.parse(option_mode or str(marker_mode or DEFAULT_MODE.value))
        except ValueError as error:
            raise RecordingError(f"record_mode: {error}") from None
        path = recording_path(test_file, test_name)
        recording = cls(path, mode.effective(path.exists()))
        if recording.mode is RecordMode.REPLAY:
            if not path.exists():
                raise RecordingError(
                    f"no recording at {path}: record it once with a real upstream "
                    "(--mockserver-record-mode=once --mockserver-upstream URL)"
                )
            from mockserver.scenario import load_paths

            recording.scenarios = load_paths([path]).scenarios
            return recording
        if not upstream:
            raise RecordingError(
                f"record mode {mode.value!r} needs the real API to record {path.name} from: "
                "pass --mockserver-upstream URL, set the mockserver_upstream ini option or "
                "$MOCKSERVER_UPSTREAM (or replay with --mockserver-record-mode=replay)"
            )
        from mockserver.http.server_thread import ServerThread
        from mockserver.record.session import recording_app

        # Timing is written `recorded`: a replayed suite waits only if it turns latency on.
        app = recording_app(path, recording.mode, upstream)
        recording.proxy = ServerThread(app).start()
        return recording

    @property
    def records(self) -> bool:
        return self.proxy is not None

    def environment(self, mock: Mapping[str, str], outer: Mapping[str, str]) -> dict[str, str]:
        """The fixture's variables; a recording test keeps the keys the developer set."""
        chosen = dict(mock)
        if self.records:
            for name in KEY_VARIABLES:
                if outer.get(name):
                    chosen[name] = outer[name]
        return chosen

    def end(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
