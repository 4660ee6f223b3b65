"""The Messages API validator's wording: a location, then the problem, as pydantic words it:

    messages.0.content: Field required
    thinking.enabled.budget_tokens: Input should be greater than or equal to 1024

A field beyond those known is noted, or refused under `validation: strict` (`no_extra`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.errors import APIError
from mockserver.protocols import leniency


def names(words: str) -> frozenset[str]:
    return frozenset(words.split())


def bad(message: str) -> APIError:
    return APIError(400, message, type="invalid_request_error")


def at(loc: str, key: str | int) -> str:
    return f"{loc}.{key}" if loc else str(key)


def required(obj: Mapping[str, Any], key: str, loc: str = "") -> Any:
    if obj.get(key) is None:
        raise bad(f"{at(loc, key)}: Field required")
    return obj[key]


def need(obj: Mapping[str, Any], key: str, kind: str, loc: str) -> Any:
    """A required field of JSON type `kind`: `{loc}.{key}: Field required` when absent."""
    return typed(required(obj, key, loc), kind, at(loc, key))


KINDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "string": (str, "a valid string"),
    "integer": (int, "a valid integer"),
    "number": ((int, float), "a valid number"),
    "boolean": (bool, "a valid boolean"),
    "list": (list, "a valid list"),
    "dictionary": (dict, "a valid dictionary"),
}


def typed(value: Any, kind: str, loc: str) -> Any:
    """`value` when it has the JSON type `kind` (None passes: optional fields may be null)."""
    if value is None or kind == "any":
        return value
    python_type, words = KINDS[kind]
    if not isinstance(value, python_type) or (
        isinstance(value, bool) and kind in ("integer", "number")
    ):
        raise bad(f"{loc}: Input should be {words}")
    return value


def at_least(value: float | None, minimum: float, loc: str) -> None:
    if value is not None and value < minimum:
        raise bad(f"{loc}: Input should be greater than or equal to {minimum}")


def at_most(value: float | None, maximum: float, loc: str) -> None:
    if value is not None and value > maximum:
        raise bad(f"{loc}: Input should be less than or equal to {maximum}")


def no_extra(obj: Mapping[str, Any], allowed: frozenset[str] | set[str], loc: str) -> None:
    """Fields beyond `allowed`: noted, or refused under `validation: strict`."""
    for key in obj:
        if key not in allowed:
            where = at(loc, key)
            leniency.unknown(
                f"unknown field '{where}'", bad(f"{where}: Extra inputs are not permitted")
            )


def tag_error(loc: str, tag: Any, tags: str) -> APIError:
    if tag is None:
        return bad(f"{loc}: Unable to extract tag using discriminator 'type'")
    return bad(
        f"{loc}: Input tag '{tag}' found using 'type' does not match any of the expected "
        f"tags: {tags}"
    )
