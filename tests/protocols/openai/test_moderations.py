"""`/v1/moderations` in-process: the three input shapes, all 13 categories with deterministic low
scores, scenario flags, validity against the spec and the openai SDK types."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2
import openai
import pytest
from openai.types import ModerationCreateResponse

from mockserver.core.errors import APIError
from mockserver.protocols.openai.moderations import (
    CATEGORIES,
    FlagRule,
    ModerationInput,
    ModerationRules,
    flag,
    moderate,
    parse_moderation,
)
from tests.openapi_spec import validate

AUTH = {"authorization": "Bearer sk-test"}


def answer(body: Any, seed: int = 1, rules: ModerationRules | None = None) -> dict[str, Any]:
    request = parse_moderation(body, AUTH)
    return moderate(request, seed, rules) if rules else moderate(request, seed)


def rejected(body: Any, headers: dict[str, str] = AUTH) -> APIError:
    with pytest.raises(APIError) as caught:
        parse_moderation(body, headers)
    return caught.value


def test_a_string_gets_one_unflagged_result_with_every_category() -> None:
    body = answer({"input": "I like turtles."})
    validate("CreateModerationResponse", body)
    ModerationCreateResponse.model_validate(body)
    assert re.fullmatch(r"modr-[0-9a-f]{32}", body["id"])
    assert body["model"] == "omni-moderation-latest"
    (result,) = body["results"]
    assert result["flagged"] is False
    assert set(result["categories"]) == set(CATEGORIES) == set(result["category_scores"])
    assert not any(result["categories"].values())
    assert all(1e-7 <= s <= 1e-2 for s in result["category_scores"].values())
    assert all(kinds == ["text"] for kinds in result["category_applied_input_types"].values())
    assert body == answer({"input": "I like turtles."})


def test_an_array_of_strings_gets_one_result_each() -> None:
    body = answer({"model": "omni-moderation-2024-09-26", "input": ["a", "b", "c"]})
    validate("CreateModerationResponse", body)
    assert len(body["results"]) == 3
    assert body["results"][0]["category_scores"] != body["results"][1]["category_scores"]


def test_a_multimodal_array_is_one_input_and_images_apply_where_the_model_reads_them() -> None:
    parts = [
        {"type": "text", "text": "what is in this picture?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    body = answer({"input": parts})
    validate("CreateModerationResponse", body)
    (result,) = body["results"]
    applied = result["category_applied_input_types"]
    assert applied["violence"] == ["text", "image"]
    assert applied["hate"] == ["text"]
    image_only = answer({"input": parts[1:]})["results"][0]["category_applied_input_types"]
    assert image_only["sexual"] == ["image"] and image_only["harassment"] == []


def test_scenario_rules_flag_inputs_that_contain_their_text() -> None:
    rules = ModerationRules((FlagRule("kill them", ("violence", "harassment/threatening")),))
    body = answer({"input": ["I want to KILL THEM all", "hello"]}, rules=rules)
    validate("CreateModerationResponse", body)
    flagged, clean = body["results"]
    assert flagged["flagged"] is True and clean["flagged"] is False
    assert [c for c, hit in flagged["categories"].items() if hit] == [
        "harassment/threatening",
        "violence",
    ]
    assert 0.85 <= flagged["category_scores"]["violence"] <= 0.99
    assert flag(["spam", "scam"], ["illicit"]).categories_for("a SCAM offer") == {"illicit"}


def test_unknown_categories_are_rejected_with_a_suggestion() -> None:
    with pytest.raises(
        ValueError, match=r"unknown moderation category 'violent'.*did you mean 'violence'"
    ):
        FlagRule("x", ("violent",))


def test_legacy_text_models_report_the_newer_categories_as_null() -> None:
    body = answer({"model": "text-moderation-latest", "input": "hi"})
    validate("CreateModerationResponse", body)
    categories = body["results"][0]["categories"]
    assert categories["illicit"] is None and categories["illicit/violent"] is None
    assert categories["hate"] is False


def test_the_id_is_stable_and_changes_with_the_occurrence() -> None:
    request = parse_moderation({"input": "x"}, AUTH)
    assert moderate(request, 3)["id"] == moderate(request, 3)["id"]
    assert moderate(request, 3)["id"] != moderate(request, 3, occurrence=1)["id"]
    assert request.inputs == (ModerationInput("x"),)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Missing required parameter: 'input'."),
        (
            {"input": 5},
            "Invalid type for 'input': expected one of a string, an array of strings "
            "or an array of objects, but got an integer instead.",
        ),
        (
            {"input": ["a", 1]},
            "Invalid type for 'input[1]': expected a string, but got an integer instead.",
        ),
        (
            {"input": [{"type": "audio"}]},
            "Invalid value: 'audio'. Supported values are: 'text', and 'image_url'.",
        ),
        ({"input": [{"type": "text"}]}, "Missing required parameter: 'input[0].text'."),
        (
            {"input": [{"type": "image_url", "image_url": {}}]},
            "Missing required parameter: 'input[0].image_url.url'.",
        ),
        (
            {"input": "x", "model": None},
            "Invalid type for 'model': expected a string, but got null instead.",
        ),
    ],
)
def test_malformed_bodies_get_the_api_messages(raw: Any, message: str) -> None:
    error = rejected(raw)
    assert (error.status, error.message) == (400, message)


def test_a_missing_key_is_401() -> None:
    assert rejected({"input": "x"}, headers={}).status == 401


def test_the_openai_sdk_reads_the_response() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = dict(request.headers.items())
        return httpx2.Response(
            200, json=moderate(parse_moderation(json.loads(request.content), headers), 0)
        )

    client = openai.OpenAI(
        api_key="sk-test",
        base_url="http://mock/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    result = client.moderations.create(input="hello there")
    assert result.results[0].flagged is False
    assert result.results[0].categories.self_harm_intent is False
