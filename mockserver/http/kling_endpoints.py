"""Kling's video endpoints under `/kling`: `POST /kling/v1/videos/{text2video,image2video}`,
`GET /kling/v1/videos/{kind}/{task_id}`, and the MP4 a finished task points at."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.errors import APIError
from mockserver.http.responses import RawResponse, json_response
from mockserver.http.task_endpoints import Answer, journaled, json_body, origin
from mockserver.journal.journal import Entry
from mockserver.protocols.kling import videos as kling
from mockserver.tasks import artifacts, billing, submission
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "kling"


def render_error(error: APIError) -> Response:
    return json_response(kling.render_error(error), error.status, error.headers)


def video_url(here: str, task: Task) -> str:
    return f"{here}/kling/files/{task.id}.mp4"


def routes(state: MockState) -> list[BaseRoute]:
    async def submit(request: Request, entry: Entry) -> Response:
        kind = request.path_params["kind"]
        body = await json_body(request, state)
        entry.body = body
        parsed = kling.parse_submit(kind, body)
        entry.model = parsed["model"]
        decision = submission.decide(
            state, FAMILY, request.url.path, parsed["model"], parsed["prompt"], body,
            dict(request.headers), entry,
        )  # fmt: skip
        task = submission.new_task(
            decision,
            task_id=kling.task_id(decision.key),
            family=FAMILY,
            action=kind,
            model=parsed["model"],
            prompt=parsed["prompt"],
            defaults=kling.STAGES,
            params=parsed | {"origin": origin(request)},
            callback_url=parsed["callback_url"],
        )
        task, charged = billing.submit(state, request, task, entry)
        body = kling.envelope(task.key, kling.render_task(task, "", full=False))
        return json_response(body, headers=charged)

    async def query(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["task_id"], FAMILY)
        if task is None or task.action != request.path_params["kind"]:
            raise kling.kling_error(404, 1203, "The requested task does not exist")
        entry.model = task.model
        data = kling.render_task(task, video_url(origin(request), task))
        return json_response(kling.envelope(f"{task.key}:{task.step}", data))

    async def video_file(request: Request, entry: Entry) -> Response:
        task_id = request.path_params["name"].removesuffix(".mp4")
        task = state.tasks.get(task_id, FAMILY)
        if task is None or not task.succeeded:
            raise kling.kling_error(404, 1203, "The requested resource does not exist")
        p = task.params
        if "file" in p:  # a recorded task's: the upstream's bytes
            return RawResponse(Path(p["file"]).read_bytes(), media_type=b"video/mp4")
        return RawResponse(
            artifacts.video_mp4(task.key, p["seconds"], p["width"], p["height"]),
            media_type=b"video/mp4",
        )

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    return [
        route("/kling/v1/videos/{kind}", submit),
        route("/kling/v1/videos/{kind}/{task_id}", query, "GET"),
        route("/kling/files/{name}", video_file, "GET"),
    ]
