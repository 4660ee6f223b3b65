"""Suno's endpoints (`/suno/submit/{music,lyrics}`, `/suno/fetch`, `/suno/fetch/{id}`) and the
files its clips point at (`/suno/clips/{task_id}/{clip_id}.mp3|.wav|.jpeg`); concat, WAV and
uploads are in `suno_extras`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.http.responses import RawResponse, json_response
from mockserver.http.task_endpoints import (
    Answer,
    gateway_error,
    journaled,
    json_body,
    origin,
    task_id,
)
from mockserver.journal.journal import Entry
from mockserver.protocols.newapi import tasks as gateway
from mockserver.protocols.suno import music as suno
from mockserver.tasks import artifacts, billing, submission
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "suno"


def routes(state: MockState) -> list[BaseRoute]:
    def dto(request: Request, task: Task) -> dict[str, object]:
        return gateway.task_dto(task, None, suno.render_data(task, origin(request)))

    async def submit(request: Request, entry: Entry) -> Response:
        action = request.path_params["action"].upper()
        body = await json_body(request, state)
        entry.body = body
        fields = suno.parse_submit(action, body)
        model = f"suno_{action.lower()}"
        entry.model = model
        prompt = suno.prompt_of(fields)
        decision = submission.decide(
            state, FAMILY, request.url.path, model, prompt, fields, dict(request.headers), entry
        )
        params = {"fields": fields, "platform": "suno"}
        if action == "LYRICS":
            params["lyrics_id"] = suno.clip_ids(decision.key)[0]
            lyrics = decision.task.lyrics if decision.task is not None else None
            if lyrics is not None:  # the upstream's (recorded) or the scenario's own
                params["lyrics"] = {"text": lyrics.text, "title": lyrics.title}
                params["lyrics_id"] = lyrics.id or params["lyrics_id"]
        task = submission.new_task(
            decision,
            task_id=task_id(decision.key),
            family=FAMILY,
            action=action,
            model=str(fields.get("mv", model)),
            prompt=prompt,
            defaults=suno.STAGES,
            params=params,
        )
        task, charged = billing.submit(state, request, task, entry)
        return json_response(gateway.envelope(task.id), headers=charged)

    async def fetch_one(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["task_id"], FAMILY)
        if task is None:
            raise gateway.not_exist()
        return json_response(gateway.envelope(dto(request, task)))

    async def fetch_many(request: Request, entry: Entry) -> Response:
        body = await json_body(request, state)
        entry.body = body
        wanted = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(wanted, list):
            raise gateway.invalid_request("ids must be a list of task ids")
        found = [state.tasks.poll(str(each), FAMILY) for each in wanted]
        return json_response(gateway.envelope([dto(request, t) for t in found if t is not None]))

    async def clip_file(request: Request, entry: Entry) -> Response:
        clip_id, _, extension = request.path_params["name"].rpartition(".")
        task = state.tasks.get(request.path_params["task_id"], FAMILY)
        if (
            task is None
            or not task.succeeded
            or clip_id not in suno.clips_of(task)
            or extension not in ("mp3", "wav", "jpeg")
        ):
            raise gateway.not_exist()
        if extension == "mp3":
            # the upstream's clip when recorded (one file per clip, in order)
            audio = artifacts.recorded(task.params, suno.clips_of(task).index(clip_id), ("mp3",))
            if audio is None:
                audio = artifacts.audio_mp3(clip_id, suno.seconds_of(task))
            return RawResponse(audio, media_type=b"audio/mpeg")
        if extension == "wav":  # `/suno/act/wav/{clip_id}` points here
            wavs = task.params.get("wavs") or []  # the upstream's, when recorded
            index = suno.clips_of(task).index(clip_id)
            if index < len(wavs) and wavs[index]:
                return RawResponse(Path(wavs[index]).read_bytes(), media_type=b"audio/wav")
            seconds = suno.seconds_of(task)
            return RawResponse(artifacts.audio_wav(clip_id, seconds), media_type=b"audio/wav")
        index = suno.clips_of(task).index(clip_id)
        cover = artifacts.recorded(task.params, index, ("jpg", "jpeg"))  # the upstream's cover
        return RawResponse(cover or artifacts.cover_jpeg(clip_id), media_type=b"image/jpeg")

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, gateway_error), methods=[method])

    return [
        route("/suno/submit/{action}", submit),
        route("/suno/fetch", fetch_many),
        route("/suno/fetch/{task_id}", fetch_one, "GET"),
        route("/suno/clips/{task_id}/{name}", clip_file, "GET"),
    ]
