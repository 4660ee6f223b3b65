"""A deterministic JSON value valid against a JSON Schema: the default structured-output reply.

    instance_for({"type": "object", "properties": {"city": {"type": "string"}},
                  "required": ["city"]}, "k1")  ->  {"city": "Elainemouth"}

Hand-written on purpose: jsf is unmaintained and hypothesis-jsonschema draws through
Hypothesis's engine, which cannot be seeded per call. Every draw here comes from
random.Random(seed of key) and a Faker seeded from it; nothing reads the clock.

Understood: local $ref (recursive ones expand twice, then take their smallest branch: optional
properties left out, arrays at minItems, null where allowed), type as a name or a list (also
Gemini's "STRING" and OpenAPI's nullable), enum, const, anyOf, oneOf (checked to match exactly
one branch, with redraws), allOf (merged), objects, arrays, strings (length, format, pattern),
numbers (bounds, multipleOf). Not understood, so a value may not validate: remote $ref, not,
if/then/else, contains, dependent*, patternProperties, unevaluated*, anyOf/oneOf on both sides
of an allOf, oneOf branches told apart only by `format`, and patterns that Python's regex
parser cannot draw from (lookarounds, \\p{L}): those get the last draw. A schema with no value
at all (`false`, an empty range) raises SchemaInstanceError. Keyword reading, `allOf` merging
and the `oneOf` check live in `mockserver.engine.content.schema_check`.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

from mockserver.core.ids import seed_for
from mockserver.engine.content.fake_fields import fake_for_format, fake_for_name, sample_regex
from mockserver.engine.content.fakes import seeded_faker
from mockserver.engine.content.schema_check import (
    canonical,
    conforms,
    declared_types,
    is_multiple,
    is_type,
    item_schemas,
    length_within,
    merge_schemas,
    pattern_matches,
    tighter_bound,
    within_bounds,
)

if TYPE_CHECKING:
    from faker import Faker

__all__ = ["SchemaInstanceError", "instance_for"]

_SOFT_RECURSION = 2  # a $ref met more often than this on one path takes its smallest branch
_SOFT_DEPTH = 12  # nesting past this also takes the smallest branches
_HARD_DEPTH = 64  # past this the schema has no finite instance (required self-reference)
_ATTEMPTS = 8  # redraws for oneOf, patterns and multipleOf
_UNIQUE_ATTEMPTS = 32
_NULL_CHANCE = 0.2  # nullable values are mostly not null: a fake reply should show content
_OPTIONAL_CHANCE = 0.6


class SchemaInstanceError(ValueError):
    """No value can be built: the schema (at the path named) is unsatisfiable or unsupported."""


def instance_for(schema: Mapping[str, Any] | bool, key: str) -> Any:
    """A JSON value valid against `schema`, the same for the same (schema, key)."""
    rng = random.Random(seed_for(key, "schema-instance"))
    with seeded_faker(rng.getrandbits(64)) as faker:
        return _Builder(schema, rng, faker).build(schema, _At())


class _At(Struct, frozen=True):
    """Where the builder is: schema path (for errors), property name (for plausible strings)."""

    path: str = "#"
    name: str | None = None
    trail: tuple[str, ...] = ()  # $refs expanded on the way here
    depth: int = 0
    minimal: bool = False  # steer towards the smallest value: recursion must stop

    def child(self, step: str, name: str | None) -> _At:
        depth = self.depth + 1
        if depth > _HARD_DEPTH:
            raise SchemaInstanceError(
                f"at {self.path}: nested deeper than {_HARD_DEPTH} levels; a required "
                "recursive $ref has no finite instance"
            )
        minimal = self.minimal or depth > _SOFT_DEPTH
        return _At(f"{self.path}/{step}", name, self.trail, depth, minimal)

    def via(self, ref: str) -> _At:
        trail = (*self.trail, ref)
        if len(trail) > _HARD_DEPTH:
            raise SchemaInstanceError(f"at {self.path}: $ref {ref!r} expands without end")
        return replace(
            self, trail=trail, minimal=self.minimal or trail.count(ref) > _SOFT_RECURSION
        )


class _Builder:
    def __init__(self, root: Mapping[str, Any] | bool, rng: random.Random, faker: Faker) -> None:
        self.root = root
        self.rng = rng
        self.faker = faker

    def build(self, schema: Any, at: _At) -> Any:
        flat, at = self.flatten(schema, at)
        if "const" in flat:
            return copy.deepcopy(flat["const"])
        if "enum" in flat:
            types = declared_types(flat)
            options = [e for e in flat["enum"] if not types or any(is_type(e, t) for t in types)]
            if not options:
                raise SchemaInstanceError(f"at {at.path}: `enum` has no value of its `type`")
            return copy.deepcopy(self.rng.choice(options))
        for word in ("oneOf", "anyOf"):
            if word in flat:
                return self.choose(flat, word, at)
        kind = self.pick_type(flat, at)
        if kind in ("integer", "number"):
            return self.number(flat, at, integer=kind == "integer")
        if kind in ("boolean", "null"):
            return self.rng.random() < 0.5 if kind == "boolean" else None
        make = {"object": self.object, "array": self.array, "string": self.string}.get(kind)
        if make is not None or kind == "any":
            return (make or self.string)(flat, at)
        raise SchemaInstanceError(
            f"at {at.path}: unknown type {kind!r}; expected one of object, array, string, "
            "integer, number, boolean, null"
        )

    def flatten(self, schema: Any, at: _At) -> tuple[dict[str, Any], _At]:
        """The schema with its `$ref` resolved and its `allOf` merged in."""
        flat = _as_dict(schema, at.path)
        while "$ref" in flat or "allOf" in flat:
            if "$ref" in flat:
                ref = flat.pop("$ref")
                at = at.via(ref)
                flat = merge_schemas(_as_dict(self.resolve(ref, at.path), at.path), flat)
            else:
                for part in flat.pop("allOf"):
                    flat = merge_schemas(flat, _as_dict(part, at.path))
        return flat, at

    def flatten_or_none(self, schema: Any, at: _At) -> tuple[dict[str, Any], _At] | None:
        try:
            return self.flatten(schema, at)
        except SchemaInstanceError:
            return None

    def resolve(self, ref: Any, path: str) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaInstanceError(
                f"at {path}: only local $ref like '#/$defs/Name' is supported, got {ref!r}"
            )
        node: Any = self.root
        for raw in ref[1:].split("/")[1:]:
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise SchemaInstanceError(f"at {path}: $ref {ref!r} points nowhere ({token!r})")
        return node

    def choose(self, flat: dict[str, Any], word: str, at: _At) -> Any:
        branches = [b for b in flat[word] if b is not False]
        if not branches:
            raise SchemaInstanceError(f"at {at.path}: `{word}` has no satisfiable branch")
        base = {k: v for k, v in flat.items() if k != word}
        weights = [_weight(b) for b in branches]
        if at.minimal:
            order = sorted(range(len(branches)), key=weights.__getitem__)
        else:
            full = [i for i, w in enumerate(weights) if w > 0] or list(range(len(branches)))
            empty = [i for i, w in enumerate(weights) if w == 0]
            pool = empty if empty and self.rng.random() < _NULL_CHANCE else full
            first = self.rng.choice(pool)
            order = [first, *(i for i in range(len(branches)) if i != first)]
        candidates: list[Any] = []  # values that matched several oneOf branches
        error: SchemaInstanceError | None = None
        for attempt in range(max(_ATTEMPTS, len(order))):
            index = order[attempt % len(order)]
            try:
                value = self.build(merge_schemas(base, _as_dict(branches[index], at.path)), at)
            except SchemaInstanceError as exc:  # an impossible branch: try the others
                error = error or exc
                continue
            if (
                word == "anyOf"
                or sum(conforms(b, value, at, self.flatten_or_none) for b in branches) == 1
            ):
                return value
            candidates.append(value)
        if candidates or error is None:
            return candidates[0] if candidates else None
        raise error

    def pick_type(self, flat: dict[str, Any], at: _At) -> str:
        types = declared_types(flat) or [_inferred_type(flat)]
        concrete = [t for t in types if t != "null"]
        if "null" in types and (at.minimal or not concrete or self.rng.random() < _NULL_CHANCE):
            return "null"
        if not concrete:
            raise SchemaInstanceError(f"at {at.path}: `type` allows nothing")
        return concrete[0] if len(concrete) == 1 else self.rng.choice(concrete)

    def object(self, flat: dict[str, Any], at: _At) -> dict[str, Any]:
        properties: Mapping[str, Any] = flat.get("properties") or {}
        required = list(flat.get("required") or [])
        extra = flat.get("additionalProperties", True)
        out: dict[str, Any] = {}
        for name, sub in properties.items():
            if name in required or (not at.minimal and self.rng.random() < _OPTIONAL_CHANCE):
                out[name] = self.build(sub, at.child(f"properties/{name}", name))
        for name in required:
            if name not in out:
                out[name] = self.extra(extra, name, at)
        wanted = int(flat.get("minProperties", 0))
        if not properties and isinstance(extra, Mapping) and extra and not at.minimal:
            wanted = max(wanted, 1)  # a typed map (dict[str, int]) shows one entry
        spare = [n for n in properties if n not in out]
        while len(out) < wanted:
            if spare:
                name = spare.pop(0)
                out[name] = self.build(properties[name], at.child(f"properties/{name}", name))
            else:
                name = f"{self.faker.word()}_{len(out)}"
                out[name] = self.extra(extra, name, at)
        most = flat.get("maxProperties")
        for name in [n for n in reversed(out) if n not in required]:
            if most is None or len(out) <= most:
                break
            del out[name]
        return out

    def extra(self, extra: Any, name: str, at: _At) -> Any:
        """A value for a property that `properties` does not list."""
        if extra is False:
            raise SchemaInstanceError(
                f"at {at.path}: property {name!r} is needed but not in `properties`, "
                "and additionalProperties is false"
            )
        return self.build(extra, at.child("additionalProperties", name))

    def array(self, flat: dict[str, Any], at: _At) -> list[Any]:
        prefix, items = item_schemas(flat)
        low = int(flat.get("minItems", 0))
        high = flat.get("maxItems")
        if items is False:
            high = len(prefix) if high is None else min(high, len(prefix))
        if high is not None and low > high:
            raise SchemaInstanceError(f"at {at.path}: needs {low} items but allows {high}")
        count = low if at.minimal else max(self.rng.randint(1, 3), len(prefix), low)
        count = count if high is None else min(count, high)
        out: list[Any] = []
        seen: set[Any] = set()
        for index in range(count):
            if index < len(prefix):
                sub, where = prefix[index], at.child(f"prefixItems/{index}", at.name)
            else:
                sub, where = items, at.child("items", at.name)
            unique = bool(flat.get("uniqueItems"))
            for _ in range(_UNIQUE_ATTEMPTS if unique else 1):
                value = self.build(sub, where)
                if not unique or canonical(value) not in seen:
                    break
            else:
                if len(out) >= low:
                    break
                raise SchemaInstanceError(f"at {at.path}: found only {len(out)} distinct items")
            seen.add(canonical(value))
            out.append(value)
        return out

    def string(self, flat: dict[str, Any], at: _At) -> str:
        low = int(flat.get("minLength", 0))
        high = flat.get("maxLength")
        if high is not None and low > high:
            raise SchemaInstanceError(f"at {at.path}: minLength {low} > maxLength {high}")
        pattern = flat.get("pattern")
        if isinstance(pattern, str):
            candidate = ""
            for _ in range(_ATTEMPTS):
                candidate = sample_regex(pattern, self.rng) or self.faker.word()
                if pattern_matches(pattern, candidate) and length_within(candidate, low, high):
                    break
            return candidate
        formatted = fake_for_format(str(flat.get("format")), self.faker)
        if formatted is not None and length_within(formatted, low, high):
            return formatted
        hinted = fake_for_name(at.name, self.faker) if at.name else None
        return self.fit(hinted or self.faker.word(), low, high)

    def fit(self, text: str, low: int, high: int | None) -> str:
        if len(text) < low:
            text = " ".join([text, *self.faker.words(nb=(low - len(text)) // 4 + 1)])
            text = text if len(text) >= low else text + "x" * (low - len(text))
        if high is not None and len(text) > high:
            cut = text[:high]
            text = cut.rstrip(" ,.") if len(cut.rstrip(" ,.")) >= low else cut
        return text

    def number(self, flat: dict[str, Any], at: _At, integer: bool) -> int | float:
        low, low_open = tighter_bound(flat, "minimum", "exclusiveMinimum", upper=False)
        high, high_open = tighter_bound(flat, "maximum", "exclusiveMaximum", upper=True)
        if low is None:
            low = 0 if high is None or high > 0 else high - 100
        if high is None:
            high = max(low, 0) + 100
        step = flat.get("multipleOf")
        if step is not None and not (isinstance(step, int | float) and step > 0):
            raise SchemaInstanceError(f"at {at.path}: multipleOf must be > 0, got {step!r}")
        if step is None:  # fast path; Fractions below cost ~10 us each
            if integer:
                first = math.floor(low) + 1 if low_open else math.ceil(low)
                last = math.ceil(high) - 1 if high_open else math.floor(high)
                if first <= last:
                    return self.rng.randint(first, last)
            else:
                drawn = round(self.rng.uniform(low, high), 2)
                if within_bounds(drawn, low, low_open, high, high_open):
                    return drawn
        # Values are whole multiples of a grain: of multipleOf if given (for integers, its
        # smallest integer multiple), else 1 for integers and 0.01 for numbers, finer if needed.
        grain = Fraction(str(step)) if step is not None else Fraction(1, 1 if integer else 100)
        grain = Fraction(grain.numerator) if integer else grain
        first, last = _multiples(grain, low, low_open, high, high_open)
        while first > last and step is None and not integer and grain > Fraction(1, 10**12):
            grain /= 1000
            first, last = _multiples(grain, low, low_open, high, high_open)
        if first > last:
            raise SchemaInstanceError(
                f"at {at.path}: no {'integer' if integer else 'number'} between {low} and "
                f"{high}" + (f" that is a multiple of {step}" if step is not None else "")
            )
        value: int | float = 0
        for _ in range(_ATTEMPTS):
            exact = self.rng.randint(first, last) * grain
            value = int(exact) if exact.denominator == 1 else float(exact)
            if step is None or is_multiple(value, step):
                break
        return value


def _as_dict(schema: Any, path: str) -> dict[str, Any]:
    if schema is True:
        return {}
    if schema is False:
        raise SchemaInstanceError(f"at {path}: the schema `false` admits no value")
    if not isinstance(schema, Mapping):
        raise SchemaInstanceError(
            f"at {path}: expected a schema object or boolean, got {type(schema).__name__}"
        )
    return dict(schema)


def _inferred_type(flat: Mapping[str, Any]) -> str:
    for kind, words in _TYPE_HINTS:
        if any(word in flat for word in words):
            return kind
    return "any"


_TYPE_HINTS = (
    ("object", ("properties", "required", "additionalProperties", "minProperties")),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "uniqueItems")),
    ("string", ("minLength", "maxLength", "pattern", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)


def _weight(branch: Any) -> int:
    """0 for a null branch, 1 for one without $ref, 2 for one that may recurse."""
    if isinstance(branch, Mapping) and (
        branch.get("type") == "null" or branch.get("const", 0) is None
    ):
        return 0
    return 2 if "$ref" in repr(branch) else 1


def _multiples(
    grain: Fraction, low: Any, low_open: bool, high: Any, high_open: bool
) -> tuple[int, int]:
    """The first and last k with k * grain inside the bounds."""
    low_exact, high_exact = Fraction(str(low)), Fraction(str(high))
    first = math.ceil(low_exact / grain)
    first += 1 if low_open and first * grain == low_exact else 0
    last = math.floor(high_exact / grain)
    last -= 1 if high_open and last * grain == high_exact else 0
    return first, last
