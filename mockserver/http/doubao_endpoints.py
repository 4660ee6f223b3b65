"""Doubao Seedance's video task endpoints, under the gateway's `/volc/v1` and Ark's own
`/api/v3`: create, get, list (with filters), cancel or delete, and the MP4 a task points at."""

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
from mockserver.protocols.doubao import errors as ark_errors
from mockserver.protocols.doubao import video as doubao
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "doubao"
PREFIXES = ("/volc/v1", "/api/v3")
FILES = "/volc"


def render_error(error: APIError) -> Response:
    return json_response(ark_errors.render_error(error), error.status, error.headers)


def callback_body(task: Task) -> dict[str, object]:
    """What Ark POSTs to a task's `callback_url` on each change: the task object."""
    return doubao.render_task(task, vendor_video.file_url(FILES, task))


def routes(state: MockState) -> list[BaseRoute]:
    async def create(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        parsed = doubao.parse_create(body)
        task = vendor_video.submit(
            state, request, entry, family=FAMILY, parsed=parsed, body=body,
            task_id=lambda decision: doubao.task_id(decision.key, decision.created),
            stages=doubao.STAGES,
        )  # fmt: skip
        return json_response({"id": task.id})

    async def get(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["task_id"], FAMILY)
        if task is None:
            raise ark_errors.not_found(request.path_params["task_id"])
        entry.model = task.model
        return json_response(doubao.render_task(task, vendor_video.file_url(FILES, task)))

    async def listing(request: Request, entry: Entry) -> Response:
        query: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            query.setdefault(name, []).append(value)
        filters = doubao.parse_filters(query)
        found = [t for t in reversed(state.tasks.list(FAMILY)) if doubao.matches(t, filters)]
        start = (filters["page_num"] - 1) * filters["page_size"]
        page = found[start : start + filters["page_size"]]
        items = [doubao.render_task(t, vendor_video.file_url(FILES, t)) for t in page]
        return json_response({"total": len(found), "items": items})

    async def delete(request: Request, entry: Entry) -> Response:
        """Ark cancels a queued task and deletes a finished one's record; a running one
        cannot be stopped."""
        task_id = request.path_params["task_id"]
        task = state.tasks.get(task_id, FAMILY)
        if task is None:
            raise ark_errors.not_found(task_id)
        if task.status == "IN_PROGRESS":
            raise ark_errors.ark_error(
                409, "OperationDenied.RunningTask",
                f"The task `{task_id}` is running and cannot be cancelled or deleted.",
            )  # fmt: skip
        if task.finished:
            state.tasks.delete(task_id)
        else:
            state.tasks.cancel(task_id)
        return json_response({})

    video_file = vendor_video.video_file(state, FAMILY, lambda: ark_errors.not_found("file"))

    def route(path: str, answer: Answer, method: str) -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    found: list[BaseRoute] = [route(f"{FILES}/files/{{name}}", video_file, "GET")]
    for prefix in PREFIXES:
        tasks = f"{prefix}/contents/generations/tasks"
        found += [
            route(tasks, create, "POST"),
            route(tasks, listing, "GET"),
            route(f"{tasks}/{{task_id}}", get, "GET"),
            route(f"{tasks}/{{task_id}}", delete, "DELETE"),
        ]
    return found
