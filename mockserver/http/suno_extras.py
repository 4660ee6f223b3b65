"""Suno's routes beyond music and lyrics, as the gateway's docs give them: `POST
/suno/submit/concat` (a whole song from a clip, a task like music), `GET /suno/act/wav/{clip_id}`
(the clip's WAV), and audio uploads (`/suno/uploads/audio…`, with the storage URL the file is
sent to)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.errors import APIError
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
from mockserver.protocols.newapi import tasks as gateway
from mockserver.protocols.suno import music as suno
from mockserver.protocols.suno import uploads
from mockserver.tasks import artifacts, submission
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "suno"
UPLOADS = "suno-upload"


def clip_not_found(clip_id: object) -> APIError:
    return APIError(400, f"clip_not_exist: {clip_id!r} is no finished clip", code="task_not_exist")


def routes(state: MockState) -> list[BaseRoute]:
    def finished_clip(clip_id: str) -> Task:
        """The finished task that made `clip_id`."""
        for task in state.tasks.list(FAMILY):
            if task.succeeded and clip_id in suno.clips_of(task):
                return task
        raise clip_not_found(clip_id)

    async def concat(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        clip_id = body.get("clip_id") if isinstance(body, dict) else None
        if not isinstance(clip_id, str) or not clip_id:
            raise gateway.invalid_request("clip_id is required")
        source = finished_clip(clip_id)
        fields = source.params["fields"]
        entry.model = "suno_concat"
        decision = submission.decide(
            state, FAMILY, request.url.path, "suno_concat", source.prompt, body,
            dict(request.headers), entry,
        )  # fmt: skip
        seconds = suno.seconds_of(source) + int(fields.get("continue_at") or 0)
        task = submission.new_task(
            decision,
            task_id=task_id(decision.key),
            family=FAMILY,
            action="CONCAT",
            model=source.model,
            prompt=source.prompt,
            defaults=suno.STAGES,
            params={"fields": fields, "platform": "suno", "clip_id": clip_id, "seconds": seconds},
        )
        return json_response(gateway.envelope(state.tasks.add(task).id))

    async def wav(request: Request, entry: Entry) -> Response:
        clip_id = request.path_params["clip_id"]
        task = finished_clip(clip_id)
        url = f"{origin(request)}/suno/clips/{task.id}/{clip_id}.wav"
        return json_response(gateway.envelope(url))

    async def request_upload(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        extension = uploads.parse_request(body)
        entry.model = "suno_upload"
        decision = submission.decide(
            state, UPLOADS, request.url.path, "suno_upload", "", body, dict(request.headers), entry
        )
        task = submission.new_task(
            decision,
            task_id=uploads.uuid_of(decision.key, "suno-upload"),
            family=UPLOADS,
            action="UPLOAD",
            model="suno_upload",
            prompt="",
            defaults=uploads.STAGES,
            params={"extension": extension},
        )
        task.held = True  # its processing starts when the upload is reported finished
        task = state.tasks.add(task)
        return json_response(uploads.render_request(task, f"{origin(request)}/suno/uploads/s3"))

    async def storage(request: Request, entry: Entry) -> Response:
        """The storage's form POST (S3's shape): the fields it was given and the file."""
        fields, files = await form_or_json(request, state)
        key = str(fields.get("key", ""))
        upload_id = key.removeprefix("raw_uploads/").rpartition(".")[0]
        task = state.tasks.get(upload_id, UPLOADS)
        if task is None or key != uploads.storage_key(task) or not files.get("file"):
            raise gateway.invalid_request("a form with a known key and a file is required")
        entry.body = {"key": key, "file": f"<{len(files['file'])} bytes>"}
        return RawResponse(b"", 204)

    def upload(request: Request) -> Task:
        task = state.tasks.get(request.path_params["upload_id"], UPLOADS)
        if task is None:
            raise gateway.not_exist()
        return task

    async def finish(request: Request, entry: Entry) -> Response:
        task = upload(request)
        uploads.check_finish(await json_body(request, state))
        if task.held:
            state.tasks.release(task.id)
        return json_response({})

    async def upload_status(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["upload_id"], UPLOADS)
        if task is None:
            raise gateway.not_exist()
        cover = f"{origin(request)}/suno/uploads/covers/{task.id}.jpeg"
        return json_response(uploads.render_status(task, cover))

    async def initialize_clip(request: Request, entry: Entry) -> Response:
        task = upload(request)
        if not task.succeeded:
            raise gateway.invalid_request(f"upload is not complete: {task.status}")
        return json_response({"clip_id": uploads.clip_id(task)})

    async def cover(request: Request, entry: Entry) -> Response:
        task = state.tasks.get(request.path_params["name"].removesuffix(".jpeg"), UPLOADS)
        if task is None or not task.succeeded:
            raise gateway.not_exist()
        return RawResponse(artifacts.cover_jpeg(task.key), media_type=b"image/jpeg")

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, gateway_error), methods=[method])

    audio = "/suno/uploads/audio"
    return [
        route("/suno/submit/concat", concat),  # ahead of `/suno/submit/{action}`
        route("/suno/act/wav/{clip_id}", wav, "GET"),
        route(audio, request_upload),
        route("/suno/uploads/s3", storage),
        route(f"{audio}/{{upload_id}}/upload-finish", finish),
        route(f"{audio}/{{upload_id}}/initialize-clip", initialize_clip),
        route(f"{audio}/{{upload_id}}", upload_status, "GET"),
        route("/suno/uploads/covers/{name}", cover, "GET"),
    ]
