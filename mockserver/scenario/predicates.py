"""The `match:` block of a rule: predicates on a request, as validated models.

Shorthands are normalised here, once: `last_user: "hi"` becomes `TextMatch(contains="hi")`,
`model: gpt-4o` becomes `["gpt-4o"]`. Regexes are compiled while validating, so a bad one is a
load error; they are the `regex` package's (Python's `re` syntax), which `matching` runs with a
timeout. `matching` compiles these models into fast tests.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import regex
from pydantic import NonNegativeInt, Tag, field_validator, model_validator

from mockserver.core.exchange import ResponseFormatType
from mockserver.scenario.spec import (
    Spec,
    discriminated,
    header_strings,
    int_or_mapping,
    shape_error,
    str_or_mapping,
)

ToolChoiceWord = Literal["auto", "none", "required"]


class TextMatch(Spec):
    """`"hi"` (contains) or exactly one of `contains` / `equals` / `regex`."""

    contains: str | None = None
    equals: str | None = None
    regex: str | None = None
    ignore_case: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"contains": data}
        if not isinstance(data, dict):
            raise shape_error("expected a string or a mapping with one of contains, equals, regex")
        return data

    @field_validator("regex")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            # Python's `re` first: the syntax documented, and its messages say most.
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex: {exc.msg} at position {exc.pos}") from exc
            try:
                regex.compile(pattern)
            except regex.error as exc:
                raise ValueError(f"bad regex: {exc}") from exc
        return pattern

    @model_validator(mode="after")
    def _exactly_one(self) -> TextMatch:
        given = [k for k in ("contains", "equals", "regex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of contains, equals, regex; "
                f"got {' and '.join(given) or 'none'}"
            )
        return self


class ToolResultMatch(Spec):
    name: str | None = None
    call_id: str | None = None
    contains: str | None = None


class TurnRange(Spec):
    min: NonNegativeInt | None = None
    max: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TurnRange:
        if self.min is None and self.max is None:
            raise ValueError("expected min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class ToolChoiceName(Spec):
    name: str


Turn = Annotated[
    Annotated[NonNegativeInt, Tag("<int>")] | Annotated[TurnRange, Tag("<mapping>")],
    discriminated(int_or_mapping, "expected an integer or {min: N, max: M}"),
]
ToolChoiceMatch = Annotated[
    Annotated[ToolChoiceWord, Tag("<str>")] | Annotated[ToolChoiceName, Tag("<mapping>")],
    discriminated(str_or_mapping, "expected auto, none, required or {name: <function name>}"),
]


class Match(Spec):
    """Predicates on a request; all given ones must hold. An empty `Match` matches everything."""

    model: list[str] | None = None
    last_user: TextMatch | None = None
    any_message: TextMatch | None = None
    system: TextMatch | None = None
    tools: list[str] | None = None
    tool_choice: ToolChoiceMatch | None = None
    tool_result: ToolResultMatch | None = None
    turn: Turn | None = None
    stream: bool | None = None
    headers: dict[str, str] | None = None
    response_format: ResponseFormatType | None = None

    @field_validator("model", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if value is not None and not isinstance(value, list):
            raise shape_error("expected a model name or glob, or a list of them")
        return value

    @field_validator("headers", mode="before")
    @classmethod
    def _header_strings(cls, value: Any) -> Any:
        return header_strings(value)
