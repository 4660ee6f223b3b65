"""Midjourney's endpoints, under `/mj/` and `/{mode}/mj/` (mj-fast, mj-relax...): imagine,
action, change, simple-change, fetch, list-by-condition, and the images a finished task shows
(`/mj/image/{id}`, no key needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.http.responses import RawResponse, json_response
from mockserver.http.task_endpoints import Answer, journaled, json_body, origin
from mockserver.journal.journal import Entry
from mockserver.protocols.midjourney import actions
from mockserver.protocols.midjourney import tasks as mj
from mockserver.tasks import artifacts, billing, submission
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.server_state import MockState

FAMILY = "midjourney"


def render_error(error: APIError) -> Response:
    return json_response(mj.render_error(error), error.status, error.headers)


def routes(state: MockState) -> list[BaseRoute]:
    def submit(
        request: Request,
        entry: Entry,
        body: dict[str, Any],
        action: str,
        prompt: str,
        params: dict[str, Any],
        held: bool = False,
    ) -> Response:
        model = f"mj_{action.lower()}"
        entry.model = model
        decision = submission.decide(
            state, FAMILY, request.url.path, model, prompt, body, dict(request.headers), entry
        )
        task = submission.new_task(
            decision,
            task_id=mj.task_id(decision.key, decision.created),
            family=FAMILY,
            action=action,
            model=model,
            prompt=prompt,
            defaults=mj.STAGES,
            params=params | {"origin": origin(request)},
            callback_url=str(body.get("notifyHook") or "") or None,
        )
        task.held = held
        task, charged = billing.submit(state, request, task, entry)
        return json_response(mj.submitted(task), headers=charged)

    async def object_body(request: Request, entry: Entry) -> dict[str, Any]:
        body = await json_body(request, state)
        if not isinstance(body, dict):
            raise actions.mj_error("invalid_request")
        entry.body = body
        return body

    async def imagine(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise actions.mj_error("prompt_is_required")
        bot_type = body.get("botType") or "MID_JOURNEY"
        params = {"bot_type": bot_type, "state": body.get("state") or ""}
        return submit(request, entry, body, "IMAGINE", prompt, params)

    def child(
        request: Request,
        entry: Entry,
        body: dict[str, Any],
        origin_id: Any,
        action: str,
        index: int,
    ) -> Response:
        parent = state.tasks.get(str(origin_id or ""), FAMILY)
        if parent is None:
            raise actions.mj_error("task_not_found")
        if not parent.succeeded:
            raise actions.mj_error("task_status_not_success")
        params = {
            "bot_type": parent.params.get("bot_type", "MID_JOURNEY"),
            "state": body.get("state") or "",
            "parent": parent.id,
            "parent_key": parent.key,
            "index": index,
            "custom_id": body.get("customId") or "",
        }
        held = action in mj.NEEDS_MODAL
        return submit(request, entry, body, action, parent.prompt, params, held)

    async def action(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        name, index = actions.parse_custom_id(str(body.get("customId") or ""))
        return child(request, entry, body, body.get("taskId"), name, index)

    async def change(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        name = str(body.get("action") or "").upper()
        index = body.get("index")
        if not body.get("taskId"):
            raise actions.mj_error("task_id_is_required")
        if not name:
            raise actions.mj_error("action_is_required")
        if name not in ("UPSCALE", "VARIATION", "REROLL"):
            raise actions.mj_error("unknown_action")
        if not index and name != "REROLL":
            raise actions.mj_error("index_is_required")
        if name != "REROLL" and (not isinstance(index, int) or not 1 <= index <= 4):
            raise actions.mj_error("index_parse_failed")
        return child(request, entry, body, body.get("taskId"), name, index or 0)

    async def describe(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        params = {
            "bot_type": body.get("botType") or "MID_JOURNEY",
            "state": body.get("state") or "",
        }
        return submit(request, entry, body, "DESCRIBE", "", params)

    async def blend(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        images = body.get("base64Array")
        if not isinstance(images, list) or not 2 <= len(images) <= 5:
            raise actions.mj_error("base64Array must hold 2 to 5 images")
        params = {
            "bot_type": body.get("botType") or "MID_JOURNEY",
            "state": body.get("state") or "",
        }
        return submit(request, entry, body, "BLEND", "", params)

    async def shorten(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise actions.mj_error("prompt_is_required")
        params = {
            "bot_type": body.get("botType") or "MID_JOURNEY",
            "state": body.get("state") or "",
        }
        return submit(request, entry, body, "SHORTEN", prompt, params)

    async def modal(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        task_id = str(body.get("taskId") or "")
        if not task_id:
            raise actions.mj_error("task_id_is_required")
        task = state.tasks.get(task_id, FAMILY)
        if task is None:
            raise actions.mj_error("task_not_found")
        if not task.held:
            raise actions.mj_error("task_status_not_modal")
        task = state.tasks.release(task_id)
        assert task is not None
        return json_response(mj.submitted(task))

    async def video(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        if not body.get("taskId"):
            raise actions.mj_error("task_id_is_required")
        raw_index = body.get("index")
        index = raw_index if isinstance(raw_index, int) else 1
        return child(request, entry, body, body.get("taskId"), "VIDEO", index)

    async def swap_face(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        for name in ("sourceBase64", "targetBase64"):
            if not body.get(name):
                raise actions.mj_error(f"{name}_is_required")
        params = {"bot_type": "INSIGHT_FACE", "state": body.get("state") or ""}
        return submit(request, entry, body, "SWAP_FACE", "", params)

    async def upload(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        images = body.get("base64Array")
        if not isinstance(images, list) or not images:
            raise actions.mj_error("base64Array_is_required")
        entry.body = {"base64Array": [f"<{len(str(i))} characters>" for i in images]}
        here = origin(request)
        urls = [f"{here}/mj/image/upload-{ids.digest(str(i))[:24]}" for i in images]
        return json_response({"code": 1, "description": "success", "result": urls})

    async def video_file(request: Request, entry: Entry) -> Response:
        task = state.tasks.get(request.path_params["name"].removesuffix(".mp4"), FAMILY)
        if task is None or not task.succeeded or task.action != "VIDEO":
            raise APIError(404, "task_no_found", code="4")
        video = artifacts.recorded(task.params) or artifacts.video_mp4(task.key, 5, 512, 512)
        return RawResponse(video, media_type=b"video/mp4")

    async def image_seed(request: Request, entry: Entry) -> Response:
        task = state.tasks.get(request.path_params["task_id"], FAMILY)
        if task is None:
            raise actions.mj_error("task_no_found")
        return json_response({"code": 1, "description": "success", "result": mj.seed(task)})

    async def simple_change(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        task_id, name, index = actions.parse_simple_change(str(body.get("content") or ""))
        return child(request, entry, body, task_id, name, index)

    async def fetch(request: Request, entry: Entry) -> Response:
        task = state.tasks.poll(request.path_params["task_id"], FAMILY)
        if task is None:
            raise actions.mj_error("task_no_found")
        return json_response(mj.render_task(task, origin(request)))

    async def list_by_condition(request: Request, entry: Entry) -> Response:
        body = await object_body(request, entry)
        wanted = body.get("ids") or []
        if not isinstance(wanted, list):
            raise actions.mj_error("invalid_request")
        found = [state.tasks.poll(str(task_id), FAMILY) for task_id in wanted]
        here = origin(request)
        return json_response([mj.render_task(task, here) for task in found if task is not None])

    async def image(request: Request, entry: Entry) -> Response:
        name = request.path_params["task_id"]
        if name.startswith("upload-"):  # an uploaded image's stand-in (the upload isn't kept)
            return RawResponse(artifacts.tile_png(name, 1), 200, media_type=b"image/png")
        task = state.tasks.get(name, FAMILY)
        if task is None or not task.succeeded:
            raise APIError(404, "task_no_found", code="4")
        return RawResponse(image_png(task), 200, media_type=b"image/png")

    def route(path: str, answer: Answer, method: str = "POST") -> Route:
        return Route(path, journaled(state, FAMILY, answer, render_error), methods=[method])

    inner = [
        route("/submit/imagine", imagine),
        route("/submit/action", action),
        route("/submit/change", change),
        route("/submit/simple-change", simple_change),
        route("/submit/describe", describe),
        route("/submit/blend", blend),
        route("/submit/shorten", shorten),
        route("/submit/modal", modal),
        route("/submit/video", video),
        route("/submit/upload-discord-images", upload),
        route("/insight-face/swap", swap_face),
        route("/video/{name}", video_file, "GET"),
        route("/task/{task_id}/fetch", fetch, "GET"),
        route("/task/{task_id}/image-seed", image_seed, "GET"),
        route("/task/list-by-condition", list_by_condition),
        route("/image/{task_id}", image, "GET"),
    ]
    # Mounted, so that other paths pass these routes with two tests, not two dozen.
    return [Mount("/mj", routes=inner), Mount("/{mode}/mj", routes=inner)]


def image_png(task: Task) -> bytes:
    """The upstream's image when recorded; else an upscale's single image (its parent's
    tile), else the task's own 2×2 grid."""
    recorded = artifacts.recorded(task.params)
    if recorded is not None:
        return recorded
    if task.action == "UPSCALE":
        return artifacts.tile_png(task.params["parent_key"], task.params["index"])
    if task.action in ("DESCRIBE", "SWAP_FACE"):  # the image described; the swapped face
        return artifacts.tile_png(task.key, 1)
    return artifacts.grid_png(task.key)
