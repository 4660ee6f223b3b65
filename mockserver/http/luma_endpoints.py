"""Luma's endpoints under `/luma`: `POST /luma/generations`, `POST
/luma/generations/{id}/extend`, `GET /luma/generations/{id}`, `POST /luma/tasks` (several by
id), and the MP4 and thumbnail a completed generation points at."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.errors import APIError
from mockserver.http import vendor_video
from mockserver.http.responses import RawResponse, json_response
from mockserver.http.task_endpoints import Answer, journaled, json_body
from mockserver.journal.journal import Entry
from mockserver.protocols.luma import video as luma
from mockserver.tasks import artifacts
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "luma"
PREFIX = "/luma"


def render_error(error: APIError) -> Response:
    return json_response(luma.render_error(error), error.status, error.headers)


def render(task: Task) -> dict[str, Any]:
    video = vendor_video.file_url(PREFIX, task)
    return luma.render_generation(task, video, video.removesuffix(".mp4") + ".webp")


def callback_body(task: Task) -> dict[str, Any]:
    """What `notify_hook` gets on each change: the generation."""
    return render(task)


def routes(state: MockState) -> list[BaseRoute]:
    async def generate(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        parsed = luma.parse_generation(body)
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            task_id=lambda decision: luma.task_id(decision.key), stages=luma.STAGES,
        )  # fmt: skip
        return json_response(render(task))

    async def extend(request: Request, entry: Entry) -> Response:
        source = state.tasks.get(request.path_params["generation_id"], FAMILY)
        if source is None:
            raise luma.not_found()
        body = await json_body(request, state)
        entry.body = body
        parsed = luma.parse_extension(body, source)
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            task_id=lambda decision: luma.task_id(decision.key), stages=luma.STAGES,
            action="extend",
        )  # fmt: skip
        return json_response(render(task))

    async def get(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["generation_id"], FAMILY)
        if task is None:
            raise luma.not_found()
        entry.model = task.model
        return json_response(render(task))

    async def many(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        wanted = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(wanted, list):
            raise luma.luma_error(400, "ids must be a list of generation ids")
        found = [state.tasks.poll(str(each), FAMILY) for each in wanted]
        return json_response([render(task) for task in found if task is not None])

    async def thumbnail(request: Request, entry: Entry) -> Response:
        task = state.tasks.get(request.path_params["name"].removesuffix(".webp"), FAMILY)
        if task is None or not task.succeeded:
            raise luma.not_found()
        p = task.params
        picture = artifacts.recorded(p, 0, ("webp",))  # the upstream's, when recorded
        if picture is None:
            picture = artifacts.thumbnail(task.key, p["width"], p["height"])
        return RawResponse(picture, media_type=b"image/webp")

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    video_file = vendor_video.video_file(state, FAMILY, luma.not_found)
    return [
        route(f"{PREFIX}/generations", generate),
        route(f"{PREFIX}/generations/{{generation_id}}/extend", extend),
        route(f"{PREFIX}/generations/{{generation_id}}", get, "GET"),
        route(f"{PREFIX}/tasks", many),
        route(f"{PREFIX}/files/{{name:str}}.webp", thumbnail, "GET"),
        route(f"{PREFIX}/files/{{name}}", video_file, "GET"),
    ]
