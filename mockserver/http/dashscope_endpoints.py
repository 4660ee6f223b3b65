"""DashScope's Wan video synthesis under the gateway's `/alibailian`: the asynchronous
submission (`X-DashScope-Async: enable`), its polls (`poll`, through the one DashScope tasks
route of `dashscope_images`), and the MP4."""

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


def poll(state: MockState, task_id: str, entry: Entry) -> Response | None:
    """A Wan video task's `GET /api/v1/tasks/{id}` (one route serves every DashScope task:
    `http/dashscope_images.task` asks here first); None when `task_id` is no video task."""
    known = state.tasks.get(task_id, FAMILY)
    if known is None:
        return None
    task = state.tasks.poll(task_id, FAMILY)
    assert task is not None
    entry.model = task.model
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
