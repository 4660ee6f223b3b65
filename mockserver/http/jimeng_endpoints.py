"""Jimeng's video endpoints under `/jimeng` (the gateway's docs): `POST /jimeng/submit/videos`,
`GET /jimeng/fetch/{task_id}`, and the MP4 a finished task points at."""

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
from mockserver.protocols.doubao import video as doubao
from mockserver.protocols.jimeng import video as jimeng

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "jimeng"
PREFIX = "/jimeng"


def render_error(error: APIError) -> Response:
    return json_response(jimeng.render_error(error), error.status, error.headers)


def routes(state: MockState) -> list[BaseRoute]:
    async def submit(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        parsed = jimeng.parse_submit(body)
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            # the docs' ids are Seedance's ("cgt-20250829165122-qkwch")
            task_id=lambda decision: doubao.task_id(f"jimeng:{decision.key}", decision.created),
            stages=jimeng.STAGES,
        )  # fmt: skip
        return json_response(jimeng.envelope(task.key, jimeng.render_task(task, "", full=False)))

    async def fetch(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["task_id"], FAMILY)
        if task is None:
            raise jimeng.not_found(request.path_params["task_id"])
        entry.model = task.model
        data = jimeng.render_task(task, vendor_video.file_url(PREFIX, task))
        return json_response(jimeng.envelope(f"{task.key}:{task.step}", data))

    def missing() -> APIError:
        return jimeng.not_found("file")

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    return [
        route(f"{PREFIX}/submit/videos", submit),
        route(f"{PREFIX}/fetch/{{task_id}}", fetch, "GET"),
        route(f"{PREFIX}/files/{{name}}", vendor_video.video_file(state, FAMILY, missing), "GET"),
    ]
