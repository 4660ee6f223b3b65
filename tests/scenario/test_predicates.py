from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mockserver.scenario.predicates import Match, TextMatch, ToolChoiceName, TurnRange


def errors(model: type[Any], data: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_text_match_shorthand_means_contains() -> None:
    match = Match.model_validate({"last_user": "weather"})
    assert match.last_user == TextMatch(contains="weather")


def test_text_match_needs_exactly_one_operator() -> None:
    assert "exactly one of contains, equals, regex; got contains and regex" in str(
        errors(TextMatch, {"contains": "a", "regex": "b"})
    )
    assert "got none" in str(errors(TextMatch, {"ignore_case": True}))


def test_bad_regex_is_a_validation_error_with_position() -> None:
    [(loc, message)] = errors(TextMatch, {"regex": "a(b"})
    assert loc == ("regex",)
    assert "bad regex: missing ), unterminated subpattern at position 1" in message


def test_model_accepts_one_glob_or_a_list() -> None:
    assert Match.model_validate({"model": "gpt-4o*"}).model == ["gpt-4o*"]
    assert Match.model_validate({"model": ["a", "b"]}).model == ["a", "b"]


def test_turn_and_tool_choice_shapes() -> None:
    match = Match.model_validate({"turn": 2, "tool_choice": "required"})
    assert (match.turn, match.tool_choice) == (2, "required")
    match = Match.model_validate({"turn": {"min": 1}, "tool_choice": {"name": "f"}})
    assert match.turn == TurnRange(min=1)
    assert match.tool_choice == ToolChoiceName(name="f")
    assert "min (3) is greater than max (1)" in str(errors(TurnRange, {"min": 3, "max": 1}))


def test_headers_values_may_be_numbers() -> None:
    match = Match.model_validate({"headers": {"X-Try": 2}})
    assert match.headers == {"X-Try": "2"}
