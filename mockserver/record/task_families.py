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

import msgspec
from msgspec import Struct

from mockserver.record import task_subjects as subjects
from mockserver.record.task_subjects import Json, Subject

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
    lyrics: str = ""  # path of a finished lyrics task's `{id, title, text}` (Suno's)
    outputs: str = ""  # path of a finished task's output ids (Suno's clips): a route names one


class Route(Struct, frozen=True):
    """A GET route naming a task: by the path's `id` group, or by a query parameter."""

    path: re.Pattern[str]
    query: str = ""  # the task's id (or ref) is this query parameter
    by_ref: bool = False  # names the task by its Reading.ref (or one of its outputs), not its id
    files: tuple[str, ...] = ()  # URLs in the JSON answer; none: the answer is the file
    only: tuple[str, str] = ("", "")  # a query parameter that, when given, must be this value
    wav: bool = False  # names an output (by its id): the file it links to is that output's WAV

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


class Batch(Struct, frozen=True):
    """A POST that polls several tasks at once (`{"ids": [...]}`): each item of the answer
    is one task's state, read as a single poll's answer (`wrap`: the key a single poll's
    answer holds the item under, Suno's `data`)."""

    path: re.Pattern[str]
    items: str  # path of the answer's items (`*`: the answer is the list)
    task_id: str  # path of the id in an item
    wrap: str = ""


class Family(Struct, frozen=True):
    name: str
    submits: tuple[Submit, ...]
    polls: tuple[Route, ...]
    reading: Reading
    results: tuple[Route, ...] = ()  # where the finished task's files are fetched
    batches: tuple[Batch, ...] = ()  # where several of its tasks are polled at once


def _path(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# --- Readings -------------------------------------------------------------------------------

OPENAI_VIDEO = Reading(
    status="status",
    statuses={"queued": "QUEUED", "in_progress": "IN_PROGRESS", "completed": "SUCCESS",
              "failed": "FAILURE"},
    progress="progress", reason="error.message", code="error.code",
)  # fmt: skip
TASK_DTO = Reading(  # new-api's TaskDto in its `{code, data}` envelope
    status="data.status", statuses=NEWAPI_WORDS, progress="data.progress",
    reason="data.fail_reason",
    files=("data.result_url", "data.data.*.audio_url", "data.data.*.image_url"),  # Suno's covers
)  # fmt: skip
# a lyrics task's `data` is its lyrics; a music task's, its clips (which `act/wav` names)
SUNO = msgspec.structs.replace(TASK_DTO, lyrics="data.data", outputs="data.data.*.id")
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
    reason="failure_reason", files=("video.url", "thumbnail.url"),
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
            Submit(_path("/v1/videos"), subjects.model_and_prompt, ("id", "task_id"), OPENAI_VIDEO),
            Submit(
                _path(r"/v1/videos/(?P<parent>[^/]+)/remix"),
                subjects.remix,
                ("id", "task_id"),
                OPENAI_VIDEO,
                parent=subjects.in_path,
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
                _path("/v1/video/generations"),
                subjects.model_and_prompt,
                ("task_id", "id"),
                OPENAI_VIDEO,
            ),
        ),
        (Route(_path(r"/v1/video/generations/(?P<id>[^/]+)")),),
        TASK_DTO,
    ),
    Family(
        "video",
        (
            Submit(
                _path("/v1/video/create"),
                subjects.parsed(subjects.video_create),
                ("id",),
                VIDEO_CREATE,
            ),
        ),
        (Route(_path("/v1/video/query"), query="id"),),
        VIDEO_CREATE,
    ),
    Family(
        "suno",
        (Submit(_path("/suno/submit/(?P<action>music|lyrics)"), subjects.suno, ("data",)),),
        (Route(_path(r"/suno/fetch/(?P<id>[^/]+)")),),
        SUNO,
        results=(
            Route(_path(r"/suno/act/wav/(?P<id>[^/]+)"), by_ref=True, files=("data",), wav=True),
        ),
        batches=(Batch(_path("/suno/fetch"), "data.*", "task_id", wrap="data"),),
    ),
    Family(
        "midjourney",
        (
            Submit(_path(f"{MJ}/submit/imagine"), subjects.mj("imagine", "prompt"), ("result",)),
            Submit(
                _path(f"{MJ}/submit/(?P<kind>action|change|simple-change|video)"),
                subjects.mj_child,
                ("result",),
                parent=subjects.mj_parent,
            ),
            Submit(_path(f"{MJ}/submit/describe"), subjects.mj("describe"), ("result",)),
            Submit(_path(f"{MJ}/submit/blend"), subjects.mj("blend"), ("result",)),
            Submit(_path(f"{MJ}/submit/shorten"), subjects.mj("shorten", "prompt"), ("result",)),
            Submit(_path(f"{MJ}/insight-face/swap"), subjects.mj("swap_face"), ("result",)),
        ),
        (Route(_path(f"{MJ}/task/(?P<id>[^/]+)/fetch")),),
        MIDJOURNEY,
        batches=(Batch(_path(f"{MJ}/task/list-by-condition"), "*", "id"),),
    ),
    Family(
        "kling",
        (
            Submit(
                _path("/kling/v1/videos/(?P<kind>text2video|image2video)"),
                subjects.parsed(subjects.kling),
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
        (Submit(_path(ARK_TASKS), subjects.parsed(subjects.doubao), ("id",)),),
        (Route(_path(ARK_TASKS + "/(?P<id>[^/]+)")),),
        ARK,
    ),
    Family(
        "dashscope",
        (
            Submit(
                _path(f"{DASHSCOPE_API}/services/aigc/video-generation/video-synthesis"),
                subjects.parsed(subjects.wan),
                ("output.task_id",),
                DASHSCOPE,
            ),
            Submit(
                _path(f"{DASHSCOPE_API}/services/aigc/text2image/image-synthesis"),
                subjects.parsed(subjects.text2image),
                ("output.task_id",),
                DASHSCOPE,
            ),
        ),
        (Route(_path(DASHSCOPE_API + r"/tasks/(?P<id>[^/]+)")),),
        DASHSCOPE,
    ),
    Family(
        "minimax",
        (
            Submit(
                _path("/minimax/v1/video_generation"),
                subjects.parsed(subjects.minimax),
                ("task_id",),
            ),
        ),
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
        (Submit(_path("/runwayml/v1/image_to_video"), subjects.parsed(subjects.runway), ("id",)),),
        (Route(_path(r"/runwayml/v1/tasks/(?P<id>[^/]+)")),),
        RUNWAY,
    ),
    Family(
        "luma",
        (
            Submit(_path("/luma/generations"), subjects.parsed(subjects.luma), ("id",), LUMA),
            Submit(
                _path("/luma/generations/(?P<parent>[^/]+)/extend"),
                subjects.luma_extension,
                ("id",),
                LUMA,
                parent=subjects.in_path,
            ),
        ),
        (Route(_path(r"/luma/generations/(?P<id>[^/]+)")),),
        LUMA,
        batches=(Batch(_path("/luma/tasks"), "*", "id"),),
    ),
    Family(
        "jimeng",
        (
            Submit(
                _path("/jimeng/submit/videos"),
                subjects.parsed(subjects.jimeng),
                ("data.task_id",),
                JIMENG,
            ),
        ),
        (Route(_path(r"/jimeng/fetch/(?P<id>[^/]+)")),),
        JIMENG,
    ),
    Family(
        "replicate",
        (
            Submit(
                _path("/replicate/v1/predictions"),
                subjects.parsed(subjects.replicate),
                ("id",),
                REPLICATE,
            ),
            Submit(
                _path("/replicate/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions"),
                subjects.parsed(subjects.replicate),
                ("id",),
                REPLICATE,
            ),
        ),
        (Route(_path(r"/replicate/v1/predictions/(?P<id>[^/]+)")),),
        REPLICATE,
    ),
    Family(
        "fal",
        (
            Submit(
                _path("/fal-ai/(?P<model>.+)"), subjects.parsed(subjects.fal), ("request_id",), FAL
            ),
        ),
        (Route(_path(r"/fal-ai/.+/requests/(?P<id>[^/]+)/status")),),
        FAL,
        (Route(_path(r"/fal-ai/.+/requests/(?P<id>[^/]+)"), files=("video.url", "images.*.url")),),
    ),
)
