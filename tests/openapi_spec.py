"""Validate JSON bodies and stream events against the official OpenAI OpenAPI spec.

    from tests.openapi_spec import validate
    validate("Response", body)                 # raises SpecError naming the path and the rule
    validate("ResponseStreamEvent", event)

The spec (`tests/data/conformance/openai/openapi.yaml`, or `$MOCKSERVER_OPENAPI_SPEC`) is loaded
once per process. Two pre-passes make it checkable with a draft 2020-12 validator:

- `nullable: true` (an OpenAPI 3.0 keyword the 3.1 spec still carries) becomes a `"null"` type,
  or an `anyOf` with `{"type": "null"}` beside a `$ref`; see tests/data/conformance/README.md.
- A `oneOf`/`anyOf` with a `discriminator` becomes a dispatch on the discriminator value (an
  `x-dispatch` keyword: "type is X, so check schema X"), as the discriminator means. A failing
  event then reports the rule it broke in its own schema ("'logprobs' is a required property")
  instead of "not valid under any of the given schemas", and validation skips the 50-odd
  branches that cannot apply.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:openai:openapi.yaml"
CONFORMANCE = (
    Path(__file__).resolve().parent / "data" / "conformance"
)  # what the tests check against
DEFAULT_SPEC = CONFORMANCE / "openai" / "openapi.yaml"
_SCHEMAS_PREFIX = "#/components/schemas/"
_DISPATCH = "x-dispatch"


class SpecError(AssertionError):
    """An instance that breaks the spec; the message names the schema, the path and the rule."""


def spec_path() -> Path:
    return Path(os.environ.get("MOCKSERVER_OPENAPI_SPEC", DEFAULT_SPEC))


def validate(schema_name: str, instance: Any) -> None:
    """Raise `SpecError` unless `instance` is valid under `components.schemas[schema_name]`."""
    checker = validator(schema_name)
    errors = list(checker.iter_errors(instance))
    if not errors:
        return
    best = best_match(errors)
    lines = [f"{schema_name} violated at {best.json_path}: {best.message}"]
    others = [e for e in errors if e is not best][:4]
    lines.extend(f"  also at {e.json_path}: {_short(e.message)}" for e in others)
    raise SpecError("\n".join(lines))


@cache
def validator(schema_name: str) -> Any:
    """A cached validator for one component schema, resolving `$ref`s against the whole spec."""
    schemas = spec()["components"]["schemas"]
    if schema_name not in schemas:
        near = difflib.get_close_matches(schema_name, list(schemas), n=3)
        raise KeyError(f"No schema {schema_name!r} in {spec_path()}; did you mean {near}?")
    root = {"$ref": f"{SPEC_URI}{_SCHEMAS_PREFIX}{schema_name}"}
    return _Validator(root, registry=_registry())


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """The normalised spec document (load once: parsing the YAML takes about a second)."""
    path = spec_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"OpenAPI spec not found at {path}; set MOCKSERVER_OPENAPI_SPEC to its location"
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=loader)
    for node in _walk(document):
        _normalise_nullable(node)
    schemas = document["components"]["schemas"]
    for node in _walk(document):
        _dispatch_on_discriminator(node, schemas)
    return document


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in the document, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _normalise_nullable(node: dict[str, Any]) -> None:
    if node.get("nullable") is not True:
        return
    del node["nullable"]
    if "$ref" in node:
        node["anyOf"] = [{"$ref": node.pop("$ref")}, {"type": "null"}]
    elif "type" not in node:
        # e.g. a nullable oneOf: the null alternative wraps the whole rest of the node.
        rest = {key: node.pop(key) for key in list(node)}
        node["anyOf"] = [rest, {"type": "null"}]
    else:
        kind = node["type"]
        kinds = list(kind) if isinstance(kind, list) else [kind]
        if "null" not in kinds:
            node["type"] = [*kinds, "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]


def _dispatch_on_discriminator(node: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Replace `oneOf`/`anyOf` + `discriminator` by `x-dispatch` to the branch the value names.

    Left unchanged unless every branch requires the property and pins it to values no other
    branch uses (looking through `$ref` and `allOf`), so the rewrite accepts exactly what the
    original accepts.
    """
    discriminator = node.get("discriminator")
    if not isinstance(discriminator, dict):
        return
    prop = discriminator.get("propertyName")
    keyword = "oneOf" if "oneOf" in node else "anyOf" if "anyOf" in node else None
    if not isinstance(prop, str) or keyword is None or node.get("type", "object") != "object":
        return
    branches: dict[str, Any] = {}
    for branch in node[keyword]:
        pinned = _pinned(branch, prop, schemas, depth=0)
        if pinned is None or not pinned[1] or any(value in branches for value in pinned[0]):
            return
        branches.update(dict.fromkeys(pinned[0], branch))
    del node[keyword]
    node["type"] = "object"
    node["required"] = sorted({*node.get("required", []), prop})
    node[_DISPATCH] = {"propertyName": prop, "mapping": branches}


def _dispatch(
    validator: Any, rule: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """The `x-dispatch` keyword: validate an object against the branch its discriminator names."""
    if not isinstance(instance, dict) or rule["propertyName"] not in instance:
        return  # `type` and `required` report these
    value = instance[rule["propertyName"]]
    branch = rule["mapping"].get(value) if isinstance(value, str) else None
    if branch is None:
        yield ValidationError(
            f"{value!r} is not a known {rule['propertyName']!r}; expected one of "
            f"{sorted(rule['mapping'])}",
            path=[rule["propertyName"]],
        )
        return
    yield from validator.descend(instance, branch)


_Validator = validators.extend(Draft202012Validator, {_DISPATCH: _dispatch})


def _pinned(
    schema: Any, prop: str, schemas: dict[str, Any], depth: int
) -> tuple[list[str], bool] | None:
    """(the values `schema` allows for `prop`, whether it requires `prop`), or None if unpinned."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith(_SCHEMAS_PREFIX):
            return None
        return _pinned(schemas.get(ref.removeprefix(_SCHEMAS_PREFIX)), prop, schemas, depth + 1)
    dispatch = schema.get(_DISPATCH)
    if isinstance(dispatch, dict) and dispatch["propertyName"] == prop:
        return list(dispatch["mapping"]), True  # a nested union already rewritten
    values: list[str] | None = None
    rule = schema.get("properties", {}).get(prop)
    if isinstance(rule, dict):
        if isinstance(rule.get("const"), str):
            values = [rule["const"]]
        elif isinstance(rule.get("enum"), list) and all(isinstance(e, str) for e in rule["enum"]):
            values = list(rule["enum"])
    required = prop in schema.get("required", [])
    for member in schema.get("allOf", []):
        sub = _pinned(member, prop, schemas, depth + 1)
        if sub is not None:
            values = values if values is not None else sub[0]
            required = required or sub[1]
        elif isinstance(member, dict) and prop in member.get("required", []):
            required = True
    return (values, required) if values else None


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


__all__ = ["SpecError", "ValidationError", "spec", "spec_path", "validate", "validator"]
