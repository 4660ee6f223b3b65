from __future__ import annotations

import ipaddress
import json
import os
import random
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field

from mockserver.engine.content.schema_instance import SchemaInstanceError, instance_for

KEYS = [f"key-{i}" for i in range(25)]


def assert_valid(schema: Any, value: Any) -> None:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(value)]
    assert not errors, (json.dumps(value), errors)


# --- pydantic models: what `response_format` / tool schemas are usually generated from ---


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    street: str
    city: str
    zip_code: str = Field(pattern=r"^\d{5}$")


class Person(BaseModel):
    """Strict-mode shape: every field required, optional ones nullable, no extra keys."""

    model_config = ConfigDict(extra="forbid")
    name: str
    email: str
    age: int = Field(ge=0, le=130)
    nickname: str | None
    role: Literal["admin", "user"]
    favourite: Colour
    address: Address
    tags: list[str]
    scores: list[float] = Field(min_length=1, max_length=4)


class Profile(BaseModel):
    """Non-strict shape: defaults, optional fields, a map and a tuple."""

    person: Person
    bio: str = ""
    rating: float | None = Field(default=None, gt=0, lt=5)
    counts: dict[str, int] = {}
    pair: tuple[int, str] = (0, "")


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode]


class Link(BaseModel):
    label: str
    next: Link | None


WEATHER_TOOL = {  # OpenAI function parameters, strict mode
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City and country e.g. Bogotá, Colombia"},
        "units": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit", None]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "include": {
            "type": "array",
            "items": {"type": "string", "enum": ["wind", "rain", "uv"]},
        },
    },
    "required": ["location", "units", "days", "include"],
    "additionalProperties": False,
}
SEARCH_TOOL = {  # non-strict function parameters: optional arguments, no additionalProperties
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 3},
        "limit": {"type": "integer", "default": 10, "minimum": 1, "maximum": 50},
        "filters": {
            "type": "object",
            "properties": {"since": {"type": "string", "format": "date"}},
        },
    },
    "required": ["query"],
}

SCHEMAS: dict[str, Any] = {
    "empty": {},
    "true": True,
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "const": {"const": {"a": [1, 2]}},
    "enum": {"enum": ["a", 2, None, [1]]},
    "simple object": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    },
    "nested": {
        "type": "object",
        "properties": {
            "user": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "emails": {"type": "array", "items": {"type": "string", "format": "email"}},
                },
                "required": ["id", "emails"],
                "additionalProperties": False,
            }
        },
        "required": ["user"],
    },
    "defs": {
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}},
        "type": "array",
        "items": {"$ref": "#/$defs/Point"},
    },
    "definitions": {
        "definitions": {"Id": {"type": "integer", "minimum": 1}},
        "type": "object",
        "properties": {"id": {"$ref": "#/definitions/Id"}},
        "required": ["id"],
    },
    "ref with siblings": {
        "$defs": {"Base": {"type": "object", "properties": {"a": {"type": "string"}}}},
        "$ref": "#/$defs/Base",
        "required": ["a"],
        "description": "siblings of $ref apply too",
    },
    "recursive list": {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                },
                "required": ["value", "children"],
            }
        },
        "$ref": "#/$defs/Node",
    },
    "recursive root": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "parent": {"$ref": "#"}},
        "required": ["name"],
    },
    "anyOf nullable": {"anyOf": [{"type": "string", "minLength": 2}, {"type": "null"}]},
    "oneOf nullable": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
    "oneOf overlapping": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
    "oneOf overlapping objects": {
        "oneOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]},
        ]
    },
    "oneOf discriminated": {
        "oneOf": [
            {
                "type": "object",
                "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer"}},
                "required": ["kind", "lives"],
            },
            {
                "type": "object",
                "properties": {"kind": {"const": "dog"}, "good": {"type": "boolean"}},
                "required": ["kind", "good"],
            },
        ]
    },
    "allOf": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"a": {"minimum": 10, "maximum": 12}, "b": {"type": "string"}}},
            {"required": ["b"]},
        ]
    },
    "oneOf with an impossible branch": {
        "oneOf": [{"type": "integer", "minimum": 5, "maximum": 1}, {"type": "string"}]
    },
    "type list": {"type": ["integer", "string", "boolean"]},
    "array bounds": {"type": "array", "items": {"type": "integer"}, "minItems": 5, "maxItems": 7},
    "array empty": {"type": "array", "maxItems": 0},
    "array of one value": {"type": "array", "items": {"const": "a"}, "minItems": 2},
    "array unique": {
        "type": "array",
        "items": {"enum": ["a", "b", "c"]},
        "minItems": 3,
        "uniqueItems": True,
    },
    "tuple": {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string", "format": "date"}],
        "items": False,
    },
    "strings": {
        "type": "object",
        "properties": {
            "short": {"type": "string", "maxLength": 3},
            "long": {"type": "string", "minLength": 80},
            "exact": {"type": "string", "minLength": 6, "maxLength": 6},
            "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2,4}$"},
            "slug": {"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$", "maxLength": 30},
            "description": {"type": "string", "maxLength": 20},
        },
        "required": ["short", "long", "exact", "code", "slug", "description"],
    },
    "formats": {
        "type": "object",
        "properties": {
            fmt: {"type": "string", "format": fmt}
            for fmt in (
                "date-time",
                "date",
                "time",
                "email",
                "uri",
                "uuid",
                "ipv4",
                "ipv6",
                "hostname",
            )
        },
        "additionalProperties": False,
        "minProperties": 9,
    },
    "numbers": {
        "type": "object",
        "properties": {
            "small": {"type": "integer", "minimum": -3, "maximum": 3},
            "open": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "tight": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
            "five": {"type": "integer", "multipleOf": 5, "minimum": 7, "maximum": 40},
            "quarter": {"type": "number", "multipleOf": 0.25, "minimum": -1, "maximum": 1},
            "fractional step": {"type": "integer", "multipleOf": 2.5, "maximum": 30},
            "negative": {"type": "integer", "exclusiveMaximum": -10},
            "big": {"type": "number", "minimum": 1e9},
        },
        "required": ["small", "open", "tight", "five", "quarter", "fractional step"],
        "additionalProperties": False,
    },
    "map": {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 2},
    "weather tool": WEATHER_TOOL,
    "search tool": SEARCH_TOOL,
    "pydantic strict": Person.model_json_schema(),
    "pydantic defaults": Profile.model_json_schema(),
    "pydantic recursive": TreeNode.model_json_schema(),
    "pydantic linked list": Link.model_json_schema(),
}


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_values_validate(name: str) -> None:
    schema = SCHEMAS[name]
    for key in KEYS:
        assert_valid(schema, instance_for(schema, key))


def test_gemini_openapi_style_schemas() -> None:
    gemini = {
        "type": "OBJECT",
        "properties": {
            "title": {"type": "STRING"},
            "year": {"type": "INTEGER", "nullable": True},
        },
        "required": ["title", "year"],
    }
    equivalent = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "year": {"type": ["integer", "null"]}},
        "required": ["title", "year"],
    }
    values = [instance_for(gemini, key) for key in KEYS]
    for value in values:
        assert_valid(equivalent, value)
    assert any(value["year"] is None for value in values)


def test_many_keys_against_pydantic_models() -> None:
    schema = Profile.model_json_schema()
    for index in range(300):
        value = instance_for(schema, f"property-{index}")
        assert_valid(schema, value)
        Profile.model_validate(value)


def test_strict_mode_includes_every_property() -> None:
    for key in KEYS:
        value = instance_for(WEATHER_TOOL, key)
        assert list(value) == ["location", "units", "days", "include"]
        Person.model_validate(instance_for(Person.model_json_schema(), key))


def test_optional_properties_come_and_go_deterministically() -> None:
    seen = [frozenset(instance_for(SEARCH_TOOL, key)) for key in KEYS]
    assert {"query"} <= frozenset.intersection(*seen)
    assert len(set(seen)) > 1  # some keys include optional arguments, some don't
    assert seen == [frozenset(instance_for(SEARCH_TOOL, key)) for key in KEYS]


def test_formats_parse() -> None:
    for key in KEYS:
        value = instance_for(SCHEMAS["formats"], key)
        assert datetime.fromisoformat(value["date-time"]).tzinfo is not None
        date.fromisoformat(value["date"])
        time.fromisoformat(value["time"])
        assert uuid.UUID(value["uuid"]).version == 4
        ipaddress.IPv4Address(value["ipv4"])
        ipaddress.IPv6Address(value["ipv6"])
        assert value["email"].endswith("@example.com")
        assert value["uri"].startswith("https://")


def test_nullable_values_are_mostly_present_but_not_always() -> None:
    values = [instance_for(SCHEMAS["anyOf nullable"], f"n{i}") for i in range(200)]
    nulls = sum(value is None for value in values)
    assert 0 < nulls < 100


def test_recursion_stops() -> None:
    def depth(node: dict[str, Any]) -> int:
        return 1 + max((depth(child) for child in node["children"]), default=0)

    for key in KEYS:
        assert depth(instance_for(TreeNode.model_json_schema(), key)) <= 4


def test_strings_follow_the_property_name() -> None:
    schema = {
        "type": "object",
        "properties": {
            "email": {"type": "string"},
            "full_name": {"type": "string"},
            "description": {"type": "string"},
        },
        "required": ["email", "full_name", "description"],
    }
    for key in KEYS:
        value = instance_for(schema, key)
        assert value["email"].endswith("@example.com")
        assert " " in value["full_name"]
        assert value["description"].endswith(".")


def test_same_key_same_value_and_keys_differ() -> None:
    schema = Person.model_json_schema()
    values = [json.dumps(instance_for(schema, f"k{i}")) for i in range(50)]
    assert values == [json.dumps(instance_for(schema, f"k{i}")) for i in range(50)]
    assert len(set(values)) == 50


def test_parallel_threads_give_the_sequential_values() -> None:
    schema = Profile.model_json_schema()
    keys = [f"thread-{i}" for i in range(200)]
    sequential = [instance_for(schema, key) for key in keys]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda key: instance_for(schema, key), keys)) == sequential


def test_global_random_state_is_left_alone() -> None:
    random.seed(99)
    before = random.getstate()
    instance_for(Profile.model_json_schema(), "k")
    assert random.getstate() == before


def test_values_do_not_depend_on_hash_randomisation() -> None:
    script = (
        "import json, sys; from mockserver.engine.content.schema_instance import instance_for\n"
        "schema = json.loads(sys.argv[1])\n"
        "print(json.dumps([instance_for(schema, f'k{i}') for i in range(20)]))"
    )
    schema = json.dumps(
        {"type": "array", "items": SCHEMAS["strings"], "minItems": 2, "uniqueItems": True}
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script, schema],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (False, "`false` admits no value"),
        ({"type": "integer", "minimum": 0.2, "maximum": 0.8}, "no integer between 0.2 and 0.8"),
        ({"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 6}, "multiple of 7"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength 5 > maxLength 2"),
        ({"type": "array", "minItems": 3, "maxItems": 1}, "needs 3 items but allows 1"),
        ({"$ref": "https://example.com/schema.json"}, "only local $ref"),
        ({"$ref": "#/$defs/Missing"}, "points nowhere"),
        ({"enum": []}, "`enum` has no value"),
        ({"type": "string", "enum": [1, 2]}, "`enum` has no value of its `type`"),
        (
            {"type": "object", "required": ["x"], "additionalProperties": False},
            "property 'x' is needed",
        ),
        (
            {"type": "object", "properties": {"self": {"$ref": "#"}}, "required": ["self"]},
            "no finite instance",
        ),
        ({"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}, "expands without end"),
        (
            {"type": "array", "items": {"type": "boolean"}, "minItems": 3, "uniqueItems": True},
            "only 2 distinct items",
        ),
    ],
)
def test_impossible_schemas_say_where_and_why(schema: Any, message: str) -> None:
    with pytest.raises(SchemaInstanceError, match=message.replace("$", r"\$")):
        instance_for(schema, "k")
