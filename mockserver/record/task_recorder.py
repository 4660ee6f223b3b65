"""Writes async tasks into the recording as they advance: a rule at the submission (its
`task:` holding the first state), rewritten after each poll that shows a new state, and after
the video's content is downloaded (the bytes kept in `media/` beside the recording).

    recorder = TaskRecorder(cassette)
    recorder.submitted("/mj/submit/imagine", submission, fields, 200, headers, answer)
    recorder.polled(task_id, read_state, 200, answer)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson

from mockserver.core.exchange import Exchange, Message
from mockserver.record.cassette import Cassette
from mockserver.record.rules import fault_spec, match_for, name_for
from mockserver.record.tasks import (
    SUBMIT_STATES,
    UNSEEN_SUBMIT_STATE,
    Recording,
    State,
    Submission,
)

FETCH_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
EXTENSIONS = {"video/mp4": "mp4", "image/png": "png", "image/jpeg": "jpg", "audio/mpeg": "mp3"}


def exchange_of(path: str, submission: Submission, fields: Mapping[str, Any]) -> Exchange:
    """The submission as the task endpoints give it to the engine (model, prompt as the user's
    message): what a recorded rule matches."""
    model, prompt = submission.subject(dict(fields))
    return Exchange(
        dialect=submission.family,
        endpoint=path,
        model=model,
        messages=[Message("user", prompt)],
        body=dict(fields),
    )


class TaskRecorder:
    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette
        self.recordings: dict[str, Recording] = {}  # by the upstream's task id

    def records(self, task_id: str) -> bool:
        return task_id in self.recordings

    def submitted(
        self,
        path: str,
        submission: Submission,
        fields: Mapping[str, Any],
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        exchange = exchange_of(path, submission, fields)
        match = match_for(exchange)
        name = name_for(exchange, self.cassette.names())
        if status >= 400:
            fault = fault_spec(status, body, self.cassette.redactor.headers_kept(headers))
            self.cassette.add(name, match, "fault", fault, None)
            self.cassette.save()
            return
        answer = orjson.loads(body)
        task_id = submission.task_id(answer)
        if task_id is None:
            raise ValueError(f"{path}: no task id in the upstream's answer")
        read_first = SUBMIT_STATES.get(path)
        first = read_first(answer) if read_first is not None else None
        recording = Recording(name, match, submission.family, task_id)
        recording.unseen_first = first is None
        recording.states.append(first or UNSEEN_SUBMIT_STATE)
        self.recordings[task_id] = recording
        self._write(recording)

    def polled(
        self, task_id: str, read: Callable[[Any], State | None], status: int, body: bytes
    ) -> None:
        recording = self.recordings.get(task_id)
        if recording is None or status != 200 or recording.finished:
            return
        state = read(orjson.loads(body))
        if recording.saw(state):
            self._write(recording)
        if state is not None and state.url and recording.finished:
            # Clients fetch it from the vendor, not through the proxy: fetched here once.
            video = httpx.get(state.url, timeout=FETCH_TIMEOUT).raise_for_status()
            self.downloaded(task_id, 200, video.headers, video.content)

    def downloaded(
        self, task_id: str, status: int, headers: Mapping[str, str], body: bytes
    ) -> None:
        """A finished task's file: kept by its content's hash, named in the task's script."""
        recording = self.recordings.get(task_id)
        if recording is None or status != 200 or not body:
            return
        media_type = headers.get("content-type", "").split(";")[0].strip()
        extension = EXTENSIONS.get(media_type, "bin")
        relative = self.cassette.keep(body, extension)
        recording.file = relative
        self._write(recording)

    def _write(self, recording: Recording) -> None:
        self.cassette.put_task(recording.name, recording.match, recording.spec())
        self.cassette.save()
