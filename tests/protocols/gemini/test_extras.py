"""Gemini countTokens, embeddings and model listing: the bodies the SDK sends are read, the
bodies rendered here are parsed by the SDK itself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from google.genai import errors as genai_errors
from google.genai import types

from mockserver.core.catalog import ModelInfo
from mockserver.core.errors import APIError
from mockserver.protocols import leniency
from mockserver.protocols.dialect import Inbound
from mockserver.protocols.gemini.extras import (
    count_tokens_body,
    display_name,
    parse_embed_request,
    render_batch_embed,
    render_count_tokens,
    render_embed,
    render_model,
    render_model_list,
)
from tests.protocols.gemini.gemini_sdk import FakeGemini, dialect, inbound_for

FLASH = ModelInfo("gemini-2.5-flash", "google", 1_048_576, 65_536, kind="chat", reasoning=True)
LITE = ModelInfo("gemini-2.0-flash-lite", "google", 1_048_576, 8_192, kind="chat")
EMBEDDING = ModelInfo(
    "gemini-embedding-001", "google", 2048, None, kind="embedding", dimensions=3072
)
CATALOG = [FLASH, LITE, EMBEDDING]


class WordTokenizer:
    name = "words"

    def count(self, text: str) -> int:
        return len(text.split())


def vector(text: str, dimensions: int) -> list[float]:
    return [float(len(text) + i) for i in range(dimensions)]


def routes(request: httpx.Request, body: Any) -> tuple[int, Any]:
    """The extra routes as the app would wire them."""
    inbound = inbound_for(request)
    try:
        path = request.url.path
        if path.endswith(":countTokens"):
            exchange = dialect.parse_count_tokens(body, inbound)
            return 200, count_tokens_body(exchange, WordTokenizer())  # type: ignore[arg-type]
        if path.endswith(":batchEmbedContents"):
            embed = parse_embed_request(body)
            size = embed.output_dimensionality or 4
            return 200, render_batch_embed(vector(t, size) for t in embed.texts)
        if path.endswith("/models"):
            params = request.url.params
            return 200, render_model_list(CATALOG, params.get("pageSize"), params.get("pageToken"))
        model_id = path.rpartition("/models/")[2]
        info = next((m for m in CATALOG if m.id == model_id), None)
        if info is None:
            raise dialect.model_not_found(model_id, "get", "v1")
        return 200, render_model(info)
    except APIError as error:
        return dialect.error_status(error), dialect.render_error(error)


@pytest.fixture
def fake() -> FakeGemini:
    return FakeGemini(extra=routes)


# --- countTokens ----------------------------------------------------------------------------


def test_sdk_count_tokens(fake: FakeGemini) -> None:
    result = fake.client.models.count_tokens(model="gemini-2.5-flash", contents="hello big world")
    assert result.total_tokens == 3
    assert fake.bodies == [{"contents": [{"parts": [{"text": "hello big world"}], "role": "user"}]}]


def test_count_tokens_with_a_whole_generate_request() -> None:
    body = {
        "generateContentRequest": {
            "model": "models/gemini-2.5-flash",
            "systemInstruction": {"parts": [{"text": "be brief"}]},
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": "what is this"},
                        {"inlineData": {"mimeType": "image/jpeg", "data": "AAAA"}},
                    ],
                }
            ],
        }
    }
    inbound = Inbound(
        "/v1beta/models/gemini-2.5-flash:countTokens",
        headers={"x-goog-api-key": "k"},
        path_params={"model": "gemini-2.5-flash:countTokens"},
    )
    exchange = dialect.parse_count_tokens(body, inbound)
    counted = count_tokens_body(exchange, WordTokenizer())  # type: ignore[arg-type]
    assert counted == {
        "totalTokens": 2 + 3 + 258,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 5},
            {"modality": "IMAGE", "tokenCount": 258},
        ],
    }
    from google.genai.models import _CountTokensResponse_from_mldev

    parsed = types.CountTokensResponse.model_validate(_CountTokensResponse_from_mldev(counted))
    assert parsed.total_tokens == 263


def test_count_tokens_rejects_generation_fields() -> None:
    inbound = Inbound(
        "/v1beta/models/gemini-2.5-flash:countTokens",
        headers={"x-goog-api-key": "k"},
        path_params={"model": "gemini-2.5-flash:countTokens"},
    )
    body = {"contents": [], "systemInstruction": {"parts": [{"text": "x"}]}}
    with pytest.raises(APIError) as info:
        dialect.parse_count_tokens(body, inbound)
    assert info.value.message == (
        'Invalid JSON payload received. Unknown name "systemInstruction": Cannot find field.'
    )
    with pytest.raises(APIError) as missing_key:
        dialect.parse_count_tokens({}, Inbound(inbound.path, path_params=inbound.path_params))
    assert missing_key.value.status == 403


def test_render_count_tokens() -> None:
    assert render_count_tokens(7) == {
        "totalTokens": 7,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 7}],
    }
    assert render_count_tokens(0) == {"totalTokens": 0}


# --- embeddings -----------------------------------------------------------------------------


def test_sdk_embed_content_uses_batch_requests(fake: FakeGemini) -> None:
    config = types.EmbedContentConfig(
        task_type="RETRIEVAL_DOCUMENT", output_dimensionality=3, title="Doc"
    )
    result = fake.client.models.embed_content(
        model="gemini-embedding-001", contents=["alpha", "be"], config=config
    )
    assert [e.values for e in result.embeddings or []] == [[5.0, 6.0, 7.0], [2.0, 3.0, 4.0]]
    embed = parse_embed_request(fake.bodies[0])
    assert embed.texts == ["alpha", "be"]
    assert (embed.task_type, embed.output_dimensionality, embed.title) == (
        "RETRIEVAL_DOCUMENT",
        3,
        "Doc",
    )


def test_single_embed_content_body() -> None:
    body = {
        "model": "models/text-embedding-004",
        "content": {"parts": [{"text": "one"}, {"text": "two"}]},
        "task_type": "SEMANTIC_SIMILARITY",
    }
    embed = parse_embed_request(body)
    assert (embed.texts, embed.task_type, embed.output_dimensionality) == (
        ["one\ntwo"],
        "SEMANTIC_SIMILARITY",
        None,
    )
    rendered = render_embed([0.5, -0.5])
    assert rendered == {"embedding": {"values": [0.5, -0.5]}}
    assert types.ContentEmbedding.model_validate(rendered["embedding"]).values == [0.5, -0.5]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"requests": [{"content": {"parts": [{"text": "x"}]}, "taskType": "SEARCH"}]},
            "Invalid value at 'requests[0].task_type' "
            '(type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), "SEARCH"',
        ),
        (
            {"requests": [{"taskType": "CLUSTERING"}]},
            "* BatchEmbedContentsRequest.requests[0].content: content is not specified\n",
        ),
        ({"requests": []}, "* BatchEmbedContentsRequest.requests: requests is not specified\n"),
        (
            {"content": {"parts": [{"text": "x"}]}, "input": "x"},
            'Invalid JSON payload received. Unknown name "input": Cannot find field.',
        ),
    ],
)
def test_embed_rejections(body: Any, message: str) -> None:
    with pytest.raises(APIError) as info, leniency.reading(strict=True):
        parse_embed_request(body)
    assert dialect.render_error(info.value)["error"]["message"] == message


def test_batch_embed_through_the_sdk_converter() -> None:
    body = render_batch_embed([[1.0, 0.0], [0.0, 1.0]])
    parsed = types.EmbedContentResponse.model_validate(body)
    assert [e.values for e in parsed.embeddings or []] == [[1.0, 0.0], [0.0, 1.0]]


# --- models ---------------------------------------------------------------------------------


def test_render_model_shapes() -> None:
    flash = render_model(FLASH)
    assert flash == {
        "name": "models/gemini-2.5-flash",
        "version": "001",
        "displayName": "Gemini 2.5 Flash",
        "description": "Gemini 2.5 Flash, a multimodal model.",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": [
            "generateContent",
            "countTokens",
            "createCachedContent",
            "batchGenerateContent",
        ],
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
        "thinking": True,
    }
    assert "thinking" not in render_model(LITE)
    embedding = render_model(EMBEDDING)
    assert embedding["version"] == "001"
    assert "embedContent" in embedding["supportedGenerationMethods"]
    assert "temperature" not in embedding
    assert display_name("text-embedding-004") == "Text Embedding 004"


def test_sdk_get_model(fake: FakeGemini) -> None:
    model = fake.client.models.get(model="gemini-2.5-flash")
    assert (model.name, model.display_name, model.thinking) == (
        "models/gemini-2.5-flash",
        "Gemini 2.5 Flash",
        True,
    )
    assert (model.input_token_limit, model.output_token_limit) == (1_048_576, 65_536)
    assert model.supported_actions and "generateContent" in model.supported_actions
    with pytest.raises(genai_errors.ClientError) as info:
        fake.client.models.get(model="gemini-0")
    assert info.value.code == 404


def test_sdk_lists_every_page(fake: FakeGemini) -> None:
    listed = list(fake.client.models.list(config={"page_size": 2}))
    assert [m.name for m in listed] == [f"models/{m.id}" for m in CATALOG]
    first = render_model_list(CATALOG, 2)
    assert [m["name"] for m in first["models"]] == [
        "models/gemini-2.5-flash",
        "models/gemini-2.0-flash-lite",
    ]
    last = render_model_list(CATALOG, "2", first["nextPageToken"])
    assert [m["name"] for m in last["models"]] == ["models/gemini-embedding-001"]
    assert "nextPageToken" not in last
    assert "nextPageToken" not in render_model_list(CATALOG)


def test_bad_page_parameters() -> None:
    with pytest.raises(APIError) as token:
        render_model_list(CATALOG, 2, "bm9wZQ")
    assert token.value.status == 400
    with pytest.raises(APIError) as size:
        render_model_list(CATALOG, "ten")
    assert dialect.render_error(size.value)["error"]["message"] == (
        "Invalid value at 'page_size' (TYPE_INT32), \"ten\""
    )
