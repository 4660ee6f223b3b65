"""Reading JSON the way Google's API front end does: as a proto message.

- a field may be spelled lowerCamelCase or snake_case (the SDK sends both in one body:
  `"generationConfig": {"thinkingConfig": {"include_thoughts": true}}`);
- numbers may arrive as numeric strings (int64 fields always do), integral floats fit ints;
- problems are reported together, paths in proto (snake_case) names:
  'Invalid JSON payload received. Unknown name "max_tokens" at 'generation_config': Cannot
  find field.', "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), "hot"";
- request checks come after: "* GenerateContentRequest.contents: contents is not specified";
- enum values in any case (`"mode": "auto"`, `"type": "object"`), as the live API and Google's
  own REST samples send them;
- an unknown field name is noted and passed over (`mockserver.protocols.leniency`); under
  `validation: strict` it is the API's 'Unknown name "x": Cannot find field.'.

Also converts Gemini's OpenAPI-subset Schema ("OBJECT", `nullable`) to JSON Schema.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mockserver.protocols import leniency
from mockserver.protocols.gemini import errors

SCHEMA_TYPES = (
    "TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL",
)  # fmt: skip
_SCHEMA_COUNTS = (
    "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties",
)  # fmt: skip
_SCHEMA_KEPT = (
    "format", "title", "description", "enum", "required", "pattern", "minimum", "maximum",
)  # fmt: skip
_NOT_REPEATED = "Proto field is not repeating, cannot start list."
_NOT_SCALAR = "Starting an object on a scalar field"

Converter = Callable[[Any], Any]


@functools.cache
def snake(name: str) -> str:
    """The proto field name: `generationConfig` -> "generation_config"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    """The JSON field name: `generation_config` -> "generationConfig"."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def names(*camel_names: str) -> frozenset[str]:
    """The accepted spellings of proto fields: each lowerCamelCase name and its snake_case."""
    return frozenset(camel_names) | frozenset(snake(name) for name in camel_names)


def pick(obj: Mapping[str, Any], name: str) -> Any:
    """`obj[name]`, else `obj[snake(name)]`, else None."""
    value = obj.get(name)
    return obj.get(snake(name)) if value is None else value


class Reader:
    """Reads proto-shaped JSON for one request type, collecting problems as the API reports
    them: all shape problems in one BadRequest, else all request checks, else the role error."""

    def __init__(self, version: str, request: str) -> None:
        self.version = version
        self.request = request  # "GenerateContentRequest", "CountTokensRequest", ...
        self.shape: list[tuple[str | None, str]] = []
        self.checks: list[str] = []
        self.late_error: str | None = None  # a backend check that runs after the others

    def type_url(self, message: str) -> str:
        return f"type.googleapis.com/google.ai.generativelanguage.{self.version}.{message}"

    def check(self, path: str, problem: str) -> None:
        self.checks.append(f"{self.request}.{path}: {problem}")

    def bad_value(self, path: str, type_name: str, value: Any) -> None:
        self.shape.append((path, errors.invalid_value(path, type_name, value)))

    def raise_problems(self) -> None:
        if self.shape:
            raise errors.payload_errors(self.shape)
        if self.checks:
            raise errors.request_errors(self.checks)
        if self.late_error:
            raise errors.GeminiError(400, self.late_error)

    def known(self, obj: Mapping[str, Any], allowed: frozenset[str], parent: str | None) -> None:
        """Names beyond `allowed`: a shape problem under strict validation, else a note."""
        strict = leniency.is_strict()
        for key in obj:
            if key in allowed:
                continue
            if strict:
                self.shape.append((parent, errors.unknown_name(key, parent)))
            else:
                leniency.note(f"unknown field '{f'{parent}.{key}' if parent else key}'")

    def _get(
        self, obj: Mapping[str, Any], name: str, parent: str | None, type_name: str, ok: Converter
    ) -> Any:
        key = name if name in obj else snake(name)
        value = obj.get(key)
        if value is None:
            return None
        path = f"{parent}.{snake(name)}" if parent else snake(name)
        if isinstance(value, list) and ok is not _is_list:
            self.shape.append((path, errors.unknown_name(key, parent, _NOT_REPEATED)))
        elif isinstance(value, dict) and ok is not _is_dict:
            self.shape.append((path, errors.unknown_name(key, parent, _NOT_SCALAR)))
        elif (converted := ok(value)) is not None:
            return converted
        else:
            self.bad_value(path, type_name, value)
        return None

    def text(self, obj: Mapping[str, Any], name: str, parent: str | None) -> str | None:
        value: str | None = self._get(obj, name, parent, "TYPE_STRING", _as_str)
        return value

    def integer(self, obj: Mapping[str, Any], name: str, parent: str | None) -> int | None:
        value: int | None = self._get(obj, name, parent, "TYPE_INT32", as_int)
        return value

    def number(self, obj: Mapping[str, Any], name: str, parent: str | None) -> float | None:
        value: float | None = self._get(obj, name, parent, "TYPE_FLOAT", _as_float)
        return value

    def boolean(self, obj: Mapping[str, Any], name: str, parent: str | None) -> bool | None:
        value: bool | None = self._get(obj, name, parent, "TYPE_BOOL", _as_bool)
        return value

    def message(
        self, obj: Mapping[str, Any], name: str, parent: str | None, message: str
    ) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._get(
            obj, name, parent, self.type_url(message), _is_dict
        )
        return value

    def repeated(
        self, obj: Mapping[str, Any], name: str, parent: str | None, element: str
    ) -> list[Any] | None:
        value: list[Any] | None = self._get(obj, name, parent, element, _is_list)
        return value

    def enum(
        self,
        obj: Mapping[str, Any],
        name: str,
        parent: str | None,
        enum: str,
        allowed: Iterable[str],
    ) -> str | None:
        value: str | None = self._get(obj, name, parent, self.type_url(enum), _as_str)
        if value is None or value in allowed:
            return value
        if value.upper() in allowed:  # the API takes enum names in any case
            return value.upper()
        self.bad_value(
            f"{parent}.{snake(name)}" if parent else snake(name), self.type_url(enum), value
        )
        return None

    def json_schema(self, schema: Mapping[str, Any], where: str) -> dict[str, Any]:
        """Gemini's Schema as JSON Schema: {"type": "OBJECT", "nullable": true} ->
        {"type": ["object", "null"]}; propertyOrdering and example are dropped. Types are
        taken in any case ("object" as "OBJECT"), as the live API takes them."""
        out: dict[str, Any] = {}
        for key, value in schema.items():
            name = camel(key)
            if name == "type":
                kind = value.upper() if isinstance(value, str) else value
                if kind not in SCHEMA_TYPES:
                    self.bad_value(f"{where}.type", self.type_url("Type"), value)
                elif kind != "TYPE_UNSPECIFIED":
                    out["type"] = kind.lower()
            elif name == "properties" and isinstance(value, dict):
                out["properties"] = {
                    prop: self._sub_schema(sub, f"{where}.properties[{i}].value")
                    for i, (prop, sub) in enumerate(value.items())
                }
            elif name == "items" and isinstance(value, dict):
                out["items"] = self.json_schema(value, f"{where}.items")
            elif name == "anyOf" and isinstance(value, list):
                out["anyOf"] = [
                    self._sub_schema(sub, f"{where}.any_of[{i}]") for i, sub in enumerate(value)
                ]
            elif name in _SCHEMA_COUNTS and (count := as_int(value)) is not None:
                out[name] = count
            elif name in _SCHEMA_KEPT or name == "default":
                out[name] = value
        if schema.get("nullable") is True and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out

    def _sub_schema(self, schema: Any, where: str) -> dict[str, Any]:
        return self.json_schema(schema, where) if isinstance(schema, dict) else {}


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: Any) -> int | None:
    """proto3 JSON integers: numbers, integral floats and numeric strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _is_dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _is_list(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None
