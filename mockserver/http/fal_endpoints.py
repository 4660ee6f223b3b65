"""fal.ai's queue endpoints under `/fal-ai`: `POST /fal-ai/{model path}` submits; under the
app id, `GET …/requests/{id}/status`, `GET …/requests/{id}` (the result), `PUT
…/requests/{id}/cancel`; and the files results point at (`/fal-ai/files/{id}.mp4|.png`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.errors import APIError
from mockserver.http import vendor_video
from mockserver.http.responses import RawResponse, json_response
from mockserver.http.task_endpoints import Answer, journaled, json_body, origin
from mockserver.journal.journal import Entry
from mockserver.protocols.fal import queue as fal
from mockserver.tasks import artifacts
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "fal"
PREFIX = "/fal-ai"


def render_error(error: APIError) -> Response:
    return json_response(fal.render_error(error), error.status, error.headers)


def file_bytes(task: Task) -> tuple[bytes, bytes]:
    p = task.params
    recorded = artifacts.recorded(p)
    if recorded is not None:
        return recorded, b"video/mp4" if p["video"] else b"image/png"
    if p["video"]:
        return artifacts.video_mp4(task.key, p["seconds"], p["width"], p["height"]), b"video/mp4"
    return artifacts.tile_png(task.key, 1, p["width"]), b"image/png"


def routes(state: MockState) -> list[BaseRoute]:
    def base(request: Request, task: Task) -> str:
        return f"{origin(request)}/{fal.app_id(task.model)}"

    def found(request: Request) -> Task:
        """The request a status/result/cancel path names (its app may be `auto`)."""
        task = state.tasks.get(request.path_params["request_id"], FAMILY)
        app = request.path_params["app"]
        named = f"fal-ai/{app}"  # the app id, or the model's whole path
        if task is None or (app != "auto" and named not in (task.model, fal.app_id(task.model))):
            raise fal.not_found(request.path_params["request_id"])
        return task

    async def submit(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        parsed = fal.parse_submit(f"fal-ai/{request.path_params['model']}", body)
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            task_id=lambda decision: fal.request_id(decision.key), stages=fal.STAGES,
        )  # fmt: skip
        return json_response(fal.submitted(task, base(request, task)))

    async def status(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(found(request).id, FAMILY) or found(request)
        entry.model = task.model
        logs = request.query_params.get("logs") in ("1", "true")
        return json_response(fal.render_status(task, base(request, task), logs))

    async def result(request: Request, entry: Entry) -> Response:
        task = found(request)
        entry.model = task.model
        if not task.finished:
            raise fal.fal_error(400, "Request is still in progress")
        if not task.succeeded:
            raise fal.fal_error(422, task.reason)
        data, _ = file_bytes(task)
        extension = "mp4" if task.params["video"] else "png"
        url = f"{origin(request)}{PREFIX}/files/{task.id}.{extension}"
        return json_response(fal.render_result(task, url, len(data)))

    async def cancel(request: Request, entry: Entry) -> Response:
        task = found(request)
        if task.finished:
            return json_response({"status": "ALREADY_COMPLETED"}, 400)
        state.tasks.cancel(task.id, "cancelled by the client")
        return json_response({"status": "CANCELLATION_REQUESTED"}, 202)

    async def output_file(request: Request, entry: Entry) -> Response:
        task_id, _, extension = request.path_params["name"].rpartition(".")
        task = state.tasks.get(task_id, FAMILY)
        if task is None or not task.succeeded:
            raise fal.not_found(task_id)
        data, media_type = file_bytes(task)
        if media_type != (b"video/mp4" if extension == "mp4" else b"image/png"):
            raise fal.not_found(task_id)
        return RawResponse(data, media_type=media_type)

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    requests = f"{PREFIX}/{{app:path}}/requests/{{request_id}}"
    return [
        route(f"{PREFIX}/files/{{name}}", output_file, "GET"),
        route(f"{requests}/status", status, "GET"),
        route(f"{requests}/cancel", cancel, "PUT"),
        route(requests, result, "GET"),
        route(f"{PREFIX}/{{model:path}}", submit),
    ]
