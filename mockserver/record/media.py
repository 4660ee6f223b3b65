"""Images and audio recorded as rules whose reply is a file: each picture or speech file the
upstream answered is written beside the recording (`media/<sha256>.<ext>`) and named by the
rule's `reply.file`, so a replay answers with the same bytes; a transcript, a revised prompt or
Ideogram's drawn prompt is the reply's `content`. A picture the upstream gave as a URL (DALL·E's
`url`, every Ideogram picture) is fetched once, at record time. A multipart request (an edit,
a transcription) is forwarded as it came; the match is what the media endpoints match on: the
model and the prompt (the text to speak, a transcription's `prompt`). A streamed answer
(`stream: true` images, `stream_format: sse` speech) is passed on as it arrives; its final
artifact is kept (`media_streams`) and its timing written as `latency:`.

    recorder = MediaRecorder(cassette)
    await recorder.answered(IMAGES, "/v1/images/generations", fields, 200, headers, capture)
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from mockserver.core.exchange import Exchange, Message
from mockserver.record import ideogram, media_streams
from mockserver.record.capture import Capture
from mockserver.record.cassette import Cassette
from mockserver.record.rules import fault_spec, latency_spec, literal, match_for, name_for

IMAGES = "images"
SPEECH = "speech"
TRANSCRIPT = "transcript"
IDEOGRAM = "ideogram"
KIND_OF_PATH = {
    "/v1/images/generations": IMAGES,
    "/v1/images/edits": IMAGES,
    "/v1/audio/speech": SPEECH,
    "/v1/audio/transcriptions": TRANSCRIPT,
    "/v1/audio/translations": TRANSCRIPT,
}
DEFAULT_MODELS = {IMAGES: "dall-e-2", SPEECH: "", TRANSCRIPT: ""}
# A picture's extension from its first bytes (its format is what the request asked for, or the
# model's default; the bytes say which).
SIGNATURES = ((b"\x89PNG", "png"), (b"\xff\xd8", "jpeg"), (b"RIFF", "webp"))
FETCH_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def kind_of(method: str, path: str) -> str | None:
    if method != "POST":
        return None
    if ideogram.route(path) is not None:
        return IDEOGRAM
    return KIND_OF_PATH.get(path)


def exchange_of(kind: str, path: str, fields: Mapping[str, Any]) -> Exchange:
    """The request as the media endpoints give it to the engine: what a recorded rule matches."""
    if kind == IDEOGRAM:
        model, prompt = ideogram.subject(path, fields)
    else:
        model = str(fields.get("model") or DEFAULT_MODELS[kind])
        prompt = str(fields.get("input" if kind == SPEECH else "prompt") or "")
    return Exchange(
        dialect="media",
        endpoint=path,
        model=model,
        messages=[Message("user", prompt)],
        body=dict(fields),
    )


def picture_extension(data: bytes) -> str:
    for signature, extension in SIGNATURES:
        if data.startswith(signature):
            return extension
    return "bin"


class MediaRecorder:
    def __init__(self, cassette: Cassette, timing: bool = True) -> None:
        self.cassette = cassette
        self.timing = timing

    async def answered(
        self,
        kind: str,
        path: str,
        fields: Mapping[str, Any],
        status: int,
        headers: Mapping[str, str],
        capture: Capture,
    ) -> None:
        exchange = exchange_of(kind, path, fields)
        match = match_for(exchange)
        if "last_user" not in match:  # no prompt: a later request with one is another rule
            match = {"model": match["model"], "last_user": {"equals": ""}, "turn": 0}
        name = name_for(exchange, self.cassette.names())
        body = capture.body
        streamed = "text/event-stream" in headers.get("content-type", "")
        events = capture.events() if streamed else []
        failure = media_streams.stream_failure(events) if streamed else None
        # A stream's time to its first picture or audio delta and the interval between them;
        # a body's whole wait (plain audio, read in chunks, is a body: replayed in one piece).
        timing = capture.timing(media_streams.carries_media) if streamed else None
        latency = latency_spec(timing, capture.finished) if self.timing else None
        if status >= 400:
            fault = fault_spec(status, body, self.cassette.redactor.headers_kept(headers))
            self.cassette.add(name, match, "fault", fault, None)
        elif failure is not None:
            raise ValueError(f"{path}: the stream failed half-way: {failure.get('message')!r}")
        elif kind == IMAGES and streamed:
            pictures = [self._picture(data) for data in media_streams.pictures_of(events)]
            reply = _with_usage(_reply(pictures), media_streams.usage_of(events))
            self.cassette.add(name, match, "reply", reply, latency)
        elif kind == IMAGES:
            self.cassette.add(name, match, "reply", await self._pictures(body), latency)
        elif kind == IDEOGRAM:
            self.cassette.add(name, match, "reply", await self._ideogram(path, body), latency)
        elif kind == SPEECH:
            audio = media_streams.speech_of(events) if streamed else body
            if not audio:
                raise ValueError(f"{path}: a speech answer without audio")
            extension = str(fields.get("response_format") or "mp3")
            reply = {"file": self.cassette.keep(audio, extension)}
            if streamed:
                reply = _with_usage(reply, media_streams.usage_of(events))
            self.cassette.add(name, match, "reply", reply, latency)
        else:
            text = media_streams.transcript_of(events) if streamed else _transcript(body)
            usage = media_streams.usage_of(events) if streamed else _transcript_usage(body)
            reply = _with_usage({"content": literal(text)}, usage)
            self.cassette.add(name, match, "reply", reply, latency)
        self.cassette.save()

    def _picture(self, data: bytes, revised: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"file": self.cassette.keep(data, picture_extension(data))}
        if revised:
            choice["content"] = literal(revised)
        return choice

    async def _pictures(self, body: bytes) -> dict[str, Any]:
        """The reply of an image answer: a file per picture (from base64, or fetched from its
        URL), and its revised prompt as the content."""
        document = orjson.loads(body)
        choices = []
        for item in document.get("data") or []:
            if item.get("b64_json"):
                data = base64.b64decode(item["b64_json"])
            elif item.get("url"):
                data = await _fetched(item["url"])
            else:
                continue
            choices.append(self._picture(data, item.get("revised_prompt")))
        return _with_usage(_reply(choices), document.get("usage"))

    async def _ideogram(self, path: str, body: bytes) -> dict[str, Any]:
        """Ideogram's pictures (always URLs, which expire: fetched now) with the prompt it
        drew them from; a `describe` answer's text."""
        if path.endswith("/describe"):
            return {"content": literal(ideogram.description(body) or "")}
        urls, prompt = ideogram.pictures(body)
        return _reply([self._picture(await _fetched(url), prompt) for url in urls])


async def _fetched(url: str) -> bytes:
    """A picture the upstream answered with a link to. Fetched without the caller's headers:
    the link is the vendor's (signed) file URL, not the API."""
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
        response = await client.get(url)
        return response.raise_for_status().content


def _reply(choices: list[dict[str, Any]]) -> dict[str, Any]:
    if not choices:
        raise ValueError("an image answer without pictures")
    return choices[0] if len(choices) == 1 else {"choices": choices}


def _with_usage(reply: dict[str, Any], usage: Any) -> dict[str, Any]:
    """The reply with the upstream's token counts as its `usage:` (input/output tokens of a
    GPT image, speech or transcription answer), so a replay reports them rather than
    computing its own. A `duration` usage (Whisper's seconds) has no tokens: left out."""
    if not isinstance(usage, dict):
        return reply
    counts = {
        "prompt_tokens": usage.get("input_tokens"),
        "completion_tokens": usage.get("output_tokens"),
    }
    stated = {key: value for key, value in counts.items() if isinstance(value, int)}
    return {**reply, "usage": stated} if stated else reply


def _transcript_usage(body: bytes) -> Any:
    """A JSON transcription's `usage` (a GPT transcribe model's tokens; Whisper's `duration`
    usage has no tokens and is left to the replay), or None."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return document.get("usage") if isinstance(document, dict) else None


def _transcript(body: bytes) -> str:
    """The text of a transcription or translation: `text` of a JSON answer, else the body."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", errors="replace")
    if isinstance(document, dict) and isinstance(document.get("text"), str):
        return str(document["text"])
    return body.decode("utf-8", errors="replace")
