"""Writes async tasks into the recording as they advance: a rule at the submission (its
`task:` holding the first state), rewritten after each poll that shows a new state, and after
the finished task's files are fetched (the bytes kept in `media/` beside the recording): from
the URLs its last poll shows, or as the client fetches them through the proxy.

    recorder = TaskRecorder(cassette)
    await recorder.submitted("/mj/submit/imagine", submission, fields, 200, headers, answer)
    await recorder.polled(task_id, MIDJOURNEY, 200, answer)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from mockserver.core.exchange import Exchange, Message
from mockserver.record.cassette import Cassette
from mockserver.record.rules import fault_spec, match_for, name_for
from mockserver.record.task_families import Batch, Reading, Route
from mockserver.record.tasks import (
    UNSEEN_SUBMIT_STATE,
    Recording,
    Submission,
    batch_items,
    read_state,
    urls_in,
)

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FETCH_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
EXTENSIONS = {
    "video/mp4": "mp4",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
}
SIGNATURES = ((b"\x89PNG", "png"), (b"\xff\xd8", "jpg"), (b"ID3", "mp3"), (b"\xff\xfb", "mp3"))


def extension_of(media_type: str, data: bytes) -> str:
    """A file's extension from its content type, else from its first bytes."""
    found = EXTENSIONS.get(media_type.split(";")[0].strip())
    if found is not None:
        return found
    if data[4:8] == b"ftyp":
        return "mp4"
    for signature, extension in SIGNATURES:
        if data.startswith(signature):
            return extension
    return "bin"


class TaskRecorder:
    def __init__(
        self, cassette: Cassette, replay: MockState | None = None, timing: bool = True
    ) -> None:
        self.cassette = cassette
        self.timing = timing  # each stage's duration as the upstream showed it
        self.replay = replay  # the recording as loaded at start: parents replayed from it
        self.recordings: dict[str, Recording] = {}  # by the upstream's task id
        self.refs: dict[str, str] = {}  # a result route's name for a task -> its id

    def records(self, key: str) -> bool:
        return key in self.recordings or key in self.refs

    def exchange(self, path: str, submission: Submission, fields: Mapping[str, Any]) -> Exchange:
        """The submission as the task endpoints give it to the engine (model, prompt as the
        user's message): what a recorded rule matches. An action or a remix takes what it
        leaves open from the task it works on."""
        model, prompt = submission.subject(dict(fields))
        if model is None or prompt is None:
            parent = self._parent(submission.parent(dict(fields)) if submission.parent else "")
            model = parent[0] if model is None else model
            prompt = parent[1] if prompt is None else prompt
        return Exchange(
            dialect=submission.family,
            endpoint=path,
            model=model,
            messages=[Message("user", prompt)],
            body=dict(fields),
        )

    def _parent(self, task_id: str) -> tuple[str, str]:
        recording = self.recordings.get(task_id)
        if recording is not None:
            return recording.model, recording.prompt
        task = self.replay.tasks.get(task_id) if self.replay is not None else None
        return (task.model, task.prompt) if task is not None else ("", "")

    async def submitted(
        self,
        path: str,
        submission: Submission,
        fields: Mapping[str, Any],
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        exchange = self.exchange(path, submission, fields)
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
        first = submission.state(answer) if submission.state is not None else None
        name, step = self.cassette.task_slot(name, match)
        recording = Recording(name, match, submission.family, task_id, step=step)
        recording.model, recording.prompt = exchange.model, exchange.last_user or ""
        recording.unseen_first = first is None
        recording.saw(first or UNSEEN_SUBMIT_STATE, self._now())
        self.recordings[task_id] = recording
        self._write(recording)
        if first is not None and first.urls and recording.finished:  # done at once (`wait`)
            await self._fetch(recording, first.urls)

    async def polled(self, task_id: str, reading: Reading, status: int, body: bytes) -> None:
        if status == 200 and task_id in self.recordings:
            await self._advanced(task_id, reading, orjson.loads(body))

    async def batch_polled(self, route: Batch, reading: Reading, status: int, body: bytes) -> None:
        """A poll of several tasks at once: each recorded one advanced by its item."""
        if status != 200:
            return
        for task_id, item in batch_items(route, orjson.loads(body)):
            await self._advanced(task_id, reading, item)

    async def _advanced(self, task_id: str, reading: Reading, answer: Any) -> None:
        recording = self.recordings.get(task_id)
        if recording is None or recording.finished:
            return
        state = read_state(reading, answer)
        if state is not None and state.ref:
            self.refs[state.ref] = task_id
        for output in state.outputs if state is not None else ():
            self.refs[output] = task_id
        if recording.saw(state, self._now()):
            self._write(recording)
        if state is not None and state.urls and recording.finished:
            # Clients fetch them from the vendor, not through the proxy: fetched here once.
            await self._fetch(recording, state.urls)

    async def resulted(
        self, key: str, route: Route, status: int, headers: Mapping[str, str], body: bytes
    ) -> None:
        """A finished task's files: the answer itself, or fetched from the URLs it shows."""
        recording = self.recordings.get(self.refs.get(key, key) if route.by_ref else key)
        if recording is None or status != 200 or not body:
            return
        if not route.files:
            recording.files = [self._keep(headers.get("content-type", ""), body)]
            self._write(recording)
            return
        urls = urls_in(orjson.loads(body), route.files)
        if urls and route.wav:
            await self._fetch_wav(recording, key, urls[0])
        elif urls:
            await self._fetch(recording, urls)

    def _now(self) -> float | None:
        return time.monotonic() if self.timing else None

    async def _fetch(self, recording: Recording, urls: tuple[str, ...]) -> None:
        """Awaited: the proxy answers its other calls while a (large) file downloads. Fetched
        without the caller's headers: the vendor's (signed) file URLs, not the API."""
        files = []
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
            for url in urls:
                fetched = (await client.get(url)).raise_for_status()
                files.append(self._keep(fetched.headers.get("content-type", ""), fetched.content))
        recording.files = files
        self._write(recording)

    async def _fetch_wav(self, recording: Recording, output: str, url: str) -> None:
        """One output's WAV (Suno's `act/wav` of a clip), kept at the output's position."""
        outputs = recording.states[-1].outputs if recording.states else ()
        if output not in outputs:
            return
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
            fetched = (await client.get(url)).raise_for_status()
        kept = self._keep(fetched.headers.get("content-type", ""), fetched.content)
        recording.wavs[outputs.index(output)] = kept
        self._write(recording)

    def _keep(self, media_type: str, data: bytes) -> str:
        """Kept by its content's hash; the path as the task's script names it."""
        return self.cassette.keep(data, extension_of(media_type, data))

    def _write(self, recording: Recording) -> None:
        self.cassette.put_task(recording.name, recording.match, recording.spec(), recording.step)
        self.cassette.save()
