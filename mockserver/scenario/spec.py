"""The base of every scenario model, and the field types the models share.

Every field is named exactly as its YAML key (`json` is the one exception: `json_` in Python,
because `json` shadows a pydantic method). Templates are compiled while validating, so a bad
one is a load error.

Union-typed keys use a callable discriminator whose tags are written `<like-this>` so the loader
can tell them from YAML keys when it maps an error back to a line:

    Annotated[Annotated[int, Tag("<int>")] | Annotated[TurnRange, Tag("<mapping>")],
              discriminated(int_or_mapping, "expected an integer or {min: N, max: M}")]
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mockserver.engine.content.templates import (
    CONTEXT_NAMES,
    Template,
    TemplatedValue,
    compile_template,
)


class Spec(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are never coerced.

    Validators are built on first validation, not at import (`defer_build`): a server or a
    pytest session with no scenario file never pays for them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _record_owner(cls, data: Any, info: ValidationInfo) -> Any:
        # The loader reads this map to list the valid keys next to an unknown one.
        if isinstance(data, dict) and isinstance(info.context, dict):
            info.context.setdefault("owners", {})[id(data)] = cls
        return data

    @classmethod
    def accepted_keys(cls) -> list[str]:
        """The YAML keys this model accepts, in declaration order."""
        return [field.alias or name for name, field in cls.model_fields.items()]


def shape_error(expected: str) -> PydanticCustomError:
    """A validation error saying which shape of value was expected (the loader adds "got")."""
    return PydanticCustomError("shape", expected)


def discriminated(tagger: Any, expected: str) -> Discriminator:
    """A discriminator for a union of shapes; `expected` is the error when no shape fits."""
    return Discriminator(tagger, custom_error_type="shape", custom_error_message=expected)


# Taggers see YAML values when validating and model instances when serialising.
def _is_mapping(value: Any) -> bool:
    return isinstance(value, dict | BaseModel)


def str_or_mapping(value: Any) -> str | None:
    if isinstance(value, str | Template):
        return "<str>"
    return "<mapping>" if _is_mapping(value) else None


def int_or_mapping(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return "<int>"
    return "<mapping>" if _is_mapping(value) else None


def number_or_mapping(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "<number>"
    return "<mapping>" if _is_mapping(value) else None


def _template(value: Any) -> Template:
    if not isinstance(value, str):
        raise shape_error("expected a string")
    return compile_template(value, known_names=CONTEXT_NAMES)


def _templated(value: Any) -> TemplatedValue:
    return TemplatedValue(value, known_names=CONTEXT_NAMES)


def _templated_mapping(value: Any) -> TemplatedValue:
    if not isinstance(value, dict):
        raise shape_error("expected a mapping of argument names to values")
    return _templated(value)


def _source_of(value: Template | TemplatedValue) -> Any:
    return value.source if isinstance(value, Template) else value.value


TemplateText = Annotated[Template, PlainValidator(_template), PlainSerializer(_source_of)]
TemplatedAny = Annotated[TemplatedValue, PlainValidator(_templated), PlainSerializer(_source_of)]
TemplatedMapping = Annotated[
    TemplatedValue, PlainValidator(_templated_mapping), PlainSerializer(_source_of)
]


def header_strings(value: Any) -> Any:
    """`{retry-after: 5}` → `{"retry-after": "5"}`: natural YAML, but headers are strings on
    the wire."""
    if isinstance(value, dict):
        return {
            str(k): str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for k, v in value.items()
        }
    return value
