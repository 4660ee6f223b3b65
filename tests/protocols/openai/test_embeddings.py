"""`/v1/embeddings` in-process: accepted and rejected inputs (with the API's words), exact usage,
`dimensions`, both encodings, spec validity, and the openai SDK decoding our base64 itself."""

from __future__ import annotations

import base64
import json
from array import array
from typing import Any

import httpx2
import openai
import pytest
from openai.types import CreateEmbeddingResponse

from mockserver.core.catalog import ModelInfo, load_builtin
from mockserver.core.errors import APIError
from mockserver.engine.content.embeddings import EmbeddingRules, embed
from mockserver.protocols.openai.embeddings import (
    INVALID_INPUT,
    EmbeddingRequest,
    create_embeddings,
    parse_embeddings,
    render_embeddings,
)
from mockserver.tokens.tokenizer import get_tokenizer
from tests.openapi_spec import validate

AUTH = {"authorization": "Bearer sk-test"}
CL100K = get_tokenizer("cl100k_base")


def model(name: str) -> ModelInfo:
    info = load_builtin().get(name)
    assert info is not None, name
    return info


SMALL, ADA = model("text-embedding-3-small"), model("text-embedding-ada-002")


def answer(body: Any, info: ModelInfo = SMALL, seed: int = 1, **kw: Any) -> dict[str, Any]:
    return create_embeddings(parse_embeddings(body, AUTH), info, CL100K, seed, **kw)


def rejected(body: Any, info: ModelInfo = SMALL, headers: dict[str, str] = AUTH) -> APIError:
    with pytest.raises(APIError) as caught:
        create_embeddings(parse_embeddings(body, headers), info, CL100K, 1)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "inputs"),
    [
        ("hello", ("hello",)),
        (["a", "b c"], ("a", "b c")),
        ([15339, 1917], ([15339, 1917],)),
        ([[15339], [1917, 0]], ([15339], [1917, 0])),
    ],
)
def test_the_four_input_shapes(raw: Any, inputs: tuple[Any, ...]) -> None:
    request = parse_embeddings({"model": "text-embedding-3-small", "input": raw}, AUTH)
    assert request.inputs == inputs
    assert request.encoding_format == "float"


@pytest.mark.parametrize(
    "raw",
    ["", [], [""], ["ok", ""], [[]], [1, "a"], [[1], "a"], [-1], {"text": "a"}, 3, ["x"] * 2049],
)
def test_malformed_inputs_get_the_api_schema_message(raw: Any) -> None:
    error = rejected({"model": "text-embedding-3-small", "input": raw})
    assert (error.status, error.message, error.type) == (
        400,
        INVALID_INPUT,
        "invalid_request_error",
    )


def test_missing_fields_auth_and_bad_options() -> None:
    assert rejected({"model": "text-embedding-3-small"}).message == (
        "Missing required parameter: 'input'."
    )
    assert rejected({"input": "x"}).message == "you must provide a model parameter"
    assert rejected({"model": "m", "input": "x"}, headers={}).status == 401
    error = rejected({"model": "m", "input": "x", "encoding_format": "int8"})
    assert error.param == "encoding_format" and "Supported values are" in error.message
    error = rejected({"model": "m", "input": "x", "dimensions": 0})
    assert error.code == "integer_below_min_value"


def test_usage_is_the_exact_token_count_and_token_arrays_count_their_length() -> None:
    texts = ["The food was delicious and the waiter was friendly.", "héllo wörld 🙂"]
    body = answer({"model": "text-embedding-3-small", "input": [*texts]})
    expected = sum(len(CL100K.encoding.encode_ordinary(t)) for t in texts)
    assert body["usage"] == {"prompt_tokens": expected, "total_tokens": expected}
    ids = CL100K.encode(texts[0])
    by_ids = answer({"model": "text-embedding-3-small", "input": [ids, [1, 2, 3]]})
    assert by_ids["usage"]["prompt_tokens"] == len(ids) + 3
    # A token array embeds like the text it decodes to.
    assert by_ids["data"][0]["embedding"] == body["data"][0]["embedding"]


def test_float_body_is_valid_and_parses_with_the_sdk_types() -> None:
    body = answer({"model": "text-embedding-3-small", "input": ["one", "two"], "user": "u"})
    validate("CreateEmbeddingResponse", body)
    parsed = CreateEmbeddingResponse.model_validate(body)
    assert [d.index for d in parsed.data] == [0, 1]
    assert len(parsed.data[0].embedding) == 1536
    assert parsed.data[0].embedding == embed("one", 1536, 1)
    assert parsed.model == "text-embedding-3-small"


def test_dimensions_truncate_and_renormalise() -> None:
    body = answer({"model": "text-embedding-3-small", "input": "cut me", "dimensions": 256})
    assert len(body["data"][0]["embedding"]) == 256
    full = answer({"model": "text-embedding-3-small", "input": "cut me"})["data"][0]["embedding"]
    head = full[:256]
    scale = sum(x * x for x in head) ** -0.5
    assert body["data"][0]["embedding"] == pytest.approx([x * scale for x in head], abs=1e-12)
    too_big = rejected({"model": "text-embedding-3-small", "input": "x", "dimensions": 1537})
    assert too_big.message == (
        "Invalid 'dimensions': integer above maximum value. Expected a value <= 1536, "
        "but got 1537 instead."
    )


def test_ada_rejects_dimensions_even_null_and_answers_as_v2() -> None:
    for dimensions in (1536, None):
        error = rejected(
            {"model": "text-embedding-ada-002", "input": "x", "dimensions": dimensions}, ADA
        )
        assert (error.message, error.param, error.code) == (
            "This model does not support specifying dimensions.",
            None,
            None,
        )
    assert answer({"model": "text-embedding-ada-002", "input": "x"}, ADA)["model"] == (
        "text-embedding-ada-002-v2"
    )


def test_base64_decodes_to_the_float_vectors() -> None:
    floats = answer(
        {"model": "text-embedding-3-small", "input": "same", "encoding_format": "float"}
    )
    b64 = answer({"model": "text-embedding-3-small", "input": "same", "encoding_format": "base64"})
    decoded = array("f", base64.b64decode(b64["data"][0]["embedding"])).tolist()
    assert decoded == array("f", floats["data"][0]["embedding"]).tolist()
    # The spec only knows float arrays: check the body as the SDK hands it over, decoded.
    b64["data"][0]["embedding"] = decoded
    validate("CreateEmbeddingResponse", b64)


def test_the_openai_sdk_asks_for_base64_and_decodes_it_itself() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        seen.append(body)
        headers = dict(request.headers.items())
        return httpx2.Response(
            200, json=create_embeddings(parse_embeddings(body, headers), SMALL, CL100K, 4)
        )

    client = openai.OpenAI(
        api_key="sk-test",
        base_url="http://mock/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    result = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    assert seen[0]["encoding_format"] == "base64"
    assert result.data[1].embedding == array("f", embed("beta", 1536, 4)).tolist()
    assert result.usage.prompt_tokens == 2


def test_over_long_inputs_and_requests_get_the_api_errors() -> None:
    # A flat token array is capped at 2048 like any array; one input of 8192 tokens is nested.
    assert rejected({"model": "m", "input": [1] * 2049}).message == INVALID_INPUT
    error = rejected({"model": "text-embedding-3-small", "input": [[1] * 8192]})
    assert error.message == (
        "This model's maximum context length is 8191 tokens, however you requested 8192 tokens "
        "(8192 in your prompt; 0 for the completion). Please reduce your prompt; or completion "
        "length."
    )
    error = rejected({"model": "text-embedding-3-small", "input": [[1] * 8000] * 38})
    assert (error.message, error.type, error.code) == (
        "Requested 304000 tokens, max 300000 tokens per request",
        "max_tokens_per_request",
        "max_tokens_per_request",
    )
    error = rejected({"model": "text-embedding-3-small", "input": [100277]})
    assert error.message.startswith("Invalid token in prompt: 100277.")


def test_scenario_rules_reach_the_response() -> None:
    rules = EmbeddingRules(pinned={"pinned text": tuple([0.0] * 1535 + [1.0])})
    body = answer({"model": "text-embedding-3-small", "input": "pinned text"}, rules=rules)
    assert body["data"][0]["embedding"][-1] == 1.0


def test_render_embeddings_is_a_plain_function() -> None:
    body = render_embeddings([[0.6, 0.8]], "m", 3, "float")
    assert body == {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8]}],
        "model": "m",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    assert EmbeddingRequest("m", ("x",)).dimensions is None
