"""Every task family the recorder knows, as a description: where a task is submitted (and what
the mock's endpoint matches it on), where its id is in the answer, where it is polled, how a
poll's answer reads (status word → new-api's, progress, reason, the finished files' URLs), and
where its files are fetched. `record/tasks.py` reads answers with these; nothing here runs.

    Reading(status="state", statuses={"pending": "QUEUED", "completed": "SUCCESS", ...},
            files=("video.url",))

Paths into an answer are dotted, `*` for every item of a list (`data.data.*.audio_url`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct

Json = dict[str, Any]
# (request fields, the path's named groups) -> (model, prompt) as the mock's endpoint gives
# them to the engine; None: the parent task's (a Midjourney action's prompt, a remix's model).
Subject = Callable[[Json, Mapping[str, str]], tuple[str | None, str | None]]

_SAME = ("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE")
NEWAPI_WORDS = {word: word for word in _SAME}  # new-api's own words (Midjourney, TaskDto)


class Reading(Struct, frozen=True):
    """How an answer shows a task's state."""

    status: str  # path of the vendor's status word
    statuses: Mapping[str, str]  # vendor word -> new-api's; others (MODAL, UNKNOWN) no state
    progress: str = ""
    progress_scale: float = 1.0  # Runway's 0..1
    reason: str = ""  # read when the task failed
    code: str = ""
    error_fails: bool = False  # fal: COMPLETED with an `error` is a failure
    files: tuple[str, ...] = ()  # URLs of a finished task's files, in output order
    ref: str = ""  # what a result route names the task by (MiniMax's file_id)


class Route(Struct, frozen=True):
    """A GET route naming a task: by the path's `id` group, or by a query parameter."""

    path: re.Pattern[str]
    query: str = ""  # the task's id (or ref) is this query parameter
    by_ref: bool = False  # names the task by its Reading.ref, not its id
    files: tuple[str, ...] = ()  # URLs in the JSON answer; none: the answer is the file
    only: tuple[str, str] = ("", "")  # a query parameter that, when given, must be this value

    def names(self, path: str, query: Mapping[str, str]) -> str | None:
        found = self.path.fullmatch(path)
        if found is None or (
            self.only[0] and query.get(self.only[0], self.only[1]) != self.only[1]
        ):
            return None
        value = query.get(self.query) if self.query else found.group("id")
        return value or None


class Submit(Struct, frozen=True):
    path: re.Pattern[str]  # POST
    subject: Subject
    task_id: tuple[str, ...]  # paths of the id in the answer, the first found
    shows: Reading | None = None  # how the answer shows the first state (None: it shows none)
    # (fields, the path's groups) -> the id of the task this one works on (an action's, a
    # remix's source), whose model or prompt the subject leaves to it
    parent: Callable[[Json, Mapping[str, str]], str] | None = None


class Family(Struct, frozen=True):
    name: str
    submits: tuple[Submit, ...]
    polls: tuple[Route, ...]
    reading: Reading
    results: tuple[Route, ...] = ()  # where the finished task's files are fetched


def _path(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _get(fields: Json, name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) else ""


# --- Subjects: what each mock endpoint matches a submission on -----------------------------


def _model_and_prompt(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    return _get(fields, "model"), _get(fields, "prompt")


def _parsed(parse: Callable[[Json, Mapping[str, str]], Any]) -> Subject:
    """A subject read by the vendor's own parser (the mock endpoint's): its model and prompt."""

    def subject(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
        parsed = parse(fields, groups)
        if isinstance(parsed, dict):
            return str(parsed["model"]), str(parsed["prompt"])
        return str(parsed.model), str(parsed.prompt)

    return subject


def _doubao(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.doubao import video

    return video.parse_create(fields)


def _wan(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.dashscope import video

    return video.parse_create(fields, "enable")


def _text2image(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.dashscope import images

    return images.parse_synthesis(fields)


def _minimax(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.minimax import video

    return video.parse_create(fields)


def _runway(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.runway import video

    return video.parse_image_to_video(fields)


def _luma(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.luma import video

    return video.parse_generation(fields)


def _luma_extension(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    return None, _get(fields, "user_prompt") or None  # the source's model (and prompt)


def _jimeng(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.jimeng import video

    return video.parse_submit(fields)


def _replicate(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.replicate import predictions

    model = f"{groups['owner']}/{groups['name']}" if groups.get("owner") else None
    return predictions.parse_create(fields, model)


def _fal(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.fal import queue

    return queue.parse_submit(f"fal-ai/{groups['model']}", fields)


def _kling(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.kling import videos

    return videos.parse_submit(groups["kind"], fields)


def _video_create(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.newapi import video_create

    return video_create.parse_create(fields)


def _remix(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    return None, _get(fields, "prompt")  # the source video's model


def _suno(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    from mockserver.protocols.suno import music

    action = groups["action"]
    return f"suno_{action}", music.prompt_of(music.parse_submit(action.upper(), fields))


def _mj(action: str, prompt_field: str = "") -> Subject:
    """A Midjourney submission: `mj_<action>`, its prompt (or, without one, the parent's)."""

    def subject(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
        return f"mj_{action}", _get(fields, prompt_field) if prompt_field else ""

    return subject


def _mj_child(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    """An action on a finished task (`/submit/action`, `/change`, `/simple-change`,
    `/video`): `mj_<action>` with the parent's prompt."""
    from mockserver.protocols.midjourney import actions

    kind = groups["kind"]
    if kind == "action":
        name = actions.parse_custom_id(_get(fields, "customId"))[0]
    elif kind == "simple-change":
        name = actions.parse_simple_change(_get(fields, "content"))[1]
    elif kind == "change":
        name = _get(fields, "action").upper()
    else:
        name = "VIDEO"
    return f"mj_{name.lower()}", None


def _mj_parent(fields: Json, groups: Mapping[str, str]) -> str:
    """The task a Midjourney action works on (`taskId`, or simple-change's `content`)."""
    if groups["kind"] == "simple-change":
        return _get(fields, "content").partition(" ")[0]
    return str(fields.get("taskId") or "")


def _in_path(fields: Json, groups: Mapping[str, str]) -> str:
    return groups["parent"]


# --- Readings -------------------------------------------------------------------------------

OPENAI_VIDEO = Reading(
    status="status",
    statuses={"queued": "QUEUED", "in_progress": "IN_PROGRESS", "completed": "SUCCESS",
              "failed": "FAILURE"},
    progress="progress", reason="error.message", code="error.code",
)  # fmt: skip
TASK_DTO = Reading(  # new-api's TaskDto in its `{code, data}` envelope
    status="data.status", statuses=NEWAPI_WORDS, progress="data.progress",
    reason="data.fail_reason", files=("data.result_url", "data.data.*.audio_url"),
)  # fmt: skip
MIDJOURNEY = Reading(
    status="status", statuses=NEWAPI_WORDS, progress="progress", reason="failReason",
    files=("imageUrl", "videoUrl"),
)  # fmt: skip
KLING = Reading(
    status="data.task_status",
    statuses={"submitted": "SUBMITTED", "processing": "IN_PROGRESS", "succeed": "SUCCESS",
              "failed": "FAILURE"},
    reason="data.task_status_msg", files=("data.task_result.videos.*.url",),
)  # fmt: skip
ARK = Reading(
    status="status",
    statuses={"queued": "QUEUED", "running": "IN_PROGRESS", "succeeded": "SUCCESS",
              "failed": "FAILURE", "cancelled": "FAILURE"},
    reason="error.message", code="error.code", files=("content.video_url",),
)  # fmt: skip
DASHSCOPE = Reading(
    status="output.task_status",
    statuses={"PENDING": "QUEUED", "RUNNING": "IN_PROGRESS", "SUCCEEDED": "SUCCESS",
              "FAILED": "FAILURE", "CANCELED": "FAILURE"},
    reason="output.message", code="output.code",
    files=("output.video_url", "output.results.*.url"),
)  # fmt: skip
MINIMAX = Reading(
    status="status",
    statuses={"Preparing": "SUBMITTED", "Queueing": "QUEUED", "Processing": "IN_PROGRESS",
              "Success": "SUCCESS", "Fail": "FAILURE"},
    reason="base_resp.status_msg", ref="file_id",
)  # fmt: skip
RUNWAY = Reading(
    status="status",
    statuses={"PENDING": "QUEUED", "THROTTLED": "QUEUED", "RUNNING": "IN_PROGRESS",
              "SUCCEEDED": "SUCCESS", "FAILED": "FAILURE", "CANCELLED": "FAILURE"},
    progress="progress", progress_scale=100, reason="failure", code="failureCode",
    files=("output.*",),
)  # fmt: skip
LUMA = Reading(
    status="state",
    statuses={"pending": "QUEUED", "processing": "IN_PROGRESS", "completed": "SUCCESS",
              "failed": "FAILURE"},
    reason="failure_reason", files=("video.url",),
)  # fmt: skip
JIMENG = Reading(
    status="data.task_status", statuses=NEWAPI_WORDS, progress="data.progress",
    reason="data.fail_reason", files=("data.video_url",),
)  # fmt: skip
REPLICATE = Reading(
    status="status",
    statuses={"starting": "QUEUED", "processing": "IN_PROGRESS", "succeeded": "SUCCESS",
              "failed": "FAILURE", "canceled": "FAILURE"},
    reason="error", files=("output", "output.*"),
)  # fmt: skip
FAL = Reading(
    status="status",
    statuses={"IN_QUEUE": "QUEUED", "IN_PROGRESS": "IN_PROGRESS", "COMPLETED": "SUCCESS"},
    reason="error", error_fails=True,
)  # fmt: skip
VIDEO_CREATE = Reading(
    status="status",
    statuses={"pending": "QUEUED", "video_generating": "IN_PROGRESS", "completed": "SUCCESS",
              "failed": "FAILURE"},
    reason="detail.failure_reason", files=("video_url",),
)  # fmt: skip

MJ = r"(?:/[^/]+)?/mj"  # `/mj` and the `/{mode}/mj` prefixes
ARK_TASKS = r"/(?:volc/v1|api/v3)/contents/generations/tasks"
DASHSCOPE_API = "/alibailian/api/v1"

FAMILIES: tuple[Family, ...] = (
    Family(
        "video",
        (
            Submit(_path("/v1/videos"), _model_and_prompt, ("id", "task_id"), OPENAI_VIDEO),
            Submit(
                _path(r"/v1/videos/(?P<parent>[^/]+)/remix"),
                _remix,
                ("id", "task_id"),
                OPENAI_VIDEO,
                parent=_in_path,
            ),
        ),
        (Route(_path(r"/v1/videos/(?P<id>[^/]+)")),),
        OPENAI_VIDEO,
        (Route(_path(r"/v1/videos/(?P<id>[^/]+)/content"), only=("variant", "video")),),
    ),
    Family(
        "video",
        (
            Submit(
                _path("/v1/video/generations"), _model_and_prompt, ("task_id", "id"), OPENAI_VIDEO
            ),
        ),
        (Route(_path(r"/v1/video/generations/(?P<id>[^/]+)")),),
        TASK_DTO,
    ),
    Family(
        "video",
        (Submit(_path("/v1/video/create"), _parsed(_video_create), ("id",), VIDEO_CREATE),),
        (Route(_path("/v1/video/query"), query="id"),),
        VIDEO_CREATE,
    ),
    Family(
        "suno",
        (Submit(_path("/suno/submit/(?P<action>music|lyrics)"), _suno, ("data",)),),
        (Route(_path(r"/suno/fetch/(?P<id>[^/]+)")),),
        TASK_DTO,
    ),
    Family(
        "midjourney",
        (
            Submit(_path(f"{MJ}/submit/imagine"), _mj("imagine", "prompt"), ("result",)),
            Submit(
                _path(f"{MJ}/submit/(?P<kind>action|change|simple-change|video)"),
                _mj_child,
                ("result",),
                parent=_mj_parent,
            ),
            Submit(_path(f"{MJ}/submit/describe"), _mj("describe"), ("result",)),
            Submit(_path(f"{MJ}/submit/blend"), _mj("blend"), ("result",)),
            Submit(_path(f"{MJ}/submit/shorten"), _mj("shorten", "prompt"), ("result",)),
            Submit(_path(f"{MJ}/insight-face/swap"), _mj("swap_face"), ("result",)),
        ),
        (Route(_path(f"{MJ}/task/(?P<id>[^/]+)/fetch")),),
        MIDJOURNEY,
    ),
    Family(
        "kling",
        (
            Submit(
                _path("/kling/v1/videos/(?P<kind>text2video|image2video)"),
                _parsed(_kling),
                ("data.task_id",),
                KLING,
            ),
        ),
        (Route(_path(r"/kling/v1/videos/(?:text2video|image2video)/(?P<id>[^/]+)")),),
        KLING,
        (Route(_path(r"/kling/files/(?P<id>[^/]+)\.mp4")),),
    ),
    Family(
        "doubao",
        (Submit(_path(ARK_TASKS), _parsed(_doubao), ("id",)),),
        (Route(_path(ARK_TASKS + "/(?P<id>[^/]+)")),),
        ARK,
    ),
    Family(
        "dashscope",
        (
            Submit(
                _path(f"{DASHSCOPE_API}/services/aigc/video-generation/video-synthesis"),
                _parsed(_wan),
                ("output.task_id",),
                DASHSCOPE,
            ),
            Submit(
                _path(f"{DASHSCOPE_API}/services/aigc/text2image/image-synthesis"),
                _parsed(_text2image),
                ("output.task_id",),
                DASHSCOPE,
            ),
        ),
        (Route(_path(DASHSCOPE_API + r"/tasks/(?P<id>[^/]+)")),),
        DASHSCOPE,
    ),
    Family(
        "minimax",
        (Submit(_path("/minimax/v1/video_generation"), _parsed(_minimax), ("task_id",)),),
        (Route(_path("/minimax/v1/query/video_generation"), query="task_id"),),
        MINIMAX,
        (
            Route(
                _path("/minimax/v1/files/retrieve"),
                query="file_id",
                by_ref=True,
                files=("file.download_url",),
            ),
        ),
    ),
    Family(
        "runway",
        (Submit(_path("/runwayml/v1/image_to_video"), _parsed(_runway), ("id",)),),
        (Route(_path(r"/runwayml/v1/tasks/(?P<id>[^/]+)")),),
        RUNWAY,
    ),
    Family(
        "luma",
        (
            Submit(_path("/luma/generations"), _parsed(_luma), ("id",), LUMA),
            Submit(
                _path("/luma/generations/(?P<parent>[^/]+)/extend"),
                _luma_extension,
                ("id",),
                LUMA,
                parent=_in_path,
            ),
        ),
        (Route(_path(r"/luma/generations/(?P<id>[^/]+)")),),
        LUMA,
    ),
    Family(
        "jimeng",
        (Submit(_path("/jimeng/submit/videos"), _parsed(_jimeng), ("data.task_id",), JIMENG),),
        (Route(_path(r"/jimeng/fetch/(?P<id>[^/]+)")),),
        JIMENG,
    ),
    Family(
        "replicate",
        (
            Submit(_path("/replicate/v1/predictions"), _parsed(_replicate), ("id",), REPLICATE),
            Submit(
                _path("/replicate/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions"),
                _parsed(_replicate),
                ("id",),
                REPLICATE,
            ),
        ),
        (Route(_path(r"/replicate/v1/predictions/(?P<id>[^/]+)")),),
        REPLICATE,
    ),
    Family(
        "fal",
        (Submit(_path("/fal-ai/(?P<model>.+)"), _parsed(_fal), ("request_id",), FAL),),
        (Route(_path(r"/fal-ai/.+/requests/(?P<id>[^/]+)/status")),),
        FAL,
        (Route(_path(r"/fal-ai/.+/requests/(?P<id>[^/]+)"), files=("video.url", "images.*.url")),),
    ),
)
