"""Replicate's prediction endpoints under `/replicate/v1`: create (by version, or an official
model's path), get, list, cancel; and the output files (`/replicate/files/{id}.mp4|.png`)."""

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
from mockserver.protocols.replicate import predictions as replicate
from mockserver.tasks import artifacts
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "replicate"
API = "/replicate/v1"


def render_error(error: APIError) -> Response:
    body = replicate.render_error(error)
    return json_response(body, error.status, {"content-type": "application/problem+json"})


def render(task: Task) -> dict[str, Any]:
    here = str(task.params.get("origin", ""))
    return replicate.render_prediction(task, f"{here}{API}", f"{here}/replicate/files")


def callback_body(task: Task) -> dict[str, Any]:
    """What Replicate POSTs to `webhook` on each change: the prediction."""
    return render(task)


def routes(state: MockState) -> list[BaseRoute]:
    async def create(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        params = request.path_params
        model = f"{params['owner']}/{params['name']}" if "owner" in params else None
        parsed = replicate.parse_create(body, model)
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            task_id=lambda decision: replicate.prediction_id(decision.key),
            stages=replicate.STAGES, action="predict",
        )  # fmt: skip
        return json_response(render(task), 201)

    async def get(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["prediction_id"], FAMILY)
        if task is None:
            raise replicate.not_found()
        entry.model = task.model
        return json_response(render(task))

    async def listing(request: Request, entry: Entry) -> Response:
        found = [render(task) for task in reversed(state.tasks.list(FAMILY))]
        return json_response({"next": None, "previous": None, "results": found})

    async def cancel(request: Request, entry: Entry) -> Response:
        prediction_id = request.path_params["prediction_id"]
        if state.tasks.get(prediction_id, FAMILY) is None:
            raise replicate.not_found()
        task = state.tasks.cancel(prediction_id, "canceled")
        if task is None:  # gone in between
            raise replicate.not_found()
        return json_response(render(task))

    async def output_file(request: Request, entry: Entry) -> Response:
        name = request.path_params["name"]
        task = state.tasks.get(name.rpartition(".")[0], FAMILY)
        if task is None or not task.succeeded or name != replicate.output_name(task):
            raise replicate.not_found()
        p = task.params
        recorded = artifacts.recorded(p)
        if recorded is not None:
            return RawResponse(recorded, media_type=b"video/mp4" if p["video"] else b"image/png")
        if p["video"]:
            video = artifacts.video_mp4(task.key, p["seconds"], p["width"], p["height"])
            return RawResponse(video, media_type=b"video/mp4")
        return RawResponse(artifacts.tile_png(task.key, 1, p["width"]), media_type=b"image/png")

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    return [
        route(f"{API}/predictions", create),
        route(f"{API}/predictions", listing, "GET"),
        route(f"{API}/models/{{owner}}/{{name}}/predictions", create),
        route(f"{API}/predictions/{{prediction_id}}", get, "GET"),
        route(f"{API}/predictions/{{prediction_id}}/cancel", cancel),
        route("/replicate/files/{name}", output_file, "GET"),
    ]
