from __future__ import annotations

from typing import Any

from mockserver.engine.content.schema_check import canonical, conforms, merge_schemas


def flat_only(schema: Any, at: int) -> tuple[dict[str, Any], int] | None:
    """A `flatten` for schemas without $ref or allOf: `false` admits nothing."""
    if schema is False:
        return None
    return ({} if schema is True else dict(schema)), at


def check(schema: Any, value: Any) -> bool:
    return conforms(schema, value, 0, flat_only)


def test_conforms_checks_the_generated_keywords() -> None:
    assert check({"type": "integer", "minimum": 3}, 3)
    assert not check({"type": "integer", "minimum": 3}, 2)
    assert not check({"type": "integer", "exclusiveMinimum": 3}, 3)
    assert check({"type": "number", "multipleOf": 0.5}, 1.5)
    assert not check({"type": "string", "pattern": "^a+$", "maxLength": 2}, "aaa")
    assert not check({"type": "object", "required": ["id"]}, {})
    assert not check({"properties": {"id": {"type": "string"}}}, {"id": 1})
    assert not check({"type": "array", "uniqueItems": True}, [1, 1.0])
    assert not check({"items": False}, [1])
    assert check({"type": "boolean"}, True)
    assert not check({"type": "integer"}, True)


def test_one_of_needs_exactly_one_branch() -> None:
    branches = [{"type": "integer"}, {"type": "number"}]
    assert not check({"oneOf": branches}, 1)
    assert check({"oneOf": branches}, 1.5)
    assert check({"anyOf": branches}, 1)
    assert not check(False, None)


def test_canonical_follows_json_equality() -> None:
    assert canonical(1) == canonical(1.0)
    assert canonical(True) != canonical(1)
    assert canonical({"b": [1], "a": None}) == canonical({"a": None, "b": [1.0]})


def test_merge_schemas_tightens_and_combines() -> None:
    merged = merge_schemas(
        {"type": ["integer", "null"], "minimum": 1, "maximum": 10, "required": ["a"]},
        {"type": "number", "minimum": 3, "maximum": 20, "required": ["b", "a"]},
    )
    assert merged == {"type": ["integer"], "minimum": 3, "maximum": 10, "required": ["a", "b"]}
    assert merge_schemas({"enum": [1, 2, 3]}, {"enum": [3.0, 2]}) == {"enum": [2, 3]}
    assert merge_schemas({"items": {"type": "string"}}, {"items": False}) == {"items": False}
