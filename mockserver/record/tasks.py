"""Async tasks recorded as one rule each: the submission's match (model and prompt, as the
task endpoints match them), and the states its polls showed — each distinct one, in order — as
a `task:` script that advances one stage per poll (each stage lasting, on the task clock, as
long as the upstream showed it), with the upstream's task id; a failure ends
it with the upstream's reason; the finished task's files (a video, pictures, clips) are written
beside the recording and served again as they were.

Which routes these are and how their answers read is described per family in
`task_families.py`; this module applies the descriptions.

    submission("POST", "/mj/submit/imagine")       -> Submission(family="midjourney", ...)
    poll("GET", "/mj/task/1735.../fetch", {})        -> ("1735...", MIDJOURNEY)
    result("GET", "/minimax/v1/files/retrieve", {"file_id": "2056..."}) -> ("2056...", route)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct, field

from mockserver.record.task_families import FAMILIES, Batch, Reading, Route
from mockserver.record.task_subjects import Json

TERMINAL = ("SUCCESS", "FAILURE")
# The scripted stages' statuses (a `task:` stage), in new-api's words.
STAGE_STATUSES = ("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS")


class State(Struct, frozen=True):
    """One state a task showed: new-api's status word, its progress, why it failed, and
    where a finished task's files are when clients fetch them from the vendor."""

    status: str
    progress: int = 0
    reason: str = ""
    code: str = ""
    urls: tuple[str, ...] = ()
    ref: str = ""  # what a result route names the task by (MiniMax's file_id)
    lyrics: tuple[str, str, str] | None = None  # a finished lyrics task's (id, title, text)
    outputs: tuple[str, ...] = ()  # a finished task's output ids (Suno's clips)


class Submission(Struct, frozen=True):
    """A submission route found for a request: its family, and readers bound to the path."""

    family: str
    # (request fields) -> (model, prompt) as the mock's endpoint gives them to the engine;
    # None where the parent task's is taken
    subject: Callable[[Json], tuple[str | None, str | None]]
    # (answer) -> the task id the upstream gave
    task_id: Callable[[Any], str | None]
    # (answer) -> the first state, when the answer shows one
    state: Callable[[Any], State | None] | None = None
    parent: Callable[[Json], str] | None = None


class Recording(Struct):
    """A task being recorded: its rule's name and match, and the states seen so far."""

    name: str
    match: Json
    family: str
    task_id: str
    states: list[State] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # downloaded, relative to the recording
    wavs: dict[int, str] = field(default_factory=dict)  # an output's WAV, by its position
    unseen_first: bool = False  # states[0] stands for a submission that showed none
    step: int | None = None  # its step of the rule's sequence (the same submission again)
    seen_at: list[float] = field(default_factory=list)  # when each state was first seen
    model: str = ""  # what a child (an action, a remix) takes from it
    prompt: str = ""

    def saw(self, state: State | None, at: float | None = None) -> bool:
        """Keep `state` (seen at monotonic time `at`) if it differs from the last one; whether
        it was new."""
        if state is None:
            return False
        stand_in = self.unseen_first and len(self.states) == 1
        if self.states and self.states[-1] == state and not stand_in:
            return False
        self.states.append(state)
        if at is not None:
            self.seen_at.append(at)
        return True

    @property
    def finished(self) -> bool:
        return bool(self.states) and self.states[-1].status in TERMINAL

    def spec(self) -> Json:
        """The `task:` script that replays the states: one stage per poll, the terminal one
        (SUCCESS, or FAILURE with the upstream's reason) made by the lifecycle."""
        stages: list[Json] = []
        timed = len(self.seen_at) == len(self.states)
        for index, state in enumerate(self.states):
            if state.status in STAGE_STATUSES:
                stage: Json = {"status": state.status, "progress": min(state.progress, 99)}
                if timed and index + 1 < len(self.states):
                    # how long the upstream showed it: the task clock's, for `advance: clock`
                    seconds = round(self.seen_at[index + 1] - self.seen_at[index], 1)
                    if seconds > 0:
                        stage["seconds"] = seconds
                stages.append(stage)
        if not stages:  # finished at once: one stage before the end, as a task must have
            stages.append({"status": "QUEUED", "progress": 0})
        spec: Json = {"id": self.task_id, "stages": stages}
        last = self.states[-1] if self.states else None
        if last is not None and last.status == "FAILURE":
            spec["fail_at"] = stages[-1]["status"]
            spec["reason"] = last.reason or "task failed"
            if last.code:
                spec["code"] = last.code
        if last is not None and last.lyrics is not None:
            lyrics_id, title, text = last.lyrics
            spec["lyrics"] = {"id": lyrics_id, "title": title, "text": text}
            if not lyrics_id:  # none shown: the replay's own
                del spec["lyrics"]["id"]
        if self.wavs and last is not None:  # one per output; null: not fetched, made anew
            spec["wavs"] = [self.wavs.get(index) for index in range(len(last.outputs))]
        if len(self.files) == 1:
            spec["file"] = self.files[0]
        elif self.files:
            spec["files"] = list(self.files)
        return spec


UNSEEN_SUBMIT_STATE = State("SUBMITTED")


# --- Reading answers ------------------------------------------------------------------------


def values(document: Any, path: str) -> list[Any]:
    """The values at a dotted path (`*`: every item of a list), None and "" left out."""
    found = [document]
    for part in path.split("."):
        step: list[Any] = []
        for value in found:
            if part == "*" and isinstance(value, list):
                step.extend(value)
            elif isinstance(value, dict) and part in value:
                step.append(value[part])
        found = step
    return [value for value in found if value is not None and value != ""]


def _first(document: Any, path: str) -> Any:
    found = values(document, path) if path else []
    return found[0] if found else None


def _percent(value: Any, scale: float = 1.0) -> int:
    """new-api's "NN%" (or a number, times `scale`) as an int."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * scale)
    digits = re.match(r"\s*(\d+)", str(value or ""))
    return int(digits.group(1)) if digits else 0


def urls_in(document: Any, paths: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(url for path in paths for url in values(document, path) if isinstance(url, str))


def read_state(reading: Reading, body: Any) -> State | None:
    """The state an answer shows, in new-api's words; None when it shows none."""
    word = _first(body, reading.status)
    status = reading.statuses.get(str(word)) if word is not None else None
    if status is None:
        return None
    reason = str(_first(body, reading.reason) or "")
    if reading.error_fails and status == "SUCCESS" and reason:
        status = "FAILURE"
    failed = status == "FAILURE"
    done = status == "SUCCESS"
    return State(
        status,
        _percent(_first(body, reading.progress), reading.progress_scale) if reading.progress else 0,
        reason if failed else "",  # (MiniMax says "success" in the same field)
        str(_first(body, reading.code) or "") if failed and reading.code else "",
        urls_in(body, reading.files) if done else (),
        str(_first(body, reading.ref) or "") if done and reading.ref else "",
        _lyrics(_first(body, reading.lyrics)) if done and reading.lyrics else None,
        tuple(str(each) for each in values(body, reading.outputs)) if done and reading.outputs
        else (),
    )  # fmt: skip


def _lyrics(found: Any) -> tuple[str, str, str] | None:
    """(id, title, text) of finished lyrics; None where the path holds something else (a music
    task's clips)."""
    if not isinstance(found, dict) or not isinstance(found.get("text"), str):
        return None
    return str(found.get("id") or ""), str(found.get("title") or ""), found["text"]


def _reader(reading: Reading) -> Callable[[Any], State | None]:
    return lambda body: read_state(reading, body)


# --- Which requests are a task's ----------------------------------------------------------


def submission(method: str, path: str) -> Submission | None:
    if method != "POST":
        return None
    for family in FAMILIES:
        for submit in family.submits:
            found = submit.path.fullmatch(path)
            if found is None:
                continue
            groups = {name: value for name, value in found.groupdict().items() if value}
            return _bound(family.name, submit.subject, submit.task_id, submit.shows,
                          submit.parent, groups)  # fmt: skip
    return None


def _bound(
    family: str,
    subject: Callable[[Json, Mapping[str, str]], tuple[str | None, str | None]],
    id_paths: tuple[str, ...],
    shows: Reading | None,
    parent: Callable[[Json, Mapping[str, str]], str] | None,
    groups: dict[str, str],
) -> Submission:
    def task_id(body: Any) -> str | None:
        for path in id_paths:
            value = _first(body, path)
            if isinstance(value, str) and value:
                return value
        return None

    return Submission(
        family,
        lambda fields: subject(fields, groups),
        task_id,
        _reader(shows) if shows is not None else None,
        (lambda fields: parent(fields, groups)) if parent is not None else None,
    )


def poll(method: str, path: str, query: Mapping[str, str]) -> tuple[str, Reading] | None:
    """(task id, how its answer reads) for a poll of a task."""
    if method != "GET":
        return None
    for family in FAMILIES:
        for route in family.polls:
            task_id = route.names(path, query)
            if task_id is not None:
                return task_id, family.reading
    return None


def result(method: str, path: str, query: Mapping[str, str]) -> tuple[str, Route] | None:
    """(task id or ref, the route) for a fetch of a finished task's files."""
    if method != "GET":
        return None
    for family in FAMILIES:
        for route in family.results:
            key = route.names(path, query)
            if key is not None:
                return key, route
    return None


def batch(method: str, path: str) -> tuple[Batch, Reading] | None:
    """The batch poll (several tasks by id in one POST) at this path, and how an item reads."""
    if method != "POST":
        return None
    for family in FAMILIES:
        for route in family.batches:
            if route.path.fullmatch(path):
                return route, family.reading
    return None


def batch_items(route: Batch, answer: Any) -> list[tuple[str, Any]]:
    """(task id, the item as a single poll would answer it) for each task a batch answer shows."""
    found = []
    for item in values(answer, route.items):
        task_id = _first(item, route.task_id)
        if isinstance(task_id, str) and task_id:
            found.append((task_id, {route.wrap: item} if route.wrap else item))
    return found
