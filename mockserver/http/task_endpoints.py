"""What the async task families' endpoints share (video in `video_endpoints`, Midjourney in
`midjourney_endpoints`, Suno in `suno_endpoints`): one journal entry per call, errors in the
family's shape, bodies read as JSON or forms, the public task id, and every family's routes.
Submissions go through the engine (`mockserver.tasks.submission`); tasks live in `state.tasks`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mockserver import faults
from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.gateway.errors import GatewayError
from mockserver.http.responses import json_response
from mockserver.journal.journal import Entry

if TYPE_CHECKING:
    from mockserver.server_state import MockState
    from mockserver.tasks.task import Task

Endpoint = Callable[[Request], Awaitable[Response]]
Answer = Callable[[Request, Entry], Awaitable[Response]]


def journaled(
    state: MockState, family: str, answer: Answer, render: Callable[[APIError], Response]
) -> Endpoint:
    """An endpoint whose call is journaled under `family` (`mockserver.http.journaled`); an
    `APIError` it raises (or the `x-mock-fault` header forces) is sent as `render` words it
    (each family has its own error shape)."""

    from mockserver.http.journaled import Call, journaled_endpoint

    def words(error: APIError) -> Response:
        if isinstance(error, GatewayError):  # the gateway's own body, whatever the family
            return json_response(error.body, error.status, error.headers)
        return render(error)

    async def respond(call: Call) -> Response:
        request = call.request
        assert request is not None
        if call.gateway is not None:  # the key first, as the gateway's middleware
            from mockserver.tasks import billing

            call.caller = billing.authenticate(state, request.scope)
        if faults.HEADER in request.headers:
            forced_fault(state, request, call.entry)
        return await answer(request, call.entry)

    return journaled_endpoint(state, family, respond, words)  # type: ignore[return-value]


def forced_fault(state: MockState, request: Request, entry: Entry) -> None:
    """`x-mock-fault` on a submission or a poll: its status error, in the family's shape (a
    transport fault, such as a cut connection, is not offered on task endpoints)."""
    fault = faults.fault_from_headers(request.headers)
    if fault is not None and faults.is_status(fault):
        entry.fault = faults.summarize(fault, "header")
        raise faults.status_error(fault, faults.ErrorContext(state.dialects.rerank, ""))


def origin(request: Request) -> str:
    """Scheme and host the client called: where the files we serve are found. (Read from the
    scope: building `request.url` costs more than the rest of a poll.)"""
    scope = request.scope
    host = request.headers.get("host")
    if host is None:
        server_host, port = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server_host}:{port}"
    return f"{scope.get('scheme', 'http')}://{host}"


def task_id(key: str) -> str:
    """new-api's public task id: "task_" and 32 characters."""
    return ids.derive_id(key, "task", 32)


async def json_body(request: Request, state: MockState) -> Any:
    from mockserver.engine.pipeline import read_body

    raw = await read_body(request.receive, request.scope["headers"], state.settings.max_body_bytes)
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise APIError(400, "invalid request body: not JSON", code="invalid_json") from None


async def form_or_json(
    request: Request, state: MockState
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The fields of a multipart (or url-encoded) form or a JSON object, and any files' bytes."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > state.settings.max_body_bytes:
            raise APIError(413, "request body too large", code="read_request_body_failed")
        fields: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        async with request.form() as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[name] = await value.read()
                else:
                    fields[name] = value
        return fields, files
    body = await json_body(request, state)
    if not isinstance(body, dict):
        raise APIError(400, "invalid request body: expected a JSON object", code="invalid_request")
    return body, {}


def gateway_error(error: APIError) -> Response:
    from mockserver.protocols.newapi.tasks import task_error

    return json_response(task_error(error), error.status, error.headers)


def callback_body(task: Task) -> dict[str, Any]:
    """What a task's callback carries: the family's own task object, as a fetch shows it."""
    here = str(task.params.get("origin", ""))
    if task.family == "midjourney":
        from mockserver.protocols.midjourney import tasks as mj

        return mj.render_task(task, here)
    if task.family == "kling":  # Kling posts the task object, as its query shows it
        from mockserver.http.kling_endpoints import video_url
        from mockserver.protocols.kling import videos as kling

        return kling.render_task(task, video_url(here, task))
    if task.family == "doubao":
        from mockserver.http.doubao_endpoints import callback_body as doubao_body

        return doubao_body(task)
    if task.family == "minimax":
        from mockserver.http.minimax_endpoints import callback_body as minimax_body

        return minimax_body(task)
    if task.family == "luma":
        from mockserver.http.luma_endpoints import callback_body as luma_body

        return luma_body(task)
    if task.family == "replicate":
        from mockserver.http.replicate_endpoints import callback_body as replicate_body

        return replicate_body(task)
    if task.family == "suno":
        from mockserver.protocols.newapi import tasks as gateway
        from mockserver.protocols.suno import music as suno

        return gateway.task_dto(task, None, suno.render_data(task, here))
    from mockserver.protocols.openai import videos

    return videos.render_video(task, f"{here}/v1/videos/{task.id}/content")


def routes(state: MockState) -> list[BaseRoute]:
    """Every task family's routes (video here; Midjourney and Suno in their modules)."""
    from mockserver.http import (
        dashscope_endpoints,
        doubao_endpoints,
        fal_endpoints,
        jimeng_endpoints,
        kling_endpoints,
        luma_endpoints,
        midjourney_endpoints,
        minimax_endpoints,
        replicate_endpoints,
        runway_endpoints,
        suno_endpoints,
        suno_extras,
        video_endpoints,
    )

    return [
        *video_endpoints.openai_videos(state),
        *video_endpoints.unified_video(state),
        *midjourney_endpoints.routes(state),
        *suno_extras.routes(state),  # before suno's: `/suno/submit/concat`
        *suno_endpoints.routes(state),
        *kling_endpoints.routes(state),
        *doubao_endpoints.routes(state),
        *dashscope_endpoints.routes(state),
        *minimax_endpoints.routes(state),
        *runway_endpoints.routes(state),
        *luma_endpoints.routes(state),
        *jimeng_endpoints.routes(state),
        *replicate_endpoints.routes(state),
        *fal_endpoints.routes(state),
    ]
