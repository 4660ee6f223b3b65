"""Reading JSON Schema keywords for `schema_instance`: whether a value satisfies a schema, merging
two schemas into one (`allOf`, `$ref` siblings), and the keyword readers both share.

Not a validator: it checks the keywords `instance_for` draws values from (type, enum, const,
anyOf, oneOf, required, properties, items, lengths, pattern, bounds, multipleOf), so that a
`oneOf` draw can be checked to match exactly one branch:

    conforms({"type": "integer", "minimum": 3}, 2, at, builder.flatten_or_none) -> False
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

At = TypeVar("At")
# Resolves `$ref` and merges `allOf`: the flat schema and the new position, or None when no
# value satisfies the schema.
Flatten = Callable[[Any, At], tuple[dict[str, Any], At] | None]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def conforms(schema: Any, value: Any, at: At, flatten: Flatten[At]) -> bool:
    """Whether `value` satisfies `schema`, as far as the keywords values are generated from go.

    `flatten` resolves `$ref` and merges `allOf` (threading `at`, its position); it returns
    None for a schema no value satisfies.
    """
    flattened = flatten(schema, at)
    if flattened is None:
        return False
    flat, at = flattened
    if "anyOf" in flat and not any(conforms(s, value, at, flatten) for s in flat["anyOf"]):
        return False
    if "oneOf" in flat and sum(conforms(s, value, at, flatten) for s in flat["oneOf"]) != 1:
        return False
    if "const" in flat and canonical(flat["const"]) != canonical(value):
        return False
    if "enum" in flat and canonical(value) not in map(canonical, flat["enum"]):
        return False
    types = declared_types(flat)
    if types and not any(is_type(value, t) for t in types):
        return False
    if isinstance(value, dict):
        properties, extra = flat.get("properties") or {}, flat.get("additionalProperties")
        return all(name in value for name in flat.get("required", ())) and all(
            conforms(properties.get(k, True if extra is None else extra), v, at, flatten)
            for k, v in value.items()
        )
    if isinstance(value, list):
        prefix, items = item_schemas(flat)
        distinct = len({canonical(v) for v in value}) == len(value)
        return (
            length_within(value, int(flat.get("minItems", 0)), flat.get("maxItems"))
            and (distinct or not flat.get("uniqueItems"))
            and all(
                conforms(prefix[i] if i < len(prefix) else items, v, at, flatten)
                for i, v in enumerate(value)
            )
        )
    if isinstance(value, str):
        pattern = flat.get("pattern")
        fits = length_within(value, int(flat.get("minLength", 0)), flat.get("maxLength"))
        return fits and (not isinstance(pattern, str) or pattern_matches(pattern, value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        step = flat.get("multipleOf")
        return within_bounds(
            value,
            *tighter_bound(flat, "minimum", "exclusiveMinimum", upper=False),
            *tighter_bound(flat, "maximum", "exclusiveMaximum", upper=True),
        ) and (step is None or is_multiple(value, step))
    return True


def merge_schemas(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Both schemas as one (for allOf and $ref siblings); on other conflicts `first` wins."""
    out = dict(first)
    for key, theirs in second.items():
        mine: Any = out.get(key)
        if key not in out:
            out[key] = theirs
        elif key == "properties":
            out[key] = {**mine, **{p: {"allOf": [mine[p], s]} if p in mine else s
                                   for p, s in theirs.items()}}  # fmt: skip
        elif key == "required":
            out[key] = list(dict.fromkeys([*mine, *theirs]))
        elif key == "type":
            out[key] = _common_types(mine, theirs)
        elif key in _LOWER_BOUNDS and not isinstance(mine, bool):
            out[key] = max(mine, theirs)
        elif key in _UPPER_BOUNDS and not isinstance(mine, bool):
            out[key] = min(mine, theirs)
        elif key == "enum":
            allowed = {canonical(e) for e in theirs}
            out[key] = [e for e in mine if canonical(e) in allowed]
        elif key == "allOf":
            out[key] = [*mine, *theirs]
        elif key in ("items", "additionalProperties"):
            out[key] = False if False in (mine, theirs) else {"allOf": [mine, theirs]}
    return out


def _common_types(first: Any, second: Any) -> list[str]:
    mine = [first] if isinstance(first, str) else list(first)
    theirs = [second] if isinstance(second, str) else list(second)
    common = [t for t in mine if t in theirs]
    if "integer" not in common and {"integer", "number"} <= {*mine, *theirs}:
        common.append("integer")
    return common


def declared_types(flat: Mapping[str, Any]) -> list[str]:
    """Declared types, lower-cased (Gemini writes "STRING"), with OpenAPI's `nullable`."""
    declared = flat.get("type")
    types = [] if declared is None else [declared] if isinstance(declared, str) else declared
    types = [str(t).lower() for t in types]
    return [*types, "null"] if flat.get("nullable") is True and "null" not in types else types


def item_schemas(flat: Mapping[str, Any]) -> tuple[list[Any], Any]:
    """prefixItems and the schema of the items after them (draft-07 tuples too)."""
    items, prefix = flat.get("items", True), flat.get("prefixItems") or []
    if isinstance(items, list):
        return items, flat.get("additionalItems", True)
    return list(prefix), True if items is None else items


def tighter_bound(
    flat: Mapping[str, Any], inclusive_key: str, exclusive_key: str, upper: bool
) -> tuple[Any, bool]:
    """The tighter of a pair of bounds and whether it is exclusive."""
    inclusive, exclusive = flat.get(inclusive_key), flat.get(exclusive_key)
    if isinstance(exclusive, bool):  # draft 4 spells exclusivity as a flag on the bound
        return inclusive, exclusive and inclusive is not None
    if exclusive is None or inclusive is None:
        return (inclusive, False) if exclusive is None else (exclusive, True)
    tighter_exclusive = exclusive <= inclusive if upper else exclusive >= inclusive
    return (exclusive, True) if tighter_exclusive else (inclusive, False)


def within_bounds(value: float, low: Any, low_open: bool, high: Any, high_open: bool) -> bool:
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    return above and below


def is_multiple(value: float, step: Any) -> bool:
    # Float division as jsonschema does it, so that what we emit passes what clients run.
    if isinstance(step, float):
        quotient = value / step
        return math.isfinite(quotient) and quotient == int(quotient)
    return bool(value % step == 0)


def length_within(value: str | list[Any], low: int, high: Any) -> bool:
    return len(value) >= low and (high is None or len(value) <= high)


def pattern_matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:  # an ECMA-only construct we cannot check: trust the draw
        return True


def is_type(value: Any, kind: str) -> bool:
    if kind in ("integer", "number"):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and (kind == "number" or float(value).is_integer())
    expected = _PYTHON_TYPES.get(kind, object)
    return isinstance(value, expected) and (kind == "boolean" or not isinstance(value, bool))


_PYTHON_TYPES: dict[str, type] = {
    "null": type(None), "boolean": bool, "string": str, "array": list, "object": dict,
}  # fmt: skip


def canonical(value: Any) -> Any:
    """A hashable form under JSON equality: 1 == 1.0, but True != 1."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, list):
        return ("array", tuple(canonical(v) for v in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((k, canonical(v)) for k, v in value.items())))
    return ("value", value)
