"""Async tasks recorded as one rule each: the submission's match (model and prompt, as the
task endpoints match them), and the states its polls showed — each distinct one, in order — as
a `task:` script that advances one stage per poll, with the upstream's task id; a failure ends
it with the upstream's reason; a video's downloaded content is written beside the recording and
served again as it was.

    routes.submission("POST", "/mj/submit/imagine")  -> Submission(family="midjourney", ...)
    routes.poll("GET", "/mj/task/1735.../fetch")      -> ("midjourney", "1735...")
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from msgspec import Struct, field

Json = dict[str, Any]
TERMINAL = ("SUCCESS", "FAILURE")
# The scripted stages' statuses (a `task:` stage), in new-api's words.
STAGE_STATUSES = ("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS")


class State(Struct, frozen=True):
    """One state a task showed: new-api's status word, its progress, and why it failed."""

    status: str
    progress: int = 0
    reason: str = ""
    code: str = ""
    url: str = ""  # where a finished task's video is, when clients fetch it from the vendor


class Submission(Struct, frozen=True):
    family: str
    # (request fields) -> (model, prompt) as the mock's endpoint gives them to the engine
    subject: Callable[[Json], tuple[str, str]]
    # (answer) -> the task id the upstream gave
    task_id: Callable[[Any], str | None]


class Recording(Struct):
    """A task being recorded: its rule's name and match, and the states seen so far."""

    name: str
    match: Json
    family: str
    task_id: str
    states: list[State] = field(default_factory=list)
    file: str | None = None  # the downloaded artifact, relative to the recording
    unseen_first: bool = False  # states[0] stands for a submission that showed none

    def saw(self, state: State | None) -> bool:
        """Keep `state` if it differs from the last one; whether it was new."""
        if state is None:
            return False
        stand_in = self.unseen_first and len(self.states) == 1
        if self.states and self.states[-1] == state and not stand_in:
            return False
        self.states.append(state)
        return True

    @property
    def finished(self) -> bool:
        return bool(self.states) and self.states[-1].status in TERMINAL

    def spec(self) -> Json:
        """The `task:` script that replays the states: one stage per poll, the terminal one
        (SUCCESS, or FAILURE with the upstream's reason) made by the lifecycle."""
        stages: list[Json] = []
        for state in self.states:
            if state.status in STAGE_STATUSES:
                stages.append({"status": state.status, "progress": min(state.progress, 99)})
        if not stages:  # finished at once: one stage before the end, as a task must have
            stages.append({"status": "QUEUED", "progress": 0})
        spec: Json = {"id": self.task_id, "stages": stages}
        last = self.states[-1] if self.states else None
        if last is not None and last.status == "FAILURE":
            spec["fail_at"] = stages[-1]["status"]
            spec["reason"] = last.reason or "task failed"
            if last.code:
                spec["code"] = last.code
        if self.file is not None:
            spec["file"] = self.file
        return spec


# --- Reading each family's answers ---------------------------------------------------------


def _percent(value: Any) -> int:
    """new-api's "NN%" (or a number) as an int."""
    if isinstance(value, int | float):
        return int(value)
    digits = re.match(r"\s*(\d+)", str(value or ""))
    return int(digits.group(1)) if digits else 0


_OPENAI_STATUS = {
    "queued": "QUEUED",
    "in_progress": "IN_PROGRESS",
    "completed": "SUCCESS",
    "failed": "FAILURE",
}


def openai_video_state(body: Any) -> State | None:
    if not isinstance(body, dict) or body.get("object") != "video":
        return None
    status = _OPENAI_STATUS.get(str(body.get("status")))
    if status is None:
        return None
    error = body.get("error") or {}
    return State(
        status,
        _percent(body.get("progress")),
        str(error.get("message") or ""),
        str(error.get("code") or ""),
    )


def task_dto_state(body: Any) -> State | None:
    """new-api's TaskDto, in its `{code, data}` envelope (Suno, the unified video API)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or "status" not in data:
        return None
    status = str(data["status"])
    if status not in (*STAGE_STATUSES, *TERMINAL):
        return None
    return State(status, _percent(data.get("progress")), str(data.get("fail_reason") or ""))


def midjourney_state(body: Any) -> State | None:
    if not isinstance(body, dict) or "status" not in body:
        return None
    status = str(body["status"])
    if status not in (*STAGE_STATUSES, *TERMINAL):  # MODAL: waiting for input, not a stage
        return None
    return State(status, _percent(body.get("progress")), str(body.get("failReason") or ""))


_KLING_STATUS = {
    "submitted": "SUBMITTED",
    "processing": "IN_PROGRESS",
    "succeed": "SUCCESS",
    "failed": "FAILURE",
}


def kling_state(body: Any) -> State | None:
    """Kling's task object in its `{code, data}` envelope (no progress: Kling shows none)."""
    data = body.get("data") if isinstance(body, dict) else None
    status = _KLING_STATUS.get(str(data.get("task_status"))) if isinstance(data, dict) else None
    if status is None or not isinstance(data, dict):
        return None
    videos = (data.get("task_result") or {}).get("videos") or [{}]
    url = str(videos[0].get("url") or "") if status == "SUCCESS" else ""
    return State(status, 0, str(data.get("task_status_msg") or ""), url=url)


def _kling_subject(kind: str) -> Callable[[Json], tuple[str, str]]:
    def subject(fields: Json) -> tuple[str, str]:
        from mockserver.protocols.kling import videos as kling

        parsed = kling.parse_submit(kind, fields)
        return str(parsed["model"]), str(parsed["prompt"])

    return subject


def _kling_id(body: Any) -> str | None:
    data = body.get("data") if isinstance(body, dict) else None
    return _id_in("task_id")(data)


def _video_subject(fields: Json) -> tuple[str, str]:
    return str(fields.get("model") or ""), str(fields.get("prompt") or "")


def _suno_subject(fields: Json) -> tuple[str, str]:
    from mockserver.protocols.suno import music as suno

    return "suno_music", suno.prompt_of(suno.parse_submit("MUSIC", fields))


def _midjourney_subject(fields: Json) -> tuple[str, str]:
    return "mj_imagine", str(fields.get("prompt") or "")


def _id_in(*keys: str) -> Callable[[Any], str | None]:
    def read(body: Any) -> str | None:
        for key in keys:
            value = body.get(key) if isinstance(body, dict) else None
            if isinstance(value, str) and value:
                return value
        return None

    return read


SUBMISSIONS: dict[str, Submission] = {
    "/v1/videos": Submission("video", _video_subject, _id_in("id", "task_id")),
    "/v1/video/generations": Submission("video", _video_subject, _id_in("task_id", "id")),
    "/suno/submit/music": Submission("suno", _suno_subject, _id_in("data")),
    "/mj/submit/imagine": Submission("midjourney", _midjourney_subject, _id_in("result")),
    "/kling/v1/videos/text2video": Submission("kling", _kling_subject("text2video"), _kling_id),
    "/kling/v1/videos/image2video": Submission("kling", _kling_subject("image2video"), _kling_id),
}
# GET paths of a task's polls: the family, and the answer's state.
POLLS: tuple[tuple[re.Pattern[str], Callable[[Any], State | None]], ...] = (
    (re.compile(r"/v1/videos/(?P<id>[^/]+)"), openai_video_state),
    (re.compile(r"/v1/video/generations/(?P<id>[^/]+)"), task_dto_state),
    (re.compile(r"/suno/fetch/(?P<id>[^/]+)"), task_dto_state),
    (re.compile(r"(?:/[^/]+)?/mj/task/(?P<id>[^/]+)/fetch"), midjourney_state),
    (re.compile(r"/kling/v1/videos/(?:text2video|image2video)/(?P<id>[^/]+)"), kling_state),
)
# Submissions whose answer shows the task's first state; the others' first poll shows the
# second stage of a replay, so the recording starts with a stage of its own for the submission.
SUBMIT_STATES: dict[str, Callable[[Any], State | None]] = {
    "/v1/videos": openai_video_state,
    "/v1/video/generations": openai_video_state,
    "/kling/v1/videos/text2video": kling_state,
    "/kling/v1/videos/image2video": kling_state,
}
UNSEEN_SUBMIT_STATE = State("SUBMITTED")
# Downloads of a finished video: OpenAI's content route, Kling's file.
CONTENTS = (
    re.compile(r"/v1/videos/(?P<id>[^/]+)/content"),
    re.compile(r"/kling/files/(?P<id>[^/]+)\.mp4"),
)


def submission(method: str, path: str) -> Submission | None:
    if method != "POST":
        return None
    found = SUBMISSIONS.get(path)
    if found is None and path.endswith("/mj/submit/imagine"):  # the `/{mode}/mj` prefix
        found = SUBMISSIONS["/mj/submit/imagine"]
    return found


def poll(method: str, path: str) -> tuple[str, Callable[[Any], State | None]] | None:
    """(task id, the reader of the answer's state) for a poll of a task."""
    if method != "GET":
        return None
    for pattern, read in POLLS:
        found = pattern.fullmatch(path)
        if found is not None:
            return found.group("id"), read
    return None


def content(method: str, path: str, query: Json) -> str | None:
    """The task id of a download of a video's content (the video itself, not a thumbnail)."""
    if method != "GET" or query.get("variant", "video") != "video":
        return None
    for pattern in CONTENTS:
        found = pattern.fullmatch(path)
        if found is not None:
            return found.group("id")
    return None
