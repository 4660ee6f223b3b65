"""What the pass-through video families' endpoints share (Doubao, DashScope, Hailuo, Runway,
Luma, Jimeng: each vendor's own shape under the gateway's prefix): a submission made into a
task through the engine, and the MP4 a finished task points at."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from mockserver.http.responses import RawResponse
from mockserver.http.task_endpoints import Answer, origin
from mockserver.journal.journal import Entry
from mockserver.tasks import artifacts, billing, submission
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.core.errors import APIError
    from mockserver.engine.decide import Decision
    from mockserver.server_state import MockState


def submit(
    state: MockState,
    request: Request,
    entry: Entry,
    *,
    family: str,
    parsed: dict[str, Any],
    body: Any,
    task_id: Callable[[Decision], str],
    stages: Sequence[str],
    action: str = "generate",
) -> Task:
    """A video task for a parsed submission (`model`, `prompt`, `seconds`, `width`, `height`,
    and `callback_url` if the request names one), stored, and in gateway mode charged. A
    scripted fault, or the gateway's refusal, is raised here."""
    entry.model = parsed["model"]
    decision = submission.decide(
        state, family, request.url.path, parsed["model"], parsed["prompt"],
        body if isinstance(body, dict) else {}, dict(request.headers), entry,
    )  # fmt: skip
    task = submission.new_task(
        decision,
        task_id=task_id(decision),
        family=family,
        action=action,
        model=parsed["model"],
        prompt=parsed["prompt"],
        defaults=stages,
        params=parsed | {"origin": origin(request)},
        callback_url=parsed.get("callback_url") or None,
    )
    # Charged at submission in gateway mode, refunded on FAILURE (`tasks.billing`); these
    # vendor-shaped relays send none of new-api's own task headers.
    task, _ = billing.submit(state, request, task, entry)
    return task


def file_url(prefix: str, task: Task) -> str:
    """Where a finished task's MP4 is served: `{origin}{prefix}/files/{task_id}.mp4`."""
    return f"{task.params.get('origin', '')}{prefix}/files/{task.id}.mp4"


def video_bytes(task: Task) -> bytes:
    """A finished task's MP4: the upstream's when recorded, else made from its key."""
    p = task.params
    recorded = artifacts.recorded(p)
    if recorded is not None:
        return recorded
    return artifacts.video_mp4(task.key, p["seconds"], p["width"], p["height"])


def video_file(state: MockState, family: str, missing: Callable[[], APIError]) -> Answer:
    """`GET {prefix}/files/{task_id}.mp4`: the MP4 of a finished task of `family` (its
    `seconds` at `width` × `height`, or the upstream's when recorded); `missing()` for any
    other name."""

    async def answer(request: Request, entry: Entry) -> Response:
        task_id = request.path_params["name"].removesuffix(".mp4")
        task = state.tasks.get(task_id, family)
        if task is None or not task.succeeded:
            raise missing()
        return RawResponse(video_bytes(task), media_type=b"video/mp4")

    return answer
