"""Hailuo's (MiniMax's) video endpoints under `/minimax`: `POST /minimax/v1/video_generation`,
`GET /minimax/v1/query/video_generation?task_id=`, `GET /minimax/v1/files/retrieve?file_id=`,
and the MP4 a file's `download_url` points at."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.errors import APIError
from mockserver.http import vendor_video
from mockserver.http.responses import json_response
from mockserver.http.task_endpoints import Answer, journaled, json_body
from mockserver.journal.journal import Entry
from mockserver.protocols.minimax import video as minimax
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "minimax"
PREFIX = "/minimax"


def render_error(error: APIError) -> Response:
    status, body = minimax.render_error(error)
    return json_response(body, status, error.headers)


def callback_body(task: Task) -> dict[str, object]:
    """What MiniMax POSTs to `callback_url` on each change: the query's answer."""
    return minimax.render_query(task)


def routes(state: MockState) -> list[BaseRoute]:
    async def create(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        parsed = minimax.parse_create(body)
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            task_id=lambda decision: minimax.task_id(decision.key), stages=minimax.STAGES,
        )  # fmt: skip
        return json_response(minimax.submitted(task))

    async def query(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.query_params.get("task_id", ""), FAMILY)
        if task is None:
            raise minimax.invalid("task not found")
        entry.model = task.model
        return json_response(minimax.render_query(task))

    async def retrieve(request: Request, entry: Entry) -> Response:
        wanted = request.query_params.get("file_id", "")
        for task in state.tasks.list(FAMILY):  # a file id names its task's video
            if task.succeeded and minimax.file_id(task) == wanted.zfill(15):
                size = len(vendor_video.video_bytes(task))
                url = vendor_video.file_url(PREFIX, task)
                return json_response(minimax.render_file(task, url, size))
        raise minimax.invalid("file not found")

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    def missing() -> APIError:
        return APIError(404, "file not found")

    return [
        route(f"{PREFIX}/v1/video_generation", create),
        route(f"{PREFIX}/v1/query/video_generation", query, "GET"),
        route(f"{PREFIX}/v1/files/retrieve", retrieve, "GET"),
        route(f"{PREFIX}/files/{{name}}", vendor_video.video_file(state, FAMILY, missing), "GET"),
    ]
