"""`POST /v1/images/generations` (JSON) and `/v1/images/edits` (multipart): parse and check as
OpenAI does, let the scenario rules decide (a revised prompt, a fault), draw the pictures
(cached), answer with URLs served here or base64, or with stream events."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import ASGIApp

from mockserver.core import ids
from mockserver.core.errors import invalid_request
from mockserver.engine.media import MediaPrepared, decide_media, prepare_media
from mockserver.engine.pipeline import parse_json
from mockserver.http import media_billing
from mockserver.http.journaled import Call, journaled_endpoint
from mockserver.http.media import describe_upload, file_url, make_file, paced_body, paced_events
from mockserver.http.responses import json_response
from mockserver.media.files import file_name
from mockserver.media.links import OPENAI_IMAGES
from mockserver.media.multipart import read_form
from mockserver.media.recipes import DiskRecipe
from mockserver.protocols.dialect import sse_frame
from mockserver.protocols.openai import images as protocol
from mockserver.protocols.openai.images import Picture
from mockserver.protocols.openai.images_request import (
    ImageRequest,
    InputImage,
    parse_edit,
    parse_generation,
)

if TYPE_CHECKING:
    from mockserver.http.endpoints import Endpoint
    from mockserver.server_state import MockState

DIALECT = "openai.images"


def generations(state: MockState) -> Endpoint:
    async def endpoint(call: Call) -> ASGIApp:
        request = call.request
        assert request is not None
        raw = await call.body()
        key = state.memo.key(call.scope, raw)
        prepared = state.memo.kept(key, MediaPrepared)
        if prepared is None:
            body = parse_json(raw, state.dialects.chat)
            call.entry.body = body  # journaled even when the request is refused
            parsed = parse_generation(body)
            prepared = _prepare(request, parsed, body)
            state.memo.put(key, prepared)
        call.entry.body = prepared.body
        return await answer(call, prepared, source="")

    return journaled_endpoint(state, DIALECT, endpoint, state.dialects.chat, relay=True)


def edits(state: MockState) -> Endpoint:
    async def endpoint(call: Call) -> ASGIApp:
        request = call.request
        assert request is not None
        form = await read_form(request, state.settings.max_body_bytes)
        body: dict[str, Any] = dict(form.fields)
        for name, uploads in form.files.items():
            body[name] = [describe_upload(upload) for upload in uploads]
        call.entry.body = body
        call.allow(form.fields.get("model", ""))  # the gateway's check, before validation
        images = [_input_image(u.data, u.filename, "image") for u in form.files.get("image", [])]
        mask_upload = form.file("mask")
        mask = _input_image(mask_upload.data, mask_upload.filename, "mask") if mask_upload else None
        parsed = parse_edit(form.fields, images, mask)
        source = hashlib.sha256(
            b"".join(image.data for image in images) + (mask.data if mask else b"")
        ).hexdigest()
        prepared = _prepare(request, parsed, body)
        return await answer(call, prepared, source=source)

    return journaled_endpoint(state, DIALECT, endpoint, state.dialects.chat, relay=True)


def _input_image(data: bytes, filename: str, field: str) -> InputImage:
    from mockserver.media.images import image_size

    try:
        fmt, width, height, mode = image_size(data)
    except ValueError:
        raise invalid_request(
            f"Invalid input {field} - could not read '{filename or field}' as an image; "
            "expected a PNG, JPEG or WebP file.",
            param=field,
            code="invalid_image_file",
        ) from None
    return InputImage(data, fmt, width, height, mode, filename)


def _prepare(request: Request, parsed: ImageRequest, body: dict[str, Any]) -> MediaPrepared:
    return prepare_media(
        dialect="openai.chat",
        endpoint=request.url.path,
        model=parsed.model,
        prompt=parsed.prompt,
        body=body,
        headers=dict(request.headers),
        request=parsed,
        outputs=parsed.n,
    )


def from_disk(
    path: str, width: int, height: int, fmt: str, quality: int = 90
) -> tuple[DiskRecipe, str]:
    """A rule's `file:` as a request asks for it, and the name it is served under."""
    from mockserver.media.disk import digest_of

    recipe = DiskRecipe(
        path=path,
        sha256=digest_of(path),
        kind="image",
        format=fmt,
        width=width,
        height=height,
        quality=quality,
    )
    return recipe, file_name("img", recipe.key, fmt)


async def answer(call: Call, prepared: MediaPrepared, *, source: str) -> ASGIApp:
    from mockserver.media.images import CONTENT_TYPES
    from mockserver.media.recipes import ImageRecipe
    from mockserver.tokens.tokenizer import get_tokenizer

    state, request, entry = call.state, call.request, call.entry
    assert request is not None
    d = state.dialects.chat
    parsed: ImageRequest = prepared.request
    edit = bool(source)
    body = prepared.body
    price_ratio = media_billing.admit_pictures(
        call, parsed.model, parsed.prompt, body.get("size"), body.get("quality")
    )
    decision = decide_media(
        state,
        d,
        entry,
        endpoint=prepared.exchange.endpoint,
        model=parsed.model,
        prompt=parsed.prompt,
        body=prepared.body,
        headers=prepared.exchange.headers,
        outputs=parsed.n,
        content_policy=protocol.content_policy_error(),
        prepared=prepared,
    )
    seed = state.engine.seed
    extension = parsed.output_format
    content_type = CONTENT_TYPES[extension]
    caption = parsed.model + (" · edit" if edit else "")

    def recipe(variant: int, note: str = "") -> ImageRecipe:
        return ImageRecipe(
            seed=seed,
            prompt=parsed.prompt,
            width=parsed.width,
            height=parsed.height,
            format=parsed.output_format,  # type: ignore[arg-type]
            quality=parsed.compression if extension != "png" else 90,
            transparent=parsed.transparent,
            variant=variant,
            caption=caption + note + (f" · {source[:8]}" if source else ""),
        )

    async def picture(variant: int, note: str = "") -> bytes:
        made = recipe(variant, note)
        name = file_name("img", made.key, extension)
        media = await make_file(state.media, name, content_type, made)
        return media.data

    rules = parsed.rules
    if not prepared.outputs:  # what each picture is, kept with the memoized request
        for index in range(parsed.n):
            made = recipe(index)
            revision = None
            if rules is not None and rules.revises_prompt:
                pick = int(ids.hex_digest(made.key, "revision", 8), 16)
                revision = protocol.revised_prompt(parsed.prompt, pick)
            prepared.outputs.append((made, file_name("img", made.key, extension), revision))
    pictures: list[Picture] = []
    for index, (made, name, revision) in enumerate(prepared.outputs):
        on_disk = decision.file(index)
        source_recipe: ImageRecipe | DiskRecipe = made
        if on_disk is not None:  # the rule's `file:`, in the asked size and format
            source_recipe, name = from_disk(
                on_disk,
                parsed.width,
                parsed.height,
                extension,
                parsed.compression if extension != "png" else 90,
            )
        media = await make_file(state.media, name, content_type, source_recipe)
        text = decision.text(index) if rules is None or rules.revises_prompt else None
        revised = text if text is not None else revision
        url = file_url(request, name, (state, OPENAI_IMAGES, content_type))
        pictures.append(Picture(media.data, url, revised))
    text_tokens = get_tokenizer("o200k_base").count(parsed.prompt) if rules else 0
    entry.status = 200
    headers = d.reply_headers(None, None)
    usage = None
    if rules is not None and rules.gpt_image:
        usage = protocol.usage(parsed, text_tokens, decision.usage)
        entry.usage = {
            "prompt_tokens": usage["input_tokens"],
            "completion_tokens": usage["output_tokens"],
            "reasoning_tokens": 0,
        }
    media_billing.settle_pictures(call, headers, price_ratio, parsed.n, usage)
    if parsed.stream:
        partials = [
            await picture(0, f" · partial {index + 1}") for index in range(parsed.partial_images)
        ]
        events = protocol.stream_events(
            parsed,
            partials,
            pictures,
            decision.created,
            text_tokens,
            edit=edit,
            stated=decision.usage,
        )
        frames = [sse_frame(payload, event) for event, payload in events]
        return paced_events(frames, headers, decision, entry)
    return paced_body(
        json_response(
            protocol.render(parsed, pictures, decision.created, text_tokens, decision.usage),
            200,
            headers,
        ),
        decision,
        entry,
    )
