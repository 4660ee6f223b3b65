"""`POST /v1/audio/speech` (JSON → audio bytes or SSE) and `/v1/audio/transcriptions` /
`/translations` (multipart → text in the asked format or stream events). Scenario rules see
the text to speak, or the transcription `prompt`, as the last user message."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.types import ASGIApp

from mockserver.core import ids
from mockserver.core.reply import Usage
from mockserver.engine.pipeline import parse_json
from mockserver.http import media_billing
from mockserver.http.journaled import Call, journaled_endpoint
from mockserver.http.media import (
    decide_request,
    describe_upload,
    make_file,
    paced_body,
    paced_events,
)
from mockserver.http.responses import RawResponse, json_response
from mockserver.media.files import file_name
from mockserver.media.multipart import read_form
from mockserver.protocols.dialect import sse_frame
from mockserver.protocols.openai import audio_speech as speech_protocol
from mockserver.protocols.openai import audio_transcriptions as transcription_protocol

if TYPE_CHECKING:
    from mockserver.http.endpoints import Endpoint
    from mockserver.server_state import MockState

# Audio tokens a second of speech counts as (input of the GPT transcribe models, output of the
# GPT speech models): an approximation, OpenAI publishes none.
AUDIO_TOKENS_PER_SECOND = 10


def speech(state: MockState) -> Endpoint:
    d = state.dialects.chat

    async def endpoint(call: Call) -> ASGIApp:
        from mockserver.media.audio import CONTENT_TYPES, speech_seconds
        from mockserver.media.recipes import DiskRecipe, Recipe, SpeechRecipe
        from mockserver.tokens.tokenizer import get_tokenizer

        request, entry = call.request, call.entry
        assert request is not None
        body = parse_json(await call.body(), d)
        entry.body = body
        parsed = speech_protocol.parse_speech(body)
        text_tokens = media_billing.admit_speech(call, parsed.model, parsed.input)
        decision = decide_request(
            state,
            request,
            entry,
            model=parsed.model,
            prompt=parsed.input,
            body=body,
        )
        on_disk = decision.file()
        recipe: Recipe
        if on_disk is not None:  # the rule's `file:`, in the asked format
            from mockserver.media.disk import digest_of

            recipe = DiskRecipe(on_disk, digest_of(on_disk), "audio", parsed.format)
        else:
            recipe = SpeechRecipe(
                seed=state.engine.seed,
                text=parsed.input,
                voice=parsed.voice,
                format=parsed.format,  # type: ignore[arg-type]
                speed=parsed.speed,
                instructions=parsed.instructions,
            )
        content_type = CONTENT_TYPES[parsed.format]
        name = file_name("speech", recipe.key, parsed.format)
        media = await make_file(state.media, name, content_type, recipe)
        entry.status = 200
        headers = d.reply_headers(None, None)
        if parsed.sse:
            input_tokens = get_tokenizer("o200k_base").count(parsed.input)
            seconds = speech_seconds(parsed.input, parsed.speed)
            if on_disk is not None:
                seconds = _seconds_of(media.data, parsed.format)
            output_tokens = round(seconds * AUDIO_TOKENS_PER_SECOND)
            if decision.usage:  # the rule's (a recording's) counts, reported as they were
                input_tokens = decision.usage.get("prompt_tokens", input_tokens)
                output_tokens = decision.usage.get("completion_tokens", output_tokens)
            events = speech_protocol.sse_events(media.data, input_tokens, output_tokens)
            frames = [sse_frame(event) for event in events]
            usage = Usage(input_tokens, output_tokens)
            media_billing.settle_speech(call, headers, text_tokens, None, usage)
            return paced_events(frames, headers, decision, entry)
        if call.charge is not None:  # billed by how long the file plays, as new-api reads it
            seconds = await anyio.to_thread.run_sync(_seconds_of, media.data, parsed.format)
            media_billing.settle_speech(call, headers, text_tokens, seconds, Usage())
        answer = RawResponse(media.data, 200, headers, media_type=content_type.encode("latin-1"))
        return paced_body(answer, decision, entry)

    return journaled_endpoint(state, "openai.audio.speech", endpoint, d, relay=True)


def _seconds_of(data: bytes, fmt: str) -> float:
    """How long a file from disk speaks (raw `pcm` is 16-bit mono at the speech rate)."""
    from mockserver.media.audio import SAMPLE_RATE, duration_of

    return len(data) / 2 / SAMPLE_RATE if fmt == "pcm" else duration_of(data)


def transcriptions(state: MockState, *, translate: bool) -> Endpoint:
    d = state.dialects.chat

    async def endpoint(call: Call) -> ASGIApp:
        from mockserver.engine.content.prose import fake_text
        from mockserver.media.audio import duration_of
        from mockserver.tokens.tokenizer import get_tokenizer

        request, entry = call.request, call.entry
        assert request is not None
        tokenizer = get_tokenizer("o200k_base")
        form = await read_form(request, state.settings.max_body_bytes)
        body: dict[str, Any] = dict(form.fields)
        for field_name, uploads in form.files.items():
            body[field_name] = [describe_upload(upload) for upload in uploads]
        entry.body = body
        call.allow(form.fields.get("model", ""))  # the gateway's check, before validation
        granularities = form.lists.get("timestamp_granularities", [])
        parsed = transcription_protocol.parse_transcription(
            form.fields, granularities, translate=translate
        )
        upload = form.file("file")
        if upload is None:
            raise transcription_protocol.missing_file()
        try:
            duration = await anyio.to_thread.run_sync(duration_of, upload.data)
        except ValueError as error:
            raise transcription_protocol.unreadable_file(upload.filename, str(error)) from None
        estimate = media_billing.admit_transcription(call, parsed.model, duration)
        decision = decide_request(
            state,
            request,
            entry,
            model=parsed.model,
            prompt=parsed.prompt,
            body=body,
        )
        text = decision.text()
        if text is None:
            # The same file, model and task give the same words, as many as a speaker says.
            key = ids.digest(
                state.engine.seed, hashlib.sha256(upload.data).hexdigest(), parsed.model, translate
            )
            words = max(1, round(duration * transcription_protocol.WORDS_PER_SECOND))
            text = fake_text(key, max(1, round(words * 1.25)), tokenizer).strip()
        if parsed.gpt:
            usage = transcription_protocol.token_usage(
                round(duration * AUDIO_TOKENS_PER_SECOND),
                tokenizer.count(parsed.prompt),
                tokenizer.count(text),
                decision.usage,
            )
            entry.usage = {
                "prompt_tokens": usage["input_tokens"],
                "completion_tokens": usage["output_tokens"],
                "reasoning_tokens": 0,
            }
        else:
            usage = transcription_protocol.duration_usage(duration)
        entry.status = 200
        headers = d.reply_headers(None, None)
        if parsed.stream:
            events = transcription_protocol.stream_events(text, tokenizer.pieces(text), usage)
            frames = [sse_frame(event) for event in events]
            # new-api reads the answer as one JSON body: a stream is billed by the estimate.
            media_billing.settle_transcription(call, headers, None, estimate)
            return paced_events(frames, headers, decision, entry)
        answer, content_type = transcription_protocol.render(parsed, text, duration, usage)
        media_billing.settle_transcription(call, headers, answer, estimate)
        if isinstance(answer, dict):
            return paced_body(json_response(answer, 200, headers), decision, entry)
        raw = RawResponse(answer, 200, headers, media_type=content_type.encode("latin-1"))
        return paced_body(raw, decision, entry)

    name = "openai.audio." + ("translations" if translate else "transcriptions")
    return journaled_endpoint(state, name, endpoint, d, relay=True)
