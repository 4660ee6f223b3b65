"""The gateway's `/v1/rerank`: validation as new-api does it, deterministic ordering by word
overlap, `top_n`, `return_documents`, and the gateway's response DTO."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.core.errors import APIError
from mockserver.protocols.newapi.errors import GatewayDialect
from mockserver.protocols.newapi.rerank import (
    RerankRequest,
    document_text,
    parse_rerank,
    relevance,
    rerank,
)
from mockserver.tokens.tokenizer import get_tokenizer

TOKENIZER = get_tokenizer("o200k_base")
DOCUMENTS = [
    "Carson City is the capital city of the American state of Nevada.",
    "The Northern Mariana Islands are a group of islands. Their capital is Saipan.",
    "Washington, D.C. is the capital of the United States.",
    "Capital punishment has existed in the United States since before it was a country.",
]
QUERY = "What is the capital of the United States?"


def body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "jina-reranker-v2-base-multilingual",
        "query": QUERY,
        "documents": DOCUMENTS,
    } | extra


def test_results_are_sorted_by_a_deterministic_overlap_score() -> None:
    answer = rerank(parse_rerank(body()), TOKENIZER, seed=5)
    results = answer["results"]
    assert results[0]["index"] == 2
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s < 1.0 for s in scores)
    assert results[0]["document"] == {"text": DOCUMENTS[2]}
    assert answer == rerank(parse_rerank(body()), TOKENIZER, seed=5)
    assert answer != rerank(parse_rerank(body()), TOKENIZER, seed=6)


def test_scores_follow_word_overlap() -> None:
    full = relevance("red apple pie", "A red apple pie recipe", 0)
    half = relevance("red apple pie", "apple trees", 0)
    none = relevance("red apple pie", "quantum chromodynamics", 0)
    assert full > 0.85 and none < 0.1 and none < half < full


def test_top_n_and_return_documents() -> None:
    answer = rerank(parse_rerank(body(top_n=2, return_documents=False)), TOKENIZER, seed=1)
    assert len(answer["results"]) == 2
    assert all(set(r) == {"index", "relevance_score"} for r in answer["results"])
    assert len(rerank(parse_rerank(body(top_n=10)), TOKENIZER, 1)["results"]) == 4


def test_object_documents_are_read_by_their_text() -> None:
    request = parse_rerank(body(documents=[{"text": "capital of the United States"}, "Paris"]))
    assert request.documents == ("capital of the United States", "Paris")
    assert document_text({"id": 3}) == '{"id":3}'
    answer = rerank(request, TOKENIZER, 0)
    assert answer["results"][0] == {
        "document": {"text": "capital of the United States"},
        "index": 0,
        "relevance_score": answer["results"][0]["relevance_score"],
    }


def test_usage_is_the_gateways_count_in_its_usage_dto() -> None:
    usage = rerank(parse_rerank(body()), TOKENIZER, 0)["usage"]
    expected = TOKENIZER.count("\n".join([*DOCUMENTS, QUERY]))
    assert usage["prompt_tokens"] == usage["total_tokens"] == expected
    assert usage["completion_tokens"] == 0
    assert set(usage) >= {"prompt_tokens_details", "completion_tokens_details", "input_tokens"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (body(query=""), "query is empty"),
        ({"documents": DOCUMENTS}, "query is empty"),
        (body(documents=[]), "documents is empty"),
        (
            body(query=3),
            "json: cannot unmarshal number into Go struct field RerankRequest.query of type string",
        ),
        (
            body(top_n="2"),
            "json: cannot unmarshal string into Go struct field RerankRequest.top_n of type int",
        ),
        ([1], "json: cannot unmarshal array into Go value of type dto.RerankRequest"),
    ],
)
def test_the_gateway_rejects_what_new_api_rejects(raw: Any, message: str) -> None:
    with pytest.raises(APIError) as caught:
        parse_rerank(raw)
    assert caught.value.status == 400
    assert GatewayDialect().render_error(caught.value) == {
        "error": {
            "message": message,
            "type": "new_api_error",
            "param": "",
            "code": "invalid_request",
        }
    }


def test_request_defaults() -> None:
    request = parse_rerank({"query": "q", "documents": ["d"]})
    assert request == RerankRequest(model="", query="q", documents=("d",))
    assert request.return_documents is True
