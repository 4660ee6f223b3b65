"""Images and audio recorded as rules whose reply is a file: each picture or speech file the
upstream answered is written beside the recording (`media/<sha256>.<ext>`) and named by the
rule's `reply.file`, so a replay answers with the same bytes; a transcript or a revised prompt
is the reply's `content`. A multipart request (an edit, a transcription) is forwarded as it
came; the match is what the media endpoints match on: the model and the prompt (the text to
speak, a transcription's `prompt`).

    recorder = MediaRecorder(cassette)
    recorder.answered("/v1/images/generations", fields, 200, headers, body)
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from mockserver.core.exchange import Exchange, Message
from mockserver.record.cassette import Cassette
from mockserver.record.rules import fault_spec, literal, match_for, name_for

IMAGES = "images"
SPEECH = "speech"
TRANSCRIPT = "transcript"
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
    return KIND_OF_PATH.get(path) if method == "POST" else None


def exchange_of(kind: str, path: str, fields: Mapping[str, Any]) -> Exchange:
    """The request as the media endpoints give it to the engine: what a recorded rule matches."""
    model = str(fields.get("model") or DEFAULT_MODELS[kind])
    prompt_field = "input" if kind == SPEECH else "prompt"
    return Exchange(
        dialect="media",
        endpoint=path,
        model=model,
        messages=[Message("user", str(fields.get(prompt_field) or ""))],
        body=dict(fields),
    )


def picture_extension(data: bytes) -> str:
    for signature, extension in SIGNATURES:
        if data.startswith(signature):
            return extension
    return "bin"


class MediaRecorder:
    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette

    def answered(
        self,
        kind: str,
        path: str,
        fields: Mapping[str, Any],
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        exchange = exchange_of(kind, path, fields)
        match = match_for(exchange)
        if "last_user" not in match:  # no prompt: a later request with one is another rule
            match = {"model": match["model"], "last_user": {"equals": ""}, "turn": 0}
        name = name_for(exchange, self.cassette.names())
        if status >= 400:
            fault = fault_spec(status, body, self.cassette.redactor.headers_kept(headers))
            self.cassette.add(name, match, "fault", fault, None)
        elif kind == IMAGES:
            if "text/event-stream" in headers.get("content-type", ""):
                raise ValueError(f"{path}: streamed images are not recorded yet")
            self.cassette.add(name, match, "reply", self._pictures(body), None)
        elif kind == SPEECH:
            if "text/event-stream" in headers.get("content-type", ""):
                raise ValueError(f"{path}: streamed speech is not recorded yet")
            extension = str(fields.get("response_format") or "mp3")
            self.cassette.add(
                name, match, "reply", {"file": self.cassette.keep(body, extension)}, None
            )
        else:
            self.cassette.add(name, match, "reply", {"content": literal(_transcript(body))}, None)
        self.cassette.save()

    def _pictures(self, body: bytes) -> dict[str, Any]:
        """The reply of an image answer: a file per picture (from base64, or fetched from its
        URL), and its revised prompt as the content."""
        document = orjson.loads(body)
        choices = []
        for item in document.get("data") or []:
            if item.get("b64_json"):
                data = base64.b64decode(item["b64_json"])
            elif item.get("url"):
                data = httpx.get(item["url"], timeout=FETCH_TIMEOUT).raise_for_status().content
            else:
                continue
            choice: dict[str, Any] = {"file": self.cassette.keep(data, picture_extension(data))}
            if item.get("revised_prompt"):
                choice["content"] = literal(item["revised_prompt"])
            choices.append(choice)
        if not choices:
            raise ValueError("an image answer without pictures")
        return choices[0] if len(choices) == 1 else {"choices": choices}


def _transcript(body: bytes) -> str:
    """The text of a transcription or translation: `text` of a JSON answer, else the body."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", errors="replace")
    if isinstance(document, dict) and isinstance(document.get("text"), str):
        return str(document["text"])
    return body.decode("utf-8", errors="replace")
