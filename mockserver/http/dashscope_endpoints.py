"""DashScope's Wan video synthesis under the gateway's `/alibailian`: the asynchronous
submission (`X-DashScope-Async: enable`), its task as `GET /alibailian/api/v1/tasks/{id}`
shows it (that route is `dashscope_images`', shared by every DashScope task), and the MP4."""

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
from mockserver.protocols.dashscope import video as dashscope

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "dashscope"
API = "/alibailian/api/v1"
FILES = "/alibailian"


def render_error(error: APIError) -> Response:
    return json_response(dashscope.render_error(error), error.status, error.headers)


def video_task(state: MockState, request: Request, entry: Entry) -> Response | None:
    """`GET …/tasks/{task_id}` when the id is a Wan video task's: one more stage. (The route is
    `dashscope_images`' — one URL for every DashScope task — which asks here first; None for
    any other id.)"""
    task = state.tasks.poll(request.path_params["task_id"], FAMILY)
    if task is None:
        return None
    entry.dialect, entry.model = FAMILY, task.model
    url = vendor_video.file_url(FILES, task)
    return json_response(dashscope.render_task(task, url, f"{task.key}:{task.step}"))


def routes(state: MockState) -> list[BaseRoute]:
    async def create(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        parsed = dashscope.parse_create(body, request.headers.get("x-dashscope-async"))
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            task_id=lambda decision: dashscope.task_id(decision.key), stages=dashscope.STAGES,
        )  # fmt: skip
        return json_response(dashscope.submitted(task))

    def missing() -> APIError:
        return dashscope.dashscope_error(404, "NotFound", "The requested file does not exist.")

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    return [
        route(f"{API}/services/aigc/video-generation/video-synthesis", create),
        route(f"{FILES}/files/{{name}}", vendor_video.video_file(state, FAMILY, missing), "GET"),
    ]
