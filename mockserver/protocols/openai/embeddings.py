"""OpenAI Embeddings: `POST /v1/embeddings` (also what the gateway relays for every vendor).

Two pure steps, so the route needs no engine:

    request = parse_embeddings(body, headers)              # APIError with the API's wording
    info = catalog.get(request.model)                      # None -> ChatDialect.model_not_found
    body = create_embeddings(request, info, get_tokenizer(info.encoding), seed, rules)

`usage.prompt_tokens` is the exact tiktoken count of the inputs (a token array counts its
length). The openai SDK asks for `encoding_format: "base64"` unless the caller chose a format, and
decodes the little-endian float32 bytes itself, so both formats carry the same vectors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from msgspec import Struct

from mockserver.core.errors import APIError
from mockserver.engine.content.embeddings import (
    Embedder,
    EmbeddingRuleError,
    EmbeddingRules,
    encode_base64,
)
from mockserver.protocols.openai import validation as v

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.tokens.tokenizer import Tokenizer

EncodingFormat = Literal["float", "base64"]
MAX_INPUTS = 2048
MAX_TOKENS_PER_REQUEST = 300_000
DEFAULT_DIMENSIONS = 1536
# Models that predate `dimensions` and reject it, even as null.
FIXED_SIZE_MODELS = ("text-embedding-ada-002",)
# What the API names the model in its answer, where that differs from the request.
ANSWERING_MODEL = {"text-embedding-ada-002": "text-embedding-ada-002-v2"}

INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)

Input = str | list[int]


class EmbeddingRequest(Struct, frozen=True):
    """A validated `/v1/embeddings` body: each input is a string or a list of token ids."""

    model: str
    inputs: tuple[Input, ...]
    encoding_format: EncodingFormat = "float"
    dimensions: int | None = None
    dimensions_sent: bool = False
    user: str | None = None


def parse_embeddings(body: Any, headers: Mapping[str, str]) -> EmbeddingRequest:
    """Validate like the API: bearer key, model, a non-empty input of one of the four shapes."""
    v.require_bearer(headers)
    body = v.expect_object(body)
    model = v.typed(body, "model", "string")
    if not model:
        raise v.bad("you must provide a model parameter", None, None)
    if "input" not in body:
        raise v.missing("input")
    inputs = parse_inputs(body["input"])
    encoding_format: EncodingFormat = v.typed(body, "encoding_format", "string") or "float"
    v.one_of(encoding_format, ("float", "base64"), "encoding_format")
    dimensions = v.typed(body, "dimensions", "integer")
    v.in_range(dimensions, "dimensions", minimum=1, integer=True)
    return EmbeddingRequest(
        model=model,
        inputs=inputs,
        encoding_format=encoding_format,
        dimensions=dimensions,
        dimensions_sent="dimensions" in body,
        user=v.typed(body, "user", "string"),
    )


def parse_inputs(raw: Any) -> tuple[Input, ...]:
    """`input` as a tuple of strings / token lists; every malformed shape gets the API's one
    schema message (it answers `"$.input' is invalid"` for "", [], [""], [[]] and mixed arrays)."""
    if isinstance(raw, str):
        if not raw:
            raise v.bad(INVALID_INPUT, None, None)
        return (raw,)
    if not isinstance(raw, list) or not raw or len(raw) > MAX_INPUTS:
        raise v.bad(INVALID_INPUT, None, None)
    if all(isinstance(item, str) and item for item in raw):
        return tuple(raw)
    if all(_is_token(item) for item in raw):
        return (list(raw),)
    if all(isinstance(item, list) and item and all(map(_is_token, item)) for item in raw):
        return tuple(list(item) for item in raw)
    raise v.bad(INVALID_INPUT, None, None)


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def create_embeddings(
    request: EmbeddingRequest,
    info: ModelInfo,
    tokenizer: Tokenizer,
    seed: int,
    rules: EmbeddingRules | None = None,
) -> dict[str, Any]:
    """The response body: one vector per input, exact usage; APIError for over-long inputs."""
    native = info.dimensions or DEFAULT_DIMENSIONS
    dimensions = native
    if request.dimensions_sent:
        if info.id.startswith(FIXED_SIZE_MODELS):
            raise v.bad("This model does not support specifying dimensions.", None, None)
        if request.dimensions is not None:
            v.in_range(request.dimensions, "dimensions", minimum=1, maximum=native, integer=True)
            dimensions = request.dimensions
    texts, counts = _texts_and_counts(request.inputs, tokenizer)
    limit = info.context_window
    for count in counts:
        if limit is not None and count > limit:
            raise too_long(limit, count)
    total = sum(counts)
    if total > MAX_TOKENS_PER_REQUEST:
        raise APIError(
            400,
            f"Requested {total} tokens, max {MAX_TOKENS_PER_REQUEST} tokens per request",
            type="max_tokens_per_request",
            code="max_tokens_per_request",
        )
    try:
        vectors = Embedder(seed, rules).vectors(texts, dimensions)
    except EmbeddingRuleError as error:  # the scenario pinned a vector shorter than asked for
        raise v.bad(str(error), "dimensions", None) from None
    model = ANSWERING_MODEL.get(request.model, request.model)
    return render_embeddings(vectors, model, total, request.encoding_format)


def _texts_and_counts(inputs: Sequence[Input], tokenizer: Tokenizer) -> tuple[list[str], list[int]]:
    """The text each input embeds (token arrays decoded) and its token count."""
    texts, counts = [], []
    for item in inputs:
        if isinstance(item, str):
            texts.append(item)
            counts.append(tokenizer.count(item))
            continue
        top = tokenizer.max_token_value  # only for token-array inputs
        for token in item:
            if token > top:
                raise v.bad(
                    f"Invalid token in prompt: {token}. Minimum value is 0, maximum value is "
                    f"{top} (inclusive).",
                    None,
                    None,
                )
        texts.append(tokenizer.decode(item))
        counts.append(len(item))
    return texts, counts


def too_long(limit: int, count: int) -> APIError:
    """The API's (pre-chat) wording for an input over the model's limit."""
    return APIError(
        400,
        f"This model's maximum context length is {limit} tokens, however you requested {count} "
        f"tokens ({count} in your prompt; 0 for the completion). Please reduce your prompt; or "
        "completion length.",
        type="invalid_request_error",
    )


def render_embeddings(
    vectors: Sequence[Sequence[float]],
    model: str,
    prompt_tokens: int,
    encoding_format: EncodingFormat = "float",
) -> dict[str, Any]:
    """`{"object": "list", "data": [...], "model", "usage"}` as `CreateEmbeddingResponse`."""
    as_base64 = encoding_format == "base64"
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": index,
                "embedding": encode_base64(vector) if as_base64 else vector,
            }
            for index, vector in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
