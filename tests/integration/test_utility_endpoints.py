"""OpenAI's other endpoints against a real server running the every-dialect scenario: legacy
completions, embeddings (the scenario's `embeddings:` key), moderations (its `moderation:`
key), model listings, and the gateway's rerank. Bodies and chunks are validated against the
official OpenAPI spec; the `openai` SDK is used for what a client does with them.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from mockserver.http.server_thread import ServerThread
from tests.integration.every_dialect import (
    FORECAST,
    FORECAST_QUESTION,
    INSTRUCT_MODEL,
    OPENAI_HEADERS,
    OPENAI_KEY,
    post,
    post_json,
    serve,
    sse_events,
)
from tests.openapi_spec import validate

EMBEDDING_MODEL = "text-embedding-3-small"
PINNED = [0.5, 0.5, 0.5, 0.5]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    # A strict catalog: the tests of each vendor's unknown-model error need one.
    with serve(catalog="strict") as running:
        yield running


@pytest.fixture(scope="module")
def client(server: ServerThread) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.url + "/v1", api_key=OPENAI_KEY, max_retries=0) as made:
        yield made


def endpoint(server: ServerThread, path: str, body: dict[str, Any]) -> Any:
    return post_json(server.url + path, OPENAI_HEADERS, body)


# --- Legacy completions ------------------------------------------------------------------------


def test_completions_body_and_stream_follow_the_spec(
    server: ServerThread, client: openai.OpenAI
) -> None:
    request = {"model": INSTRUCT_MODEL, "prompt": FORECAST_QUESTION, "max_tokens": 64}
    body = endpoint(server, "/v1/completions", request)
    validate("CreateCompletionResponse", body)
    assert body["choices"][0]["text"] == FORECAST
    assert body["choices"][0]["finish_reason"] == "stop"

    events = sse_events(
        post(server.url + "/v1/completions", OPENAI_HEADERS, request | {"stream": True})
    )
    assert events[-1].data == "[DONE]"
    chunks = [event.data for event in events[:-1]]
    for chunk in chunks:
        validate("CreateCompletionResponse", spec_shaped(chunk))
    assert "".join(c["choices"][0]["text"] for c in chunks) == FORECAST
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"

    # Without max_tokens the legacy default of 16 tokens cuts the same text short.
    short = client.completions.create(model=INSTRUCT_MODEL, prompt=FORECAST_QUESTION)
    assert short.choices[0].finish_reason == "length"
    assert FORECAST.startswith(short.choices[0].text) and short.choices[0].text != FORECAST
    assert short.usage is not None and short.usage.completion_tokens == 16


def test_several_prompts_are_answered_each_by_its_rule(client: openai.OpenAI) -> None:
    completion = client.completions.create(
        model=INSTRUCT_MODEL, prompt=[FORECAST_QUESTION, "Say anything."], max_tokens=64
    )
    texts = {choice.index: choice.text for choice in completion.choices}
    assert texts[0] == FORECAST
    assert texts[1] and texts[1] != FORECAST


def spec_shaped(chunk: dict[str, Any]) -> dict[str, Any]:
    """The spec has no stream schema for completions and types `finish_reason` as a string,
    but the live API sends `null` until the last chunk: validate those as if finished."""
    choices = [c if c["finish_reason"] else c | {"finish_reason": "stop"} for c in chunk["choices"]]
    return chunk | {"choices": choices}


# --- Embeddings ------------------------------------------------------------------------------


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_embeddings_return_pinned_vectors_and_declared_neighbours(
    server: ServerThread, client: openai.OpenAI
) -> None:
    pinned = endpoint(
        server,
        "/v1/embeddings",
        {"model": EMBEDDING_MODEL, "input": ["the pinned sentence"], "dimensions": 4},
    )
    validate("CreateEmbeddingResponse", pinned)
    assert pinned["data"][0]["embedding"] == PINNED

    # base64 is what the SDK asks for by default; it decodes back to the same floats.
    raw = endpoint(
        server,
        "/v1/embeddings",
        {
            "model": EMBEDDING_MODEL,
            "input": "the pinned sentence",
            "dimensions": 4,
            "encoding_format": "base64",
        },
    )
    # (The spec types `embedding` as an array only; base64 bodies are checked by hand.)
    assert raw["data"][0]["object"] == "embedding" and raw["usage"]["prompt_tokens"] == 3
    packed = base64.b64decode(raw["data"][0]["embedding"])
    assert list(struct.unpack("<4f", packed)) == PINNED
    sdk = client.embeddings.create(model=EMBEDDING_MODEL, input="the pinned sentence", dimensions=4)
    assert sdk.data[0].embedding == PINNED

    near = client.embeddings.create(
        model=EMBEDDING_MODEL, input=["refund policy", "how do I get my money back", "weather"]
    )
    first, second, third = (item.embedding for item in near.data)
    assert len(first) == 1536
    assert cosine(first, second) == pytest.approx(0.9, abs=1e-5)  # float32 on the wire
    assert abs(cosine(first, third)) < 0.5
    assert near.usage.prompt_tokens == near.usage.total_tokens > 0


def test_too_large_a_size_for_a_pinned_vector_is_a_400(server: ServerThread) -> None:
    response = post(
        server.url + "/v1/embeddings",
        OPENAI_HEADERS,
        {"model": EMBEDDING_MODEL, "input": "the pinned sentence", "dimensions": 8},
    )
    assert response.status_code == 400, response.text
    validate("ErrorResponse", response.json())
    error = response.json()["error"]
    assert error["param"] == "dimensions"
    assert "pinned vector for 'the pinned sentence' has 4 values" in error["message"]


# --- Moderations -----------------------------------------------------------------------------


def test_moderation_flags_come_from_the_scenario(
    server: ServerThread, client: openai.OpenAI
) -> None:
    body = endpoint(
        server,
        "/v1/moderations",
        {"model": "omni-moderation-latest", "input": ["I will punch you", "What a nice day"]},
    )
    validate("CreateModerationResponse", body)
    flagged, calm = body["results"]
    assert flagged["flagged"] is True
    assert {name for name, on in flagged["categories"].items() if on} == {
        "violence",
        "harassment/threatening",
    }
    assert flagged["category_scores"]["violence"] > 0.5
    assert calm["flagged"] is False and not any(calm["categories"].values())

    sdk = client.moderations.create(model="omni-moderation-latest", input="PUNCH the wall")
    assert sdk.results[0].flagged and sdk.results[0].categories.violence


# --- Models and rerank -----------------------------------------------------------------------


def test_model_listing_and_lookup_follow_the_spec(
    server: ServerThread, client: openai.OpenAI
) -> None:
    listed = httpx.get(server.url + "/v1/models", headers=OPENAI_HEADERS, timeout=10)
    validate("ListModelsResponse", listed.json())
    one = httpx.get(
        server.url + f"/v1/models/{EMBEDDING_MODEL}", headers=OPENAI_HEADERS, timeout=10
    )
    validate("Model", one.json())
    assert client.models.retrieve(EMBEDDING_MODEL).id == EMBEDDING_MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_rerank_orders_documents_by_relevance(server: ServerThread) -> None:
    documents = ["the weather is nice", "our refund policy is simple", "shipping times vary"]
    body = endpoint(
        server,
        "/v1/rerank",
        {
            "model": "jina-reranker-v2-base-multilingual",
            "query": "refund policy",
            "documents": documents,
            "top_n": 2,
        },
    )
    results = body["results"]
    assert [r["index"] for r in results][:1] == [1] and len(results) == 2
    assert results[0]["document"] == {"text": documents[1]}
    assert results[0]["relevance_score"] > 0.9 > results[1]["relevance_score"]
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] > 0
    again = endpoint(
        server,
        "/v1/rerank",
        {
            "model": "jina-reranker-v2-base-multilingual",
            "query": "refund policy",
            "documents": documents,
            "top_n": 2,
        },
    )
    assert again == body  # deterministic
