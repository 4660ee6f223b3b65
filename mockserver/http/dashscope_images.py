"""DashScope's image routes (`mockserver.protocols.dashscope.images`): Qwen-Image's synchronous
multimodal generation, the asynchronous text-to-image submission, and fetching its task.

The asynchronous task lives on the shared task engine (`mockserver.tasks`, family
`dashscope-image`): a rule's `task:` scripts its life (one stage per fetch by default), its
`fault:` refuses the submission, its `file:` is the picture a finished task shows.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from mockserver.core.errors import APIError
from mockserver.gateway.errors import GatewayError
from mockserver.http import dashscope_endpoints, media_billing
from mockserver.http.images import from_disk
from mockserver.http.journaled import Call, journaled_endpoint
from mockserver.http.media import decide_request, file_url, make_file
from mockserver.http.responses import json_response
from mockserver.media.files import file_name
from mockserver.media.links import DASHSCOPE_IMAGES
from mockserver.protocols.dashscope import images as dashscope
from mockserver.tasks import billing

if TYPE_CHECKING:
    from mockserver.http.endpoints import Endpoint
    from mockserver.media.recipes import DiskRecipe, ImageRecipe
    from mockserver.server_state import MockState

FAMILY = "dashscope-image"
DIALECT = "dashscope.images"


async def _json(call: Call) -> Any:
    try:
        body = orjson.loads(await call.body())
    except orjson.JSONDecodeError:
        raise dashscope.invalid("The request body is not valid JSON.") from None
    call.entry.body = body
    return body


def render_error(error: APIError) -> Response:
    if isinstance(error, GatewayError):  # the key's check: the gateway's own envelope
        return json_response(error.body, error.status, error.headers)
    return json_response(dashscope.render_error(error), error.status, error.headers)


async def _pictures(
    state: MockState,
    request: Request,
    parsed: dashscope.DashScopeImageRequest,
    files: list[str | None],
    seed: int,
) -> list[str]:
    """The URLs of the request's `n` pictures (made now, served at signed URLs)."""
    from mockserver.media.recipes import ImageRecipe

    urls = []
    source = hashlib.sha256("\n".join(parsed.images).encode()).hexdigest()[:8]
    caption = parsed.model + (f" · edit of {source}" if parsed.images else "")
    for index in range(parsed.n):
        on_disk = files[index] if index < len(files) else None
        recipe: ImageRecipe | DiskRecipe
        if on_disk is not None:
            recipe, name = from_disk(on_disk, parsed.width, parsed.height, "png")
        else:
            recipe = ImageRecipe(
                seed=parsed.seed if parsed.seed is not None else seed,
                prompt=parsed.prompt,
                width=parsed.width,
                height=parsed.height,
                variant=index,
                caption=caption,
            )
            name = file_name("img", recipe.key, "png")
        await make_file(state.media, name, "image/png", recipe)
        urls.append(file_url(request, name, (state, DASHSCOPE_IMAGES, "image/png")))
    return urls


def multimodal_generation(state: MockState) -> Endpoint:
    """`POST …/services/aigc/multimodal-generation/generation`: Qwen-Image, answered at once."""

    async def endpoint(call: Call) -> ASGIApp:
        request, entry = call.request, call.entry
        assert request is not None
        body = await _json(call)
        parsed = dashscope.parse_multimodal(body)
        price_ratio = media_billing.admit_pictures(call, parsed.model, parsed.prompt)
        decision = decide_request(
            state,
            request,
            entry,
            model=parsed.model,
            prompt=parsed.prompt,
            body=body,
            outputs=parsed.n,
            content_policy=dashscope.content_policy_error(),
        )
        files = [decision.file(index) for index in range(parsed.n)]
        urls = await _pictures(state, request, parsed, files, state.engine.seed)
        entry.status = 200
        headers: dict[str, str] = {}
        media_billing.settle_pictures(call, headers, price_ratio, parsed.n)
        answer = dashscope.render_multimodal(parsed, urls, decision.key)
        return json_response(answer, 200, headers)

    return journaled_endpoint(state, DIALECT, endpoint, render_error, relay=True)


def image_synthesis(state: MockState) -> Endpoint:
    """`POST …/services/aigc/text2image/image-synthesis`: an asynchronous task, only with
    `X-DashScope-Async: enable` (as DashScope requires)."""

    async def endpoint(call: Call) -> ASGIApp:
        from mockserver.tasks import submission

        request, entry = call.request, call.entry
        assert request is not None
        billing.authenticate(state, request.scope)  # the key, before anything else
        if request.headers.get("x-dashscope-async", "").lower() != "enable":
            raise dashscope.dashscope_error(
                403, "AccessDenied", "current user api does not support synchronous calls"
            )
        body = await _json(call)
        parsed = dashscope.parse_synthesis(body)
        entry.model = parsed.model
        decision = submission.decide(
            state,
            FAMILY,
            request.url.path,
            parsed.model,
            parsed.prompt,
            body,
            dict(request.headers),
            entry,
        )
        files: list[str | None] = []
        if decision.reply is not None:
            choices = decision.reply.alternatives()
            files = [choices[i % len(choices)].file for i in range(parsed.n)]
        params = {
            "n": parsed.n,
            "width": parsed.width,
            "height": parsed.height,
            "seed": parsed.seed,
            "actual_prompt": dashscope.actual_prompt(parsed),
            "files": files,
        }
        task = submission.new_task(
            decision,
            task_id=dashscope.task_id(decision.key),
            family=FAMILY,
            action="text2image",
            model=parsed.model,
            prompt=parsed.prompt,
            defaults=dashscope.STAGES,
            params=params,
        )
        task, _ = billing.submit(state, request, task, entry)  # charged in gateway mode
        entry.status = 200
        return json_response(dashscope.render_submitted(task))

    return journaled_endpoint(state, DIALECT, endpoint, render_error)


def task(state: MockState) -> Endpoint:
    """`GET …/tasks/{task_id}` of every DashScope task (image synthesis here, Wan video in
    `dashscope_endpoints`): one more stage per fetch (or by the task clock); a task it doesn't
    know is DashScope's `UNKNOWN`."""

    async def endpoint(call: Call) -> ASGIApp:
        request, entry = call.request, call.entry
        assert request is not None
        billing.authenticate(state, request.scope)
        task_id = request.path_params["task_id"]
        video = dashscope_endpoints.poll(state, task_id, entry)
        if video is not None:  # a Wan video task: the same route answers it
            entry.status = 200
            return video
        found = state.tasks.poll(task_id, FAMILY)
        entry.status = 200
        if found is None:
            return json_response(dashscope.render_unknown(task_id))
        entry.model = found.model
        urls: list[str] = []
        if found.succeeded:
            p = found.params
            parsed = dashscope.DashScopeImageRequest(
                model=found.model,
                prompt=found.prompt,
                width=p["width"],
                height=p["height"],
                n=p["n"],
                seed=p["seed"],
            )
            seed = int(found.key[:8], 16) if p["seed"] is None else p["seed"]
            urls = await _pictures(state, request, parsed, p.get("files") or [], seed)
        return json_response(dashscope.render_task(found, urls))

    return journaled_endpoint(state, DIALECT, endpoint, render_error)
