"""The gateway's rerank endpoint: `POST /v1/rerank` (Jina / Cohere style).

The gateway (new-api `dto/rerank.go`, `relay/channel/jina`) re-serialises whatever the upstream
reranker answered into its own DTO, so clients see only `results` and `usage`:

    {"results": [{"document": {"text": "…"}, "index": 2, "relevance_score": 0.93}, …],
     "usage": {"prompt_tokens": 41, "completion_tokens": 0, "total_tokens": 41, …}}

Scores are deterministic: a logistic curve over the share of query words found in the document,
plus a small jitter hashed from (seed, query, document), so a document that repeats the query's
words ranks first and ties are broken the same way on every run. Results are sorted by score
(then by index) and cut to `top_n`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from msgspec import Struct

from mockserver.core.errors import APIError

if TYPE_CHECKING:
    from mockserver.tokens.tokenizer import Tokenizer

_WORD = re.compile(r"\w+")
# logit = _BASE + _OVERLAP_WEIGHT * overlap + _JITTER * (u - 0.5): no overlap scores ~0.02,
# every query word present ~0.95, as cross-encoders tend to answer.
_BASE = -4.0
_OVERLAP_WEIGHT = 7.0
_JITTER = 1.5


class RerankRequest(Struct, frozen=True):
    """A validated rerank body; `documents` are the texts (objects reduced to their `text`)."""

    model: str
    query: str
    documents: tuple[str, ...]
    top_n: int | None = None
    return_documents: bool = True


def gateway_error(message: str) -> APIError:
    """A request the gateway rejects before relaying it (`types.NewError`, invalid_request)."""
    return APIError(400, message, type="new_api_error", code="invalid_request")


def parse_rerank(body: Any) -> RerankRequest:
    """Validate as the gateway does (`GetAndValidateRerankRequest`): a JSON object that decodes
    into the DTO, a non-empty query, at least one document."""
    if not isinstance(body, dict):
        raise gateway_error(
            f"json: cannot unmarshal {_go_type(body)} into Go value of type dto.RerankRequest"
        )
    for key, kind, python_type in (
        ("model", "string", str),
        ("query", "string", str),
        ("documents", "[]interface {}", list),
    ):
        value = body.get(key)
        if value is not None and not isinstance(value, python_type):
            raise gateway_error(
                f"json: cannot unmarshal {_go_type(value)} into Go struct field "
                f"RerankRequest.{key} of type {kind}"
            )
    top_n = body.get("top_n")
    if top_n is not None and (not isinstance(top_n, int) or isinstance(top_n, bool)):
        raise gateway_error(
            f"json: cannot unmarshal {_go_type(top_n)} into Go struct field "
            "RerankRequest.top_n of type int"
        )
    return_documents = body.get("return_documents")
    if return_documents is not None and not isinstance(return_documents, bool):
        raise gateway_error(
            f"json: cannot unmarshal {_go_type(return_documents)} into Go struct field "
            "RerankRequest.return_documents of type bool"
        )
    query = body.get("query") or ""
    if not query:
        raise gateway_error("query is empty")
    documents = body.get("documents") or []
    if not documents:
        raise gateway_error("documents is empty")
    return RerankRequest(
        model=body.get("model") or "",
        query=query,
        documents=tuple(document_text(d) for d in documents),
        top_n=top_n,
        # Jina, the default upstream, returns documents unless told not to.
        return_documents=True if return_documents is None else return_documents,
    )


def document_text(document: Any) -> str:
    """A document's text: a string, or the `text` of `{"text": …}` (Cohere / Jina objects)."""
    if isinstance(document, str):
        return document
    if isinstance(document, Mapping) and isinstance(document.get("text"), str):
        return str(document["text"])
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS).decode()


def relevance(query: str, document: str, seed: int) -> float:
    """A score in (0, 1): mostly the share of query words in the document, plus jitter."""
    wanted = set(_WORD.findall(query.lower()))
    found = set(_WORD.findall(document.lower()))
    overlap = len(wanted & found) / len(wanted) if wanted else 0.0
    digest = hashlib.blake2b(
        f"{seed}\x1f{query}\x1f{document}".encode("utf-8", "surrogatepass"), digest_size=8
    ).digest()
    jitter = int.from_bytes(digest, "big") / 2.0**64 - 0.5
    logit = _BASE + _OVERLAP_WEIGHT * overlap + _JITTER * jitter
    return 1.0 / (1.0 + math.exp(-logit))


def rerank(request: RerankRequest, tokenizer: Tokenizer, seed: int) -> dict[str, Any]:
    """The gateway's response body for a validated request."""
    scored = sorted(
        (
            (relevance(request.query, text, seed), index)
            for index, text in enumerate(request.documents)
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if request.top_n is not None and request.top_n > 0:
        scored = scored[: request.top_n]
    results = []
    for score, index in scored:
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if request.return_documents:
            result = {"document": {"text": request.documents[index]}, **result}
        results.append(result)
    return {"results": results, "usage": usage_body(prompt_tokens(request, tokenizer))}


def prompt_tokens(request: RerankRequest, tokenizer: Tokenizer) -> int:
    """The gateway's own count: the documents and the query joined by newlines."""
    return tokenizer.count("\n".join([*request.documents, request.query]))


def usage_body(tokens: int) -> dict[str, Any]:
    """The gateway's `dto.Usage` as Go serialises it (every field without `omitempty`)."""
    return {
        "prompt_tokens": tokens,
        "completion_tokens": 0,
        "total_tokens": tokens,
        "prompt_tokens_details": {
            "cached_tokens": 0,
            "text_tokens": 0,
            "audio_tokens": 0,
            "image_tokens": 0,
        },
        "completion_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "reasoning_tokens": 0},
        "input_tokens": 0,
        "output_tokens": 0,
        "input_tokens_details": None,
    }


def _go_type(value: Any) -> str:
    """encoding/json's name for a JSON value in an UnmarshalTypeError."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"
