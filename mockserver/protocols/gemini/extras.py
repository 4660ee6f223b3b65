"""Gemini endpoints that are not generations, and how Gemini counts input tokens.

Pure functions; the routes call them (the `/v1/` twins of each route exist too):

    POST /v1beta/models/{model}:countTokens        parse_count_tokens -> count_tokens_body
    POST /v1beta/models/{model}:embedContent       parse_embed_request -> render_embed
    POST /v1beta/models/{model}:batchEmbedContents parse_embed_request -> render_batch_embed
    GET  /v1beta/models                            render_model_list(infos, pageSize, pageToken)
    GET  /v1beta/models/{model}                    render_model(info)

(`parse_count_tokens` is a `GeminiDialect` method.) The SDK's `embed_content` always calls
`batchEmbedContents`, one request per text:
`{"requests": [{"model": "models/…", "content": {"parts": [{"text": …}]}, "taskType": …}]}`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from msgspec import Struct, field

from mockserver.core.catalog import ModelInfo
from mockserver.core.exchange import Attachment, Exchange
from mockserver.protocols.gemini import errors
from mockserver.protocols.gemini.proto import Reader, names
from mockserver.tokens import media_tokens

if TYPE_CHECKING:
    from mockserver.tokens.tokenizer import Tokenizer

TASK_TYPES = (
    "TASK_TYPE_UNSPECIFIED",
    "RETRIEVAL_QUERY",
    "RETRIEVAL_DOCUMENT",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
    "CODE_RETRIEVAL_QUERY",
)
EMBED_FIELDS = names("model", "content", "taskType", "title", "outputDimensionality")
BATCH_FIELDS = names("model", "requests")
GENERATION_METHODS = (
    "generateContent",
    "countTokens",
    "createCachedContent",
    "batchGenerateContent",
)
EMBEDDING_METHODS = ("embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_VERSION_SUFFIX = re.compile(r"-(\d{3})$")
# Gemini's documented input costs: images by their size (media_tokens: 258 up to 384 px a
# side, else 258 per 768 px tile), 32 per second of audio, 263 per second of video, 258 per
# PDF page. Durations and pages are not decoded here: a clip counts as 10 s, a document 2 pages.
MEDIA_TOKENS = {"IMAGE": 258, "AUDIO": 320, "VIDEO": 2630, "DOCUMENT": 516}


class EmbedRequest(Struct):
    """The texts to embed (one per request of a batch) and the options of the first request."""

    texts: list[str] = field(default_factory=list)
    task_type: str | None = None
    output_dimensionality: int | None = None
    title: str | None = None


def parse_embed_request(body: Any, version: str = "v1beta") -> EmbedRequest:
    """An `embedContent` body (`content`) or a `batchEmbedContents` body (`requests`).

    Raises GeminiError with the API's wording; "content is not specified" follows the
    wording of the API's other required-field checks.
    """
    if not isinstance(body, dict):
        problem = 'Invalid JSON payload received. Unknown name "": Root element must be a message.'
        raise errors.payload_errors([(None, problem)])
    out = EmbedRequest()
    if "requests" in body:
        r = Reader(version, "BatchEmbedContentsRequest")
        r.known(body, BATCH_FIELDS, None)
        requests = r.repeated(body, "requests", None, r.type_url("EmbedContentRequest")) or []
        if not requests:
            r.check("requests", "requests is not specified")
        for i, request in enumerate(requests):
            where = f"requests[{i}]"
            if isinstance(request, dict):
                _read_embed(r, request, where, out)
            else:
                url = r.type_url("EmbedContentRequest")
                r.shape.append((where, errors.invalid_value(where, url, request)))
    else:
        r = Reader(version, "EmbedContentRequest")
        _read_embed(r, body, None, out)
    r.raise_problems()
    return out


def _read_embed(
    r: Reader, request: Mapping[str, Any], where: str | None, out: EmbedRequest
) -> None:
    r.known(request, EMBED_FIELDS, where)
    r.text(request, "model", where)
    task_type = r.enum(request, "taskType", where, "TaskType", TASK_TYPES)
    title = r.text(request, "title", where)
    dimensions = r.integer(request, "outputDimensionality", where)
    content = r.message(request, "content", where, "Content")
    prefix = f"{where}." if where else ""
    if content is None:
        r.check(f"{prefix}content", "content is not specified")
        return
    parts = r.repeated(content, "parts", f"{prefix}content", r.type_url("Part")) or []
    if not parts:
        r.check(f"{prefix}content.parts", "contents.parts must not be empty.")
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    out.texts.append("\n".join(texts))
    if len(out.texts) == 1:
        out.task_type, out.output_dimensionality, out.title = task_type, dimensions, title


def media_modality(attachment: Attachment) -> str:
    mime = attachment.mime_type or ""
    if attachment.kind == "image":
        return "IMAGE"
    if attachment.kind == "audio":
        return "AUDIO"
    return "VIDEO" if mime.startswith("video/") else "DOCUMENT"


def _attachment_tokens(attachment: Attachment, modality: str) -> int:
    if modality == "IMAGE":
        return media_tokens.image_tokens(attachment, "gemini")
    if modality == "AUDIO":
        return media_tokens.audio_tokens(attachment, "gemini")
    return MEDIA_TOKENS[modality]


def _media_tokens(exchange: Exchange) -> dict[str, int]:
    spent: dict[str, int] = {}
    for message in exchange.messages:
        for attachment in message.attachments:
            modality = media_modality(attachment)
            spent[modality] = spent.get(modality, 0) + _attachment_tokens(attachment, modality)
    return spent


def prompt_details(exchange: Exchange, prompt_tokens: int) -> list[dict[str, Any]]:
    """`promptTokensDetails`: media at their fixed costs, the rest TEXT (zero counts left out)."""
    media = _media_tokens(exchange)
    text = max(prompt_tokens - sum(media.values()), 0)
    counts = {"TEXT": text, **media}
    return [{"modality": m, "tokenCount": n} for m, n in counts.items() if n > 0]


def gemini_prompt_tokens(exchange: Exchange, tokenizer: Tokenizer) -> int:
    """Input tokens as Gemini reports them (approximation: no public tokenizer). Text, calls
    and tool results counted with `tokenizer`, no per-message framing; media at
    `MEDIA_TOKENS`; tool declarations and the response schema as their JSON text."""
    total = sum(_media_tokens(exchange).values())
    for message in exchange.messages:
        total += tokenizer.count(message.text)
        for call in message.tool_calls:
            total += tokenizer.count(call.name) + tokenizer.count(call.arguments)
    if exchange.tools:
        declarations = [
            {"name": t.name, "description": t.description, "parameters": t.parameters}
            for t in exchange.tools
        ]
        total += tokenizer.count(orjson.dumps(declarations).decode())
    if exchange.response_format.schema is not None:
        total += tokenizer.count(orjson.dumps(exchange.response_format.schema).decode())
    return total


def render_embed(values: Sequence[float]) -> dict[str, Any]:
    """`embedContent`: `{"embedding": {"values": [...]}}`."""
    return {"embedding": {"values": list(values)}}


def render_batch_embed(vectors: Iterable[Sequence[float]]) -> dict[str, Any]:
    """`batchEmbedContents`: `{"embeddings": [{"values": [...]}, ...]}`, in request order."""
    return {"embeddings": [{"values": list(values)} for values in vectors]}


def render_count_tokens(total: int, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`countTokens`: `{"totalTokens": n, "promptTokensDetails": [{"modality": "TEXT", ...}]}`."""
    if details is None:
        details = [{"modality": "TEXT", "tokenCount": total}] if total else []
    body: dict[str, Any] = {"totalTokens": total}
    if details:
        body["promptTokensDetails"] = details
    return body


def count_tokens_body(exchange: Exchange, tokenizer: Tokenizer) -> dict[str, Any]:
    """The `countTokens` answer for an Exchange from `GeminiDialect.parse_count_tokens`; the
    same count `usageMetadata.promptTokenCount` reports for that request."""
    total = gemini_prompt_tokens(exchange, tokenizer)
    return render_count_tokens(total, prompt_details(exchange, total))


def display_name(model_id: str) -> str:
    """A model id as Google titles it: `gemini-2.5-flash` -> "Gemini 2.5 Flash"."""
    return " ".join(word[:1].upper() + word[1:] for word in model_id.split("-"))


def render_model(info: ModelInfo) -> dict[str, Any]:
    """A `Model` as `GET /v1beta/models/{model}` returns it."""
    found = _VERSION_SUFFIX.search(info.id)
    name = display_name(info.id)
    model: dict[str, Any] = {
        "name": f"models/{info.id}",
        "version": found.group(1) if found else "001",
        "displayName": name,
    }
    if info.kind == "embedding":
        model["description"] = "Obtain a distributed representation of a text."
        model["inputTokenLimit"] = info.context_window or 2048
        model["outputTokenLimit"] = 1
        model["supportedGenerationMethods"] = list(EMBEDDING_METHODS)
        return model
    model["description"] = f"{name}, a multimodal model."
    model["inputTokenLimit"] = info.context_window or 0
    model["outputTokenLimit"] = info.max_output_tokens or 0
    model["supportedGenerationMethods"] = list(GENERATION_METHODS)
    model.update(temperature=1, topP=0.95, topK=64, maxTemperature=2)
    if info.reasoning:
        model["thinking"] = True
    return model


def render_model_list(
    infos: Iterable[ModelInfo],
    page_size: int | str | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """`{"models": [...]}` for one page (50 by default, at most 1000), with `nextPageToken`
    only when more remain. The token names the page's last model, as Google's does."""
    models = list(infos)
    size = _page_size(page_size)
    start = 0
    if page_token:
        last = _token_model(page_token)
        position = next((i for i, m in enumerate(models) if m.id == last), None)
        if position is None:
            raise errors.GeminiError(400, "Invalid page token.")  # [unverified wording]
        start = position + 1
    page = models[start : start + size]
    body: dict[str, Any] = {"models": [render_model(info) for info in page]}
    if page and start + size < len(models):
        body["nextPageToken"] = _page_token(page[-1].id)
    return body


def _page_size(raw: int | str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise errors.payload_errors(
            [("page_size", errors.invalid_value("page_size", "TYPE_INT32", raw))]
        ) from None
    return DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)


def _page_token(model_id: str) -> str:
    name = f"models/{model_id}".encode()
    # A proto with field 1 = the name, base64 without padding.
    return base64.urlsafe_b64encode(b"\n" + bytes([len(name) % 128]) + name).decode().rstrip("=")


def _token_model(token: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    name = raw[2:].decode(errors="replace")
    return name.removeprefix("models/") if raw[:1] == b"\n" else None
