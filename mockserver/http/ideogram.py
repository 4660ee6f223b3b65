"""Ideogram under the gateway's `/ideogram` prefix: 3.0's multipart actions and the legacy
ones (`mockserver.protocols.ideogram.images`), pictures drawn and served like OpenAI's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

from mockserver.core import ids
from mockserver.core.errors import invalid_request
from mockserver.engine.pipeline import parse_json
from mockserver.http import media_billing
from mockserver.http.images import from_disk
from mockserver.http.journaled import Call, journaled_endpoint
from mockserver.http.media import (
    decide_request,
    describe_upload,
    file_url,
    make_file,
    paced_body,
)
from mockserver.http.responses import json_response
from mockserver.media.files import file_name
from mockserver.media.links import IDEOGRAM_IMAGES
from mockserver.media.multipart import Form, read_form
from mockserver.protocols.ideogram import images as protocol

if TYPE_CHECKING:
    from mockserver.http.endpoints import Endpoint
    from mockserver.server_state import MockState

MODEL = "ideogram-v3"


def v3(state: MockState) -> Endpoint:
    async def endpoint(call: Call) -> ASGIApp:
        return await _handle(call, legacy=False)

    return journaled_endpoint(state, "ideogram", endpoint, state.dialects.rerank, relay=True)


def legacy(state: MockState) -> Endpoint:
    async def endpoint(call: Call) -> ASGIApp:
        return await _handle(call, legacy=True)

    return journaled_endpoint(state, "ideogram", endpoint, state.dialects.rerank, relay=True)


async def _handle(call: Call, *, legacy: bool) -> ASGIApp:
    from mockserver.media.images import image_size
    from mockserver.media.recipes import DiskRecipe, ImageRecipe

    state, request, entry = call.state, call.request, call.entry
    assert request is not None
    action = request.path_params["action"]
    d = state.dialects.rerank  # the gateway's own error shape
    if action not in (protocol.LEGACY_ACTIONS if legacy else protocol.V3_ACTIONS):
        raise protocol.not_found(request.url.path)
    form = Form()
    body: Any
    if legacy and action == "generate":
        body = parse_json(await call.body(), d)
    else:
        form = await read_form(request, state.settings.max_body_bytes)
        body = dict(form.fields)
        for name, uploads in form.files.items():
            body[name] = [describe_upload(upload) for upload in uploads]
    entry.body = body
    upload = form.file("image_file" if legacy else "image")
    size = None
    if upload is not None:
        try:
            size = image_size(upload.data)[1:3]
        except ValueError:
            raise invalid_request("The uploaded image could not be read") from None
    if legacy:
        source = body if action == "generate" else form.fields.get("image_request", "")
        parsed = protocol.parse_legacy(action, source, size)
    else:
        parsed = protocol.parse_v3(action, form.fields, size)
    model = f"ideogram-{'legacy' if legacy else 'v3'}-{action}"
    price_ratio = media_billing.admit_pictures(call, model, parsed.prompt or "")
    decision = decide_request(
        state,
        request,
        entry,
        model=model,
        prompt=parsed.prompt,
        body=body if isinstance(body, dict) else {},
        outputs=parsed.num_images,
        dialect=d,
    )
    entry.status = 200
    headers: dict[str, str] = {}
    if action == "describe":
        text = decision.text() or "A picture of " + (parsed.prompt or "a scene") + "."
        media_billing.settle_pictures(call, headers, price_ratio, 1)
        return json_response(protocol.render_describe(text), 200, headers)
    prompt = decision.text() or parsed.prompt
    urls, seeds = [], []
    for index in range(parsed.num_images):
        seed = (
            parsed.seed
            if parsed.seed is not None
            else int(ids.hex_digest(ids.digest(state.engine.seed, body), f"seed{index}", 6), 16)
        )
        on_disk = decision.file(index)
        recipe: ImageRecipe | DiskRecipe
        if on_disk is not None:  # the rule's `file:`, as a PNG of the asked size
            recipe, name = from_disk(on_disk, parsed.width, parsed.height, "png")
        else:
            recipe = ImageRecipe(
                seed=seed,
                prompt=parsed.prompt,
                width=parsed.width,
                height=parsed.height,
                variant=index,
                caption=f"ideogram {action}",
            )
            name = file_name("ideogram", recipe.key, "png")
        await make_file(state.media, name, "image/png", recipe)
        urls.append(file_url(request, name, (state, IDEOGRAM_IMAGES, "image/png")))
        seeds.append(seed)
    media_billing.settle_pictures(call, headers, price_ratio, parsed.num_images)
    answer = json_response(
        protocol.render(parsed, urls, seeds, prompt, decision.created), 200, headers
    )
    return paced_body(answer, decision, entry)
