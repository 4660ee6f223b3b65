"""What the media endpoints share: generating files off the event loop, their URLs, the
`GET /_mock/files/{name}` route that serves them, and `/v1/images/variations` (which the
gateway doesn't implement)."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp

from mockserver.core.errors import APIError
from mockserver.engine.pipeline import error_response
from mockserver.http.responses import RawResponse
from mockserver.media import links
from mockserver.media.files import ROUTE_PREFIX, MediaFile, MediaStore
from mockserver.media.links import LinkStyle
from mockserver.media.recipes import Recipe

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mockserver.engine.latency import Pacing
    from mockserver.engine.media import MediaDecision
    from mockserver.http.endpoints import Endpoint
    from mockserver.http.journaled import Call
    from mockserver.journal.journal import Entry
    from mockserver.media.multipart import Upload
    from mockserver.protocols.dialect import Dialect
    from mockserver.server_state import MockState


async def make_file(store: MediaStore, name: str, content_type: str, recipe: Recipe) -> MediaFile:
    """The file `name`, from the cache or made in a worker thread (encoding takes ms)."""
    cached = store.file_if_cached(name)
    if cached is not None:
        return cached
    return await anyio.to_thread.run_sync(store.get_or_make, name, content_type, recipe)


def file_url(
    request: Request,
    name: str,
    signed: tuple[MockState, LinkStyle, str] | None = None,
) -> str:
    """Where this server serves `name`, as the client reached it (its Host header). With
    `signed` (the state, the vendor's link style, the file's content type): a link that
    expires as the vendor's do, on the scenario's clock (`mockserver.media.links`)."""
    url = str(request.base_url).rstrip("/") + ROUTE_PREFIX + name
    if signed is None:
        return url
    state, style, content_type = signed
    query = links.signed_query(style, state.engine.seed, name, content_type, scenario_now(state))
    return f"{url}?{query}"


def decide_request(
    state: MockState,
    request: Request,
    entry: Entry,
    *,
    model: str,
    prompt: str,
    body: Mapping[str, Any],
    outputs: int = 1,
    content_policy: APIError | None = None,
    dialect: Dialect | None = None,
) -> MediaDecision:
    """`decide_media` for a media endpoint's request (its path and headers); errors in
    `dialect`'s words, OpenAI's (the chat dialect's) unless the route has its own."""
    from mockserver.engine.media import decide_media

    return decide_media(
        state,
        dialect or state.dialects.chat,
        entry,
        endpoint=request.url.path,
        model=model,
        prompt=prompt,
        body=body,
        headers=dict(request.headers),
        outputs=outputs,
        content_policy=content_policy,
    )


def paced_events(
    frames: list[bytes], headers: dict[str, str], decision: MediaDecision, entry: Entry
) -> ASGIApp:
    """A media answer's event stream, paced by the rule's `latency:` (a recorded stream's
    time to its first picture or audio delta, and the interval between them)."""
    from mockserver.http.responses import EventStream

    entry.stream, entry.events_sent = True, len(frames)
    if decision.latency is None:
        return EventStream(frames, headers=headers)
    pacing, rng = _pacing(decision)
    return EventStream(
        frames,
        headers=headers,
        schedule=pacing.schedule(len(frames), 0, rng),
        delay=pacing.delay,
        entry=entry,
        arrived=entry.at,
    )


def paced_body(response: ASGIApp, decision: MediaDecision, entry: Entry) -> ASGIApp:
    """A media answer that is one body, sent after the rule's `latency:` (`delay` + `ttft`)."""
    from mockserver.http.responses import Delayed

    if decision.latency is None:
        return response
    pacing, rng = _pacing(decision)
    wait = pacing.body_wait(0, rng)
    return Delayed(response, wait, entry, entry.at) if wait > 0 else response


def _pacing(decision: MediaDecision) -> tuple[Pacing, random.Random]:
    from mockserver.engine import latency

    rng = latency.rng_for(decision.key)
    return latency.pacing(decision.latency, rng), rng


def scenario_now(state: MockState) -> int:
    """Epoch seconds on the scenario's clock: its `clock` plus the task clock's advances."""
    return state.engine.clock + int(state.tasks.now())


def describe_upload(upload: Upload) -> dict[str, Any]:
    """An uploaded file as the journal and the retry group see it: never its bytes."""
    return {
        "filename": upload.filename,
        "content_type": upload.content_type,
        "bytes": len(upload.data),
        "sha256": hashlib.sha256(upload.data).hexdigest(),
    }


def media_file(state: MockState) -> Endpoint:
    """`GET /_mock/files/{name}`: a generated file, as long as the server knows its recipe."""

    async def endpoint(request: Request) -> ASGIApp:
        name = request.path_params["name"]
        query = request.query_params
        if query:
            denial = links.check(query, state.engine.seed, name, scenario_now(state))
            if denial is not None:
                return RawResponse(
                    denial.body,
                    denial.status,
                    denial.headers,
                    media_type=denial.content_type.encode("latin-1"),
                )
        media = state.media.file_if_cached(name)
        if media is None:
            media = await anyio.to_thread.run_sync(state.media.file, name)
        if media is None:
            error = APIError(
                404,
                f"No generated file named '{name}' (files live as long as this server "
                "remembers the request that made them).",
                type="invalid_request_error",
                code="file_not_found",
            )
            return error_response(state.dialects.chat, error)
        return RawResponse(
            media.data,
            200,
            {"cache-control": "private, max-age=3600"},
            media_type=media.content_type.encode("latin-1"),
        )

    return endpoint


def images_variations(state: MockState) -> Endpoint:
    """The gateway answers `/v1/images/variations` with 501 (new-api's RelayNotImplemented),
    behind its key check."""
    from mockserver.http.journaled import journaled_endpoint

    async def endpoint(call: Call) -> ASGIApp:
        raise APIError(501, "API not implemented", type="new_api_error", code="api_not_implemented")

    return journaled_endpoint(state, "gateway", endpoint, state.dialects.rerank, relay=True)
