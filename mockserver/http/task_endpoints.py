"""Endpoints of the async task families that speak OpenAI's and the gateway's video APIs:
`/v1/videos` (create, retrieve, content, remix, list, delete) and `/v1/video/generations`.
What they share with Midjourney's (`midjourney_endpoints`): one journal entry per call, the
submission through the engine (`mockserver.tasks.submission`), tasks in `state.tasks`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.http.responses import RawResponse, json_response
from mockserver.journal.journal import Entry
from mockserver.tasks import artifacts, submission
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

Endpoint = Callable[[Request], Awaitable[Response]]
Answer = Callable[[Request, Entry], Awaitable[Response]]
VIDEO_STAGES = ("QUEUED", "IN_PROGRESS")


def journaled(
    state: MockState, family: str, answer: Answer, render: Callable[[APIError], Response]
) -> Endpoint:
    """An endpoint whose call is journaled under `family`; an `APIError` it raises is sent as
    `render` words it (each family has its own error shape)."""

    async def endpoint(request: Request) -> Response:
        entry = state.journal.open(request.method, request.url.path, request.headers)
        entry.dialect = family
        try:
            response = await answer(request, entry)
        except APIError as error:
            response = render(error)
        entry.status = response.status_code
        return response

    return endpoint


def origin(request: Request) -> str:
    """Scheme and host the client called: where the files we serve are found."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


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


# --- OpenAI videos -------------------------------------------------------------------------


def video_headers(task: Task) -> dict[str, str]:
    """How long the SDK's `poll` should wait (`openai-poll-after-ms`) while a task runs."""
    return {} if task.finished else {"openai-poll-after-ms": str(task.poll_after_ms)}


def content_url(request: Request, task: Task) -> str:
    return f"{origin(request)}/v1/videos/{task.id}/content"


def openai_videos(state: MockState) -> list[BaseRoute]:
    from mockserver.protocols.newapi import tasks as gateway
    from mockserver.protocols.openai import videos

    def render(request: Request, task: Task) -> dict[str, Any]:
        return videos.render_video(task, content_url(request, task))

    async def create(request: Request, entry: Entry) -> Response:
        fields, files = await form_or_json(request, state)
        entry.body = fields | {name: f"<{len(data)} bytes>" for name, data in files.items()}
        parsed = videos.parse_create(fields, "input_reference" in files)
        entry.model = parsed["model"]
        hashed = dict(fields) | {name: ids.digest(data) for name, data in files.items()}
        decision = submission.decide(
            state,
            "video",
            "/v1/videos",
            parsed["model"],
            parsed["prompt"],
            hashed,
            dict(request.headers),
            entry,
        )
        task = submission.new_task(
            decision,
            task_id=task_id(decision.key),
            family="video",
            action="generate",
            model=parsed["model"],
            prompt=parsed["prompt"],
            defaults=VIDEO_STAGES,
            params={
                "seconds": parsed["seconds"],
                "size": parsed["size"],
                "width": parsed["width"],
                "height": parsed["height"],
                "platform": "sora",
            },
        )
        task = state.tasks.add(task)
        body = render(request, task) | {"task_id": task.id}
        return json_response(body, headers=video_headers(task))

    async def remix(request: Request, entry: Entry) -> Response:
        source_id = request.path_params["video_id"]
        body = await json_body(request, state)
        entry.body = body
        source = state.tasks.get(source_id, "video")
        if source is None:
            raise gateway.not_exist("task_origin_not_exist")
        prompt = videos.parse_remix(body)
        if not source.succeeded:
            status = gateway.video_status(source)
            raise gateway.invalid_request(
                f"video {source_id} can be remixed once completed; it is {status}"
            )
        entry.model = source.model
        endpoint = f"/v1/videos/{source_id}/remix"
        decision = submission.decide(
            state, "video", endpoint, source.model, prompt, body, dict(request.headers), entry
        )
        params = dict(source.params) | {"remixed_from": source.id}
        task = submission.new_task(
            decision,
            task_id=task_id(decision.key),
            family="video",
            action="remix",
            model=source.model,
            prompt=prompt,
            defaults=VIDEO_STAGES,
            params=params,
        )
        task = state.tasks.add(task)
        return json_response(
            render(request, task) | {"task_id": task.id}, headers=video_headers(task)
        )

    async def retrieve(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["video_id"], "video")
        if task is None:
            raise gateway.not_exist()
        entry.model = task.model
        return json_response(render(request, task), headers=video_headers(task))

    async def delete(request: Request, entry: Entry) -> Response:
        video_id = request.path_params["video_id"]
        if state.tasks.get(video_id, "video") is None or not state.tasks.delete(video_id):
            raise gateway.not_exist()
        return json_response(videos.render_deleted(video_id))

    async def listing(request: Request, entry: Entry) -> Response:
        query = request.query_params
        found = state.tasks.list("video")
        if query.get("order", "desc") != "asc":
            found.reverse()
        after = query.get("after")
        if after:
            positions = [task.id for task in found]
            found = found[positions.index(after) + 1 :] if after in positions else []
        limit_text = query.get("limit", "20")
        limit = int(limit_text) if limit_text.isdigit() else 20
        page = found[: max(1, min(limit, 100))]
        rendered = [render(request, task) for task in page]
        return json_response(videos.render_list(rendered, len(found) > len(page)))

    async def content(request: Request, entry: Entry) -> Response:
        task = state.tasks.get(request.path_params["video_id"], "video")
        if task is None:
            return json_response(videos.content_error(404, "Task not found"), 404)
        if not task.succeeded:
            message = f"Task is not completed yet, current status: {task.status}"
            return json_response(videos.content_error(400, message), 400)
        variant = request.query_params.get("variant", "video")
        if variant not in videos.VARIANTS:
            message = f"variant must be one of {', '.join(videos.VARIANTS)}; got {variant!r}"
            return json_response(videos.content_error(400, message), 400)
        width, height = task.params["width"], task.params["height"]
        if variant == "video":
            data = artifacts.video_mp4(task.key, task.params["seconds"], width, height)
        elif variant == "thumbnail":
            data = artifacts.thumbnail(task.key, width, height)
        else:
            data = artifacts.spritesheet(task.key, width, height)
        return RawResponse(data, 200, media_type=videos.VARIANTS[variant].encode())

    def route(path: str, answer: Answer, method: str) -> Route:
        return Route(
            path, journaled(state, "openai.videos", answer, gateway_error), methods=[method]
        )

    return [
        route("/v1/videos", create, "POST"),
        route("/v1/videos", listing, "GET"),
        route("/v1/videos/{video_id}", retrieve, "GET"),
        route("/v1/videos/{video_id}", delete, "DELETE"),
        route("/v1/videos/{video_id}/content", content, "GET"),
        route("/v1/videos/{video_id}/remix", remix, "POST"),
    ]


# --- The gateway's unified video API -------------------------------------------------------


def unified_video(state: MockState) -> list[BaseRoute]:
    from mockserver.protocols.newapi import tasks as gateway
    from mockserver.protocols.openai import videos

    async def submit(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        parsed = gateway.parse_video_generation(body)
        entry.model = parsed["model"]
        decision = submission.decide(
            state,
            "video",
            "/v1/video/generations",
            parsed["model"],
            parsed["prompt"],
            body,
            dict(request.headers),
            entry,
        )
        size = f"{parsed['width']}x{parsed['height']}"
        task = submission.new_task(
            decision,
            task_id=task_id(decision.key),
            family="video",
            action="generate",
            model=parsed["model"],
            prompt=parsed["prompt"],
            defaults=VIDEO_STAGES,
            params={
                "seconds": parsed["seconds"],
                "size": size,
                "width": parsed["width"],
                "height": parsed["height"],
                "platform": "video",
            },
        )
        task = state.tasks.add(task)
        return json_response(videos.render_video(task) | {"task_id": task.id})

    async def fetch(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["task_id"], "video")
        if task is None:
            raise gateway.not_exist()
        entry.model = task.model
        return json_response(gateway.envelope(gateway.task_dto(task, content_url(request, task))))

    def route(path: str, answer: Answer, method: str) -> Route:
        return Route(
            path, journaled(state, "gateway.video", answer, gateway_error), methods=[method]
        )

    return [
        route("/v1/video/generations", submit, "POST"),
        route("/v1/video/generations/{task_id}", fetch, "GET"),
    ]


def routes(state: MockState) -> list[BaseRoute]:
    """Every task family's routes (video here; Midjourney and Suno in their modules)."""
    from mockserver.http import midjourney_endpoints, suno_endpoints

    return [
        *openai_videos(state),
        *unified_video(state),
        *midjourney_endpoints.routes(state),
        *suno_endpoints.routes(state),
    ]
