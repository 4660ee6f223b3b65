"""The video task endpoints: OpenAI's `/v1/videos` (create, retrieve, content, remix, list,
delete) as the gateway serves it, and the gateway's unified video APIs
(`/v1/video/generations`, and its docs' `/v1/video/create` + `/v1/video/query`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core import ids
from mockserver.http.responses import RawResponse, json_response
from mockserver.http.task_endpoints import (
    Answer,
    form_or_json,
    gateway_error,
    journaled,
    json_body,
    origin,
    task_id,
)
from mockserver.journal.journal import Entry
from mockserver.tasks import artifacts, billing, submission
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.engine.decide import Decision
    from mockserver.server_state import MockState

VIDEO_STAGES = ("QUEUED", "IN_PROGRESS")


def submit_video(
    state: MockState,
    request: Request,
    entry: Entry,
    *,
    endpoint: str,
    model: str,
    prompt: str,
    body: dict[str, Any],
    params: dict[str, Any],
    action: str = "generate",
    task_id_of: Callable[[Decision], str] | None = None,
) -> tuple[Task, dict[str, str]]:
    """Every video route's submission: the engine's decision (a scripted fault raised), the
    task with the video family's stages, stored — charged in gateway mode, whose headers come
    back to be sent."""
    decision = submission.decide(
        state, "video", endpoint, model, prompt, body, dict(request.headers), entry
    )
    task = submission.new_task(
        decision,
        task_id=task_id_of(decision) if task_id_of else task_id(decision.key),
        family="video",
        action=action,
        model=model,
        prompt=prompt,
        defaults=VIDEO_STAGES,
        params=params,
    )
    return billing.submit(state, request, task, entry)


def sized(parsed: dict[str, Any], size: str, platform: str) -> dict[str, Any]:
    """A generation's task parameters: its length and size, and whose API asked."""
    return {
        "seconds": parsed["seconds"],
        "size": size,
        "width": parsed["width"],
        "height": parsed["height"],
        "platform": platform,
    }


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
        billing.allow(state, request, fields.get("model"))
        parsed = videos.parse_create(fields, "input_reference" in files)
        entry.model = parsed["model"]
        hashed = dict(fields) | {name: ids.digest(data) for name, data in files.items()}
        task, charged = submit_video(
            state,
            request,
            entry,
            endpoint="/v1/videos",
            model=parsed["model"],
            prompt=parsed["prompt"],
            body=hashed,
            params=sized(parsed, parsed["size"], "sora"),
        )
        body = render(request, task) | {"task_id": task.id}
        return json_response(body, headers=video_headers(task) | charged)

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
        task, charged = submit_video(
            state,
            request,
            entry,
            endpoint=f"/v1/videos/{source_id}/remix",
            model=source.model,
            prompt=prompt,
            body=body,
            params=dict(source.params) | {"remixed_from": source.id},
            action="remix",
        )
        return json_response(
            render(request, task) | {"task_id": task.id}, headers=video_headers(task) | charged
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
        if variant == "video" and "file" in task.params:  # recorded: the upstream's bytes
            data = Path(task.params["file"]).read_bytes()
        elif variant == "video":
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
        billing.allow(state, request, body.get("model") if isinstance(body, dict) else None)
        parsed = gateway.parse_video_generation(body)
        entry.model = parsed["model"]
        task, charged = submit_video(
            state,
            request,
            entry,
            endpoint="/v1/video/generations",
            model=parsed["model"],
            prompt=parsed["prompt"],
            body=body,
            params=sized(parsed, f"{parsed['width']}x{parsed['height']}", "video"),
        )
        return json_response(videos.render_video(task) | {"task_id": task.id}, headers=charged)

    async def fetch(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["task_id"], "video")
        if task is None:
            raise gateway.not_exist()
        entry.model = task.model
        return json_response(gateway.envelope(gateway.task_dto(task, content_url(request, task))))

    async def create(request: Request, entry: Entry) -> Response:
        from mockserver.protocols.newapi import video_create

        body = await json_body(request, state)
        entry.body = body
        parsed = video_create.parse_create(body)
        entry.model = parsed["model"]
        task, charged = submit_video(
            state,
            request,
            entry,
            endpoint="/v1/video/create",
            model=parsed["model"],
            prompt=parsed["prompt"],
            body=body,
            params=parsed | {"platform": "video"},
            task_id_of=lambda decision: video_create.task_id(
                decision.key, parsed["model"], decision.created
            ),
        )
        return json_response(video_create.render_created(task), headers=charged)

    async def query(request: Request, entry: Entry) -> Response:
        from mockserver.protocols.newapi import video_create

        task = state.tasks.poll(request.query_params.get("id", ""), "video")
        if task is None:
            raise gateway.not_exist()
        entry.model = task.model
        return json_response(video_create.render_query(task, content_url(request, task)))

    def route(path: str, answer: Answer, method: str) -> Route:
        return Route(
            path, journaled(state, "gateway.video", answer, gateway_error), methods=[method]
        )

    return [
        route("/v1/video/generations", submit, "POST"),
        route("/v1/video/generations/{task_id}", fetch, "GET"),
        route("/v1/video/create", create, "POST"),
        route("/v1/video/query", query, "GET"),
    ]
