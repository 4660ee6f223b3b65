"""Doubao's own Ark image route: `POST /api/v3/images/generations` (and under the gateway's
`/volc` prefix). Parsed and answered in Ark's shape (`mockserver.protocols.doubao.images`);
scenario rules decide as for every media request (a scripted `file:`, a fault)."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from mockserver.core.errors import APIError
from mockserver.gateway.errors import GatewayError
from mockserver.http import media_billing
from mockserver.http.images import from_disk
from mockserver.http.journaled import Call, journaled_endpoint
from mockserver.http.media import decide_request, file_url, make_file
from mockserver.http.responses import EventStream, json_response
from mockserver.media.files import file_name
from mockserver.media.links import ARK_IMAGES
from mockserver.protocols.dialect import sse_frame
from mockserver.protocols.doubao import errors as ark_errors
from mockserver.protocols.doubao import images as ark

if TYPE_CHECKING:
    from mockserver.http.endpoints import Endpoint
    from mockserver.media.recipes import DiskRecipe, ImageRecipe
    from mockserver.server_state import MockState

DIALECT = "doubao.images"
PATHS = ("/api/v3/images/generations", "/volc/api/v3/images/generations")
_COUNTED = re.compile(
    r"\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(?:images|pictures|photos|illustrations|panels|frames|scenes)\b",
    re.IGNORECASE,
)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_NUMBERS |= {"seven": 7, "eight": 8, "nine": 9, "ten": 10}


def pictures_asked(request: ark.ArkImageRequest) -> int:
    """How many pictures a request gets: one, or with `sequential_image_generation: auto` as
    many as the prompt names ("four images"), at most `max_images` (the model decides; this
    decides the same way every time)."""
    if not request.sequential:
        return 1
    found = _COUNTED.search(request.prompt)
    if found is None:
        return 1
    word = found[1].lower()
    count = int(word) if word.isdigit() else _NUMBERS[word]
    return max(1, min(count, request.max_images))


def render_error(error: APIError) -> Response:
    if isinstance(error, GatewayError):  # the key's check: the gateway's own envelope
        return json_response(error.body, error.status, error.headers)
    return json_response(ark_errors.render_error(error), error.status, error.headers)


def generations(state: MockState) -> Endpoint:
    async def endpoint(call: Call) -> ASGIApp:
        import orjson

        request, entry = call.request, call.entry
        assert request is not None
        try:
            body = orjson.loads(await call.body())
        except orjson.JSONDecodeError:
            raise ark_errors.ark_error(
                400, "InvalidParameter", "The request body is not valid JSON."
            ) from None
        entry.body = body
        parsed = ark.parse(body)
        if "seededit" in parsed.model:  # size "adaptive": the input image's own
            parsed.width, parsed.height = _input_size(parsed.images[0])
        count = pictures_asked(parsed)
        price_ratio = media_billing.admit_pictures(call, parsed.model, parsed.prompt)
        decision = decide_request(
            state,
            request,
            entry,
            model=parsed.model,
            prompt=parsed.prompt,
            body=body,
            outputs=count,
            content_policy=ark.content_policy_error(),
        )
        pictures = [
            await _picture(state, request, parsed, decision.file(index), index)
            for index in range(count)
        ]
        entry.status = 200
        headers = {"x-request-id": ark_errors.request_id(decision.key)}
        tokens = ark.output_tokens(parsed.width, parsed.height, count)
        entry.usage = {"prompt_tokens": 0, "completion_tokens": tokens, "reasoning_tokens": 0}
        usage = {"output_tokens": tokens, "total_tokens": tokens}
        media_billing.settle_pictures(call, headers, price_ratio, count, usage)
        if parsed.stream:
            events = ark.stream_events(parsed, decision.created, pictures)
            frames = [sse_frame(event, event["type"]) for event in events]
            frames.append(b"data: [DONE]\n\n")
            entry.stream, entry.events_sent = True, len(frames)
            return EventStream(frames, headers=headers)
        return json_response(ark.render(parsed, decision.created, pictures), 200, headers)

    return journaled_endpoint(state, DIALECT, endpoint, render_error, relay=True)


def _input_size(image: str) -> tuple[int, int]:
    """The size of a data-URL input image; 1024x1024 for a URL (nothing is fetched)."""
    import base64
    import binascii

    from mockserver.media.images import image_size

    if not image.startswith("data:") or "," not in image:
        return 1024, 1024
    try:
        _, width, height, _ = image_size(base64.b64decode(image.partition(",")[2]))
    except (ValueError, binascii.Error):
        raise ark_errors.invalid("image", "the base64 data is not an image") from None
    return width, height


async def _picture(
    state: MockState,
    request: Request,
    parsed: ark.ArkImageRequest,
    on_disk: str | None,
    index: int,
) -> tuple[bytes, str]:
    from mockserver.media.images import CONTENT_TYPES
    from mockserver.media.recipes import ImageRecipe

    extension = parsed.output_format
    content_type = CONTENT_TYPES[extension]
    recipe: ImageRecipe | DiskRecipe
    if on_disk is not None:
        recipe, name = from_disk(on_disk, parsed.width, parsed.height, extension)
    else:
        source = hashlib.sha256("\n".join(parsed.images).encode()).hexdigest()[:8]
        caption = parsed.model + (f" · edit of {source}" if parsed.images else "")
        recipe = ImageRecipe(
            seed=parsed.seed if parsed.seed is not None else state.engine.seed,
            prompt=parsed.prompt,
            width=parsed.width,
            height=parsed.height,
            format=extension,  # type: ignore[arg-type]
            variant=index,
            caption=caption,
        )
        name = file_name("img", recipe.key, extension)
    media = await make_file(state.media, name, content_type, recipe)
    return media.data, file_url(request, name, (state, ARK_IMAGES, content_type))
