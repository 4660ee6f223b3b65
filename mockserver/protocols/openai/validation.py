"""OpenAI-style request validation: the checks and the exact messages the live API answers with.

Shared by the OpenAI-family dialects (chat, completions, embeddings, responses), whose error
wording is the same. Each check raises `APIError` (400, `invalid_request_error`) naming the
parameter as the API does, e.g. `Invalid type for 'n': expected an integer, but got a string
instead.`
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.errors import APIError

INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
    "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
    "help center at help.openai.com.)"
)

_TYPE_WORDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "string": (str, "a string"),
    "integer": (int, "an integer"),
    "number": ((int, float), "a decimal"),
    "boolean": (bool, "a boolean"),
    "array": (list, "an array"),
    "object": (dict, "an object"),
}


def names(words: str) -> frozenset[str]:
    """A set of field names written as one space-separated string."""
    return frozenset(words.split())


def describe(value: Any) -> str:
    """The API's word for a JSON value's type: 'a string', 'an array', 'null'..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def bad(message: str, param: str | None, code: str | None) -> APIError:
    return APIError(400, message, type="invalid_request_error", param=param, code=code)


def missing(param: str) -> APIError:
    return bad(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def required_str(part: Mapping[str, Any], key: str, where: str) -> str:
    """`part[key]` when it is a string, else the missing-parameter 400 at `where.key`."""
    value = part.get(key)
    if not isinstance(value, str):
        raise missing(f"{where}.{key}")
    return value


def data_mime(url: str) -> str | None:
    """`data:image/png;base64,...` -> `image/png`."""
    if url.startswith("data:") and ";" in url:
        return url[5 : url.index(";")]
    return None


def expect_object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        return_type = describe(body)
        raise bad(
            f"Invalid type for request body: expected an object, but got {return_type} instead.",
            None,
            "invalid_type",
        )
    return body


def typed(
    body: Mapping[str, Any], key: str, kind: str, *, param: str | None = None, nullable: bool = True
) -> Any:
    """`body[key]` when it has JSON type `kind` (or is absent/null), else the API's type error."""
    value = body.get(key)
    if value is None:
        if key in body and not nullable:
            raise bad(
                f"Invalid type for '{param or key}': expected {_TYPE_WORDS[kind][1]}, "
                "but got null instead.",
                param or key,
                "invalid_type",
            )
        return None
    python_type, word = _TYPE_WORDS[kind]
    wrong_bool = isinstance(value, bool) and kind in ("integer", "number")
    if not isinstance(value, python_type) or wrong_bool:
        name = param or key
        raise bad(
            f"Invalid type for '{name}': expected {word}, but got {describe(value)} instead.",
            name,
            "invalid_type",
        )
    return value


def in_range(
    value: float | None,
    param: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> None:
    """Range check worded like the API: `Invalid 'n': integer below minimum value. ...`."""
    if value is None:
        return
    kind = "integer" if integer else "decimal"
    shown = _number(value)
    if minimum is not None and value < minimum:
        raise bad(
            f"Invalid '{param}': {kind} below minimum value. Expected a value >= "
            f"{_number(minimum)}, but got {shown} instead.",
            param,
            f"{kind}_below_min_value",
        )
    if maximum is not None and value > maximum:
        raise bad(
            f"Invalid '{param}': {kind} above maximum value. Expected a value <= "
            f"{_number(maximum)}, but got {shown} instead.",
            param,
            f"{kind}_above_max_value",
        )


def one_of(value: Any, allowed: tuple[str, ...], param: str) -> None:
    if value is None or value in allowed:
        return
    quoted = [f"'{a}'" for a in allowed]
    listing = ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]
    raise bad(f"Invalid value: '{value}'. Supported values are: {listing}.", param, "invalid_value")


def string_list(value: Any, param: str, *, limit: int | None = None) -> list[str]:
    """A string or an array of strings (as `stop` takes), as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        if limit is not None and len(value) > limit:
            raise bad(
                f"Invalid '{param}': array too long. Expected an array with maximum length "
                f"{limit}, but got an array with length {len(value)} instead.",
                param,
                "array_above_max_length",
            )
        return list(value)
    raise bad(
        f"Invalid type for '{param}': expected one of a string or array of strings, but got "
        f"{describe(value)} instead.",
        param,
        "invalid_type",
    )


def bearer_key(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    return None


def require_bearer(headers: Mapping[str, str]) -> str:
    key = bearer_key(headers)
    if key is None:
        raise APIError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
            "field (with blank username) if you're accessing the API from your browser and are "
            "prompted for a username and password. You can obtain an API key from "
            "https://platform.openai.com/account/api-keys.",
            type="invalid_request_error",
        )
    return key


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def one_of_error(value: Any, allowed: tuple[str, ...], param: str) -> APIError:
    """The error `one_of` raises for `value` (to hand to `leniency.unknown`)."""
    try:
        one_of(value, allowed, param)
    except APIError as error:
        return error
    raise AssertionError(f"{value!r} is one of {allowed}")  # pragma: no cover
