"""The calls recorded besides text generations: images and audio (`media`), and async tasks
(`tasks`: a submission, its polls, the fetch of its files). For each, whether the recording
answers it (replay, or new_episodes with a rule that matches) and what records the upstream's
answer once it is complete.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import Message, Receive, Scope

from mockserver.core.exchange import Exchange
from mockserver.record import media, tasks
from mockserver.record.capture import Capture
from mockserver.record.modes import RecordMode

if TYPE_CHECKING:
    from mockserver.record.proxy import RecordingProxy

# Records an answer once it is complete (a coroutine when recording it fetches more).
Recorded = Callable[[int, dict[str, str], Capture], Awaitable[None] | None]


async def media_or_task_call(
    proxy: RecordingProxy, scope: Scope, headers: dict[str, str], body: bytes
) -> tuple[bool, Recorded] | None:
    """For an image or audio request, or a task's submission, poll or download: (whether
    the recording answers it, what records the upstream's answer); None for any other."""
    method, path = scope["method"], scope["path"]
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    recorder = proxy.recorder.tasks
    upstream = proxy.mode is not RecordMode.REPLAY and proxy.upstream is not None
    media_kind = media.kind_of(method, path)
    if media_kind is not None:
        form = await _fields(scope, headers, body)
        if form is None:
            return not upstream, _ignored
        replayed = not upstream or _episode_recorded(
            proxy, media.exchange_of(media_kind, path, form)
        )

        async def answered_media(status: int, answer: dict[str, str], capture: Capture) -> None:
            assert media_kind is not None and form is not None
            try:  # fetches what the answer links to: awaited, not blocking the other calls
                await proxy.recorder.media.answered(media_kind, path, form, status, answer, capture)
            except Exception as error:
                print(f"mockserver record: not recorded ({error!r})", file=sys.stderr)

        return replayed, answered_media
    submission = tasks.submission(method, path)
    if submission is not None:
        fields = await _fields(scope, headers, body)
        try:
            exchange = recorder.exchange(path, submission, fields) if fields is not None else None
        except Exception:  # a submission the vendor refuses: its answer is its own error
            exchange = None
        if fields is None or exchange is None:
            return not upstream, _ignored
        replayed = not upstream or _episode_recorded(proxy, exchange)

        async def submitted(status: int, answer_headers: dict[str, str], capture: Capture) -> None:
            assert submission is not None and fields is not None
            await _safely(
                recorder.submitted,
                path,
                submission,
                fields,
                status,
                answer_headers,
                capture.body,
            )

        return replayed, submitted
    batch = tasks.batch(method, path)
    if batch is not None:
        wanted = _json_or_none(body)
        ids = wanted.get("ids") if isinstance(wanted, dict) else None
        ids = [str(each) for each in ids] if isinstance(ids, list) else []
        replayed = not upstream or (
            proxy.mode is RecordMode.NEW_EPISODES and not any(map(recorder.records, ids))
        )

        async def batch_answered(status: int, _: dict[str, str], capture: Capture) -> None:
            assert batch is not None
            await _safely(recorder.batch_polled, batch[0], batch[1], status, capture.body)

        return replayed, batch_answered
    poll = tasks.poll(method, path, query)
    result = tasks.result(method, path, query) if poll is None else None
    key = poll[0] if poll is not None else result[0] if result is not None else None
    if key is None:
        return None
    replayed = not upstream or (proxy.mode is RecordMode.NEW_EPISODES and not recorder.records(key))

    async def answered(status: int, answer_headers: dict[str, str], capture: Capture) -> None:
        assert key is not None
        if poll is not None:
            await _safely(recorder.polled, key, poll[1], status, capture.body)
        elif result is not None:
            await _safely(recorder.resulted, key, result[1], status, answer_headers, capture.body)

    return replayed, answered


def _episode_recorded(proxy: RecordingProxy, exchange: Exchange) -> bool:
    """new_episodes: whether the recording as loaded at start has a rule for this request."""
    replay = proxy.recorder.replay
    return (
        proxy.mode is RecordMode.NEW_EPISODES
        and replay is not None
        and replay.scenarios.first_match(exchange) is not None
    )


def _ignored(status: int, headers: dict[str, str], capture: Capture) -> None:
    return None


async def _safely(record: Callable[..., Awaitable[None]], *args: Any) -> None:
    """An answer we can't read back must not stop the session (awaited: a download it makes
    leaves the proxy answering the other calls)."""
    try:
        await record(*args)
    except Exception as error:
        print(f"mockserver record: not recorded ({error!r})", file=sys.stderr)


async def _fields(scope: Scope, headers: Mapping[str, str], body: bytes) -> dict[str, Any] | None:
    """A submission's fields: a JSON object, or a form's fields (files left out); None when
    the body is neither."""
    content_type = headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        from starlette.datastructures import UploadFile
        from starlette.requests import Request

        async def nothing_more() -> Message:
            return {"type": "http.disconnect"}

        try:
            async with Request(scope, replayed(body, nothing_more)).form() as form:
                return {
                    name: value
                    for name, value in form.multi_items()
                    if not isinstance(value, UploadFile)
                }
        except Exception:  # a malformed form: the upstream words its own error
            return None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def replayed(body: bytes, receive: Receive) -> Receive:
    """A `receive` giving the already-read body once, then the client's own (which reports
    the disconnect a paced answer watches for)."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


def _json_or_none(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
