"""The `google-genai` SDK against a real server running the every-dialect scenario.

Bodies and stream chunks are validated with the SDK's own pydantic model
(`types.GenerateContentResponse`, which forbids unknown fields); the SDK is pointed at the server
with `http_options=types.HttpOptions(base_url=...)`. google-genai 3.x calls `/v1/...` by
default; `api_version="v1beta"` (what older releases and most examples use) is served too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from mockserver.http.server_thread import ServerThread
from tests.integration.every_dialect import (
    FORECAST,
    FORECAST_QUESTION,
    GEMINI_HEADERS,
    GEMINI_MODEL,
    OPENAI_HEADERS,
    THINK_ANSWER,
    THINK_QUESTION,
    THINKING,
    WEATHER_ARGUMENTS,
    WEATHER_QUESTION,
    WEATHER_SCHEMA,
    post,
    post_json,
    serve,
    sse_events,
)

THINKING_MODEL = "gemini-2.5-flash"
EMBEDDING_MODEL = "gemini-embedding-001"
# `parameters` takes Google's Schema (upper-case types: "OBJECT"); a JSON Schema goes in
# `parametersJsonSchema`, as the SDK sends it.
DECLARATION = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "parametersJsonSchema": WEATHER_SCHEMA,
}
TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Current weather for a city",
            parameters_json_schema=WEATHER_SCHEMA,
        )
    ]
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    # A strict catalog: the tests of each vendor's unknown-model error need one.
    with serve(catalog="strict") as running:
        yield running


@pytest.fixture(scope="module", params=["v1", "v1beta"])
def client(server: ServerThread, request: pytest.FixtureRequest) -> Iterator[genai.Client]:
    options = types.HttpOptions(base_url=server.url, api_version=request.param)
    made = genai.Client(api_key="gemini-test-key", http_options=options)
    yield made
    made.close()


def generate_body(question: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": question}]}], **extra}


def generate(
    server: ServerThread, body: dict[str, Any], model: str = GEMINI_MODEL
) -> types.GenerateContentResponse:
    """POST :generateContent; the body validated as the SDK's GenerateContentResponse."""
    url = f"{server.url}/v1beta/models/{model}:generateContent"
    return types.GenerateContentResponse.model_validate(post_json(url, GEMINI_HEADERS, body))


def stream_chunks(
    server: ServerThread, body: dict[str, Any], model: str = GEMINI_MODEL
) -> list[types.GenerateContentResponse]:
    """POST :streamGenerateContent?alt=sse; every chunk validated."""
    url = f"{server.url}/v1beta/models/{model}:streamGenerateContent?alt=sse"
    events = sse_events(post(url, GEMINI_HEADERS, body))
    assert all(event.name is None for event in events)
    return [types.GenerateContentResponse.model_validate(event.data) for event in events]


def finish_reasons(chunks: list[types.GenerateContentResponse]) -> list[Any]:
    return [chunk.candidates[0].finish_reason if chunk.candidates else None for chunk in chunks]


def test_text_body_and_stream_are_valid_generate_content_responses(server: ServerThread) -> None:
    body = generate(server, generate_body(FORECAST_QUESTION))
    assert body.text == FORECAST
    assert body.candidates and body.candidates[0].finish_reason == types.FinishReason.STOP
    assert body.model_version == GEMINI_MODEL and body.response_id
    usage = body.usage_metadata
    assert usage and usage.prompt_token_count and usage.candidates_token_count
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count

    chunks = stream_chunks(server, generate_body(FORECAST_QUESTION))
    assert "".join(chunk.text or "" for chunk in chunks) == FORECAST
    # Only the last chunk says why the candidate finished, and carries the final counts.
    assert finish_reasons(chunks) == [None] * (len(chunks) - 1) + [types.FinishReason.STOP]
    last = chunks[-1].usage_metadata
    assert last and last.candidates_token_count == usage.candidates_token_count
    assert len({chunk.response_id for chunk in chunks}) == 1

    # Without alt=sse the stream is one JSON array of the same chunks.
    url = f"{server.url}/v1beta/models/{GEMINI_MODEL}:streamGenerateContent"
    array = post_json(url, GEMINI_HEADERS, generate_body(FORECAST_QUESTION))
    parsed = [types.GenerateContentResponse.model_validate(item) for item in array]
    assert "".join(chunk.text or "" for chunk in parsed) == FORECAST


def test_function_call_body_stream_and_sdk(server: ServerThread, client: genai.Client) -> None:
    body = generate_body(WEATHER_QUESTION, tools=[{"functionDeclarations": [DECLARATION]}])
    [call] = generate(server, body).function_calls or []
    assert (call.name, call.args) == ("get_weather", WEATHER_ARGUMENTS)
    assert call.id

    chunks = stream_chunks(server, body)
    # Gemini sends a call whole, never in pieces.
    calls = [fc for chunk in chunks for fc in chunk.function_calls or []]
    assert [(fc.name, fc.args) for fc in calls] == [("get_weather", WEATHER_ARGUMENTS)]

    config = types.GenerateContentConfig(tools=[TOOL])
    streamed = client.models.generate_content_stream(
        model=GEMINI_MODEL, contents=WEATHER_QUESTION, config=config
    )
    sdk_calls = [fc for chunk in streamed for fc in chunk.function_calls or []]
    assert [(fc.name, fc.args) for fc in sdk_calls] == [("get_weather", WEATHER_ARGUMENTS)]


def test_thoughts_are_shown_only_when_asked(server: ServerThread, client: genai.Client) -> None:
    asked = {"thinkingConfig": {"includeThoughts": True}}
    body = generate(server, generate_body(THINK_QUESTION, generationConfig=asked), THINKING_MODEL)
    assert body.candidates and body.candidates[0].content
    parts = body.candidates[0].content.parts or []
    assert [(part.thought, part.text) for part in parts] == [
        (True, THINKING),
        (None, THINK_ANSWER),
    ]
    assert body.text == THINK_ANSWER  # the SDK's .text leaves thoughts out
    usage = body.usage_metadata
    assert usage and usage.thoughts_token_count and usage.candidates_token_count
    assert usage.prompt_token_count is not None
    assert usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + usage.thoughts_token_count
    )

    chunks = stream_chunks(
        server, generate_body(THINK_QUESTION, generationConfig=asked), THINKING_MODEL
    )
    parts = [part for chunk in chunks for part in chunk.parts or []]
    assert "".join(part.text or "" for part in parts if part.thought) == THINKING

    # A thinking model still thinks unasked, but only its token count shows.
    config = types.GenerateContentConfig()
    hidden = client.models.generate_content(
        model=THINKING_MODEL, contents=THINK_QUESTION, config=config
    )
    assert hidden.text == THINK_ANSWER
    assert hidden.usage_metadata and hidden.usage_metadata.thoughts_token_count


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"systemInstruction": {"parts": [{"text": "Answer tersely."}]}},
        {"tools": [{"functionDeclarations": [DECLARATION]}]},
    ],
    ids=["plain", "system", "tools"],
)
def test_count_tokens_equals_prompt_token_count(
    server: ServerThread, client: genai.Client, extra: dict[str, Any]
) -> None:
    body = generate_body(WEATHER_QUESTION, **extra)
    url = f"{server.url}/v1beta/models/{GEMINI_MODEL}:countTokens"
    request = {"generateContentRequest": body | {"model": f"models/{GEMINI_MODEL}"}}
    counted = post_json(url, GEMINI_HEADERS, request)
    assert counted["promptTokensDetails"] == [
        {"modality": "TEXT", "tokenCount": counted["totalTokens"]}
    ]
    usage = generate(server, body).usage_metadata
    streamed = stream_chunks(server, body)[-1].usage_metadata
    assert usage and streamed
    assert counted["totalTokens"] == usage.prompt_token_count == streamed.prompt_token_count
    if not extra:  # the SDK's count_tokens sends contents only (no tools, no system)
        sdk = client.models.count_tokens(model=GEMINI_MODEL, contents=WEATHER_QUESTION)
        assert sdk.total_tokens == usage.prompt_token_count


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_embeddings_honour_the_scenarios_pinned_vectors_and_neighbours(
    server: ServerThread, client: genai.Client
) -> None:
    four = types.EmbedContentConfig(output_dimensionality=4)
    pinned = client.models.embed_content(
        model=EMBEDDING_MODEL, contents=["the pinned sentence"], config=four
    )
    assert pinned.embeddings and pinned.embeddings[0].values == [0.5, 0.5, 0.5, 0.5]
    # The same vector from OpenAI's endpoint: the scenario's embeddings serve every dialect.
    openai_body = post_json(
        server.url + "/v1/embeddings",
        OPENAI_HEADERS,
        {"model": "text-embedding-3-small", "input": "the pinned sentence", "dimensions": 4},
    )
    assert openai_body["data"][0]["embedding"] == [0.5, 0.5, 0.5, 0.5]

    near = client.models.embed_content(
        model=EMBEDDING_MODEL, contents=["refund policy", "how do I get my money back"]
    )
    assert near.embeddings is not None
    first, second = (e.values or [] for e in near.embeddings)
    assert len(first) == len(second) == 3072
    assert cosine(first, second) == pytest.approx(0.9, abs=1e-6)

    single = post_json(
        f"{server.url}/v1beta/models/{EMBEDDING_MODEL}:embedContent",
        GEMINI_HEADERS,
        {"content": {"parts": [{"text": "refund policy"}]}},
    )
    assert single["embedding"]["values"] == first

    # A pinned vector cannot grow: asking for more values than the scenario pinned is a 400.
    with pytest.raises(genai_errors.ClientError) as too_many:
        client.models.embed_content(model=EMBEDDING_MODEL, contents=["the pinned sentence"])
    assert (too_many.value.code, too_many.value.status) == (400, "INVALID_ARGUMENT")
    assert "has 4 values, but 3072 were requested" in (too_many.value.message or "")


def test_model_listing_is_gemini_shaped(server: ServerThread, client: genai.Client) -> None:
    listed = httpx.get(server.url + "/v1beta/models?pageSize=3", headers=GEMINI_HEADERS, timeout=10)
    page = listed.json()
    assert len(page["models"]) == 3 and page["nextPageToken"]
    assert all(model["name"].startswith("models/") for model in page["models"])
    names = [model.name for model in client.models.list(config={"page_size": 10})]
    assert f"models/{GEMINI_MODEL}" in names and f"models/{EMBEDDING_MODEL}" in names
    embedding = client.models.get(model=EMBEDDING_MODEL)
    assert embedding.supported_actions and "embedContent" in embedding.supported_actions


def test_errors_have_googles_shape_through_the_sdk(
    server: ServerThread, client: genai.Client
) -> None:
    with pytest.raises(genai_errors.ClientError) as not_found:
        client.models.generate_content(model="gemini-unknown", contents="hi")
    assert (not_found.value.code, not_found.value.status) == (404, "NOT_FOUND")
    with pytest.raises(genai_errors.ClientError) as bad_role:
        client.models.generate_content(
            model=GEMINI_MODEL, contents=[types.Content(role="tool", parts=[types.Part(text="x")])]
        )
    assert (bad_role.value.code, bad_role.value.status) == (400, "INVALID_ARGUMENT")
    url = f"{server.url}/v1beta/models/{GEMINI_MODEL}:generateContent"
    no_key = post(url, {}, generate_body("hi"))
    assert no_key.status_code == 403
    assert no_key.json()["error"]["status"] == "PERMISSION_DENIED"


def test_unknown_model_count_names_the_action_and_api_version_called(
    server: ServerThread,
) -> None:
    for version in ("v1", "v1beta"):
        url = f"{server.url}/{version}/models/gemini-unknown:countTokens"
        response = post(url, GEMINI_HEADERS, {"contents": [{"parts": [{"text": "hi"}]}]})
        assert response.status_code == 404
        assert response.json()["error"]["message"].startswith(
            f"models/gemini-unknown is not found for API version {version}, "
            "or is not supported for countTokens."
        )


def test_unknown_model_generation_names_the_api_version_called(server: ServerThread) -> None:
    url = f"{server.url}/v1/models/gemini-unknown:generateContent"
    response = post(url, GEMINI_HEADERS, generate_body("hi"))
    assert response.status_code == 404
    assert "is not found for API version v1," in response.json()["error"]["message"]
