"""Runway's task endpoints under `/runwayml`: `POST /runwayml/v1/image_to_video`,
`GET /runwayml/v1/tasks/{id}`, `DELETE` (cancel or delete), and the MP4 a task points at."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.errors import APIError
from mockserver.http import vendor_video
from mockserver.http.responses import RawResponse, json_response
from mockserver.http.task_endpoints import Answer, journaled, json_body
from mockserver.journal.journal import Entry
from mockserver.protocols.runway import video as runway

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "runway"
PREFIX = "/runwayml"


def render_error(error: APIError) -> Response:
    return json_response(runway.render_error(error), error.status, error.headers)


def routes(state: MockState) -> list[BaseRoute]:
    async def image_to_video(request: Request, entry: Entry) -> Response:
        runway.check_version(request.headers.get("x-runway-version"))
        body = await json_body(request, state)
        entry.body = body
        parsed = runway.parse_image_to_video(body)
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            task_id=lambda decision: runway.task_id(decision.key), stages=runway.STAGES,
            action="image_to_video",
        )  # fmt: skip
        return json_response({"id": task.id})

    async def retrieve(request: Request, entry: Entry) -> Response:
        runway.check_version(request.headers.get("x-runway-version"))
        task = state.tasks.poll(request.path_params["task_id"], FAMILY)
        if task is None:
            raise runway.not_found()
        entry.model = task.model
        return json_response(runway.render_task(task, [vendor_video.file_url(PREFIX, task)]))

    async def cancel(request: Request, entry: Entry) -> Response:
        """Runway cancels a pending or running task; any other it deletes."""
        runway.check_version(request.headers.get("x-runway-version"))
        task_id = request.path_params["task_id"]
        task = state.tasks.get(task_id, FAMILY)
        if task is None:
            raise runway.not_found()
        if task.finished:
            state.tasks.delete(task_id)
        else:
            state.tasks.cancel(task_id)
        return RawResponse(b"", 204)

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    video_file = vendor_video.video_file(state, FAMILY, runway.not_found)
    return [
        route(f"{PREFIX}/v1/image_to_video", image_to_video),
        route(f"{PREFIX}/v1/tasks/{{task_id}}", retrieve, "GET"),
        route(f"{PREFIX}/v1/tasks/{{task_id}}", cancel, "DELETE"),
        route(f"{PREFIX}/files/{{name}}", video_file, "GET"),
    ]
