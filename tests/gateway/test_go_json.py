"""Go's `encoding/json` errors as the gateway quotes them (`mockserver.gateway.go_json`):
the messages are Go's own, as `json.Unmarshal(body, &middleware.ModelRequest{})` words them."""

from __future__ import annotations

import pytest

from mockserver.gateway.go_json import read_string_field


def read(raw: bytes) -> tuple[str, str | None]:
    return read_string_field(raw, "model", "ModelRequest", "middleware")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "unexpected end of JSON input"),
        (b"  \n", "unexpected end of JSON input"),
        (b'{"model": "x"', "unexpected end of JSON input"),
        (b'{"model": "x', "unexpected end of JSON input"),
        (b"hello", "invalid character 'h' looking for beginning of value"),
        (b"nope", "invalid character 'o' in literal null (expecting 'u')"),
        # At the end Go steps its scanner with a space: inside a literal, it is the culprit.
        (b"tru", "invalid character ' ' in literal true (expecting 'e')"),
        (b'{"model": 1.', "invalid character ' ' after decimal point in numeric literal"),
        (b'{"model": -', "invalid character ' ' in numeric literal"),
        (b'{"model": "\\', "invalid character ' ' in string escape code"),
        (b'{"model": 12', "unexpected end of JSON input"),
        (b"fals!", "invalid character '!' in literal false (expecting 'e')"),
        (b'{"model": "x",}', "invalid character '}' looking for beginning of object key string"),
        (b"{model: 1}", "invalid character 'm' looking for beginning of object key string"),
        (b'{"model" "x"}', "invalid character '\"' after object key"),
        (b'{"model": "x" "y"}', "invalid character '\"' after object key:value pair"),
        (b'{"a": [1 2]}', "invalid character '2' after array element"),
        (b'{"a": 1}x', "invalid character 'x' after top-level value"),
        (b'{"model": 01}', "invalid character '1' after object key:value pair"),
        (b'{"model": -x}', "invalid character 'x' in numeric literal"),
        (b'{"model": 1.}', "invalid character '}' after decimal point in numeric literal"),
        (b'{"model": 1e}', "invalid character '}' in exponent of numeric literal"),
        (b'{"a": "\\q"}', "invalid character 'q' in string escape code"),
        (b'{"a": "\\u12g4"}', "invalid character 'g' in \\u hexadecimal character escape"),
        (b'{"a": "\n"}', "invalid character '\\n' in string literal"),
        (b"{'model': 1}", "invalid character '\\'' looking for beginning of object key string"),
        (
            b'{"model": 5}',
            "json: cannot unmarshal number into Go struct field ModelRequest.model of type string",
        ),
        (
            b'{"model": ["a"]}',
            "json: cannot unmarshal array into Go struct field ModelRequest.model of type string",
        ),
        (
            b'{"model": true}',
            "json: cannot unmarshal bool into Go struct field ModelRequest.model of type string",
        ),
        (b"[]", "json: cannot unmarshal array into Go value of type middleware.ModelRequest"),
        (b'"gpt"', "json: cannot unmarshal string into Go value of type middleware.ModelRequest"),
        (b"42", "json: cannot unmarshal number into Go value of type middleware.ModelRequest"),
    ],
)
def test_go_words_the_error(raw: bytes, message: str) -> None:
    assert read(raw) == ("", message)


@pytest.mark.parametrize(
    ("raw", "model"),
    [
        (b'{"model": "gpt-4o", "messages": "nope"}', "gpt-4o"),
        (b'{"Model": "gpt-4o"}', "gpt-4o"),  # Go matches field names case-insensitively
        (b'{"model": "a", "MODEL": "b"}', "b"),  # the last one read wins
        (b'{"model": null}', ""),
        (b"null", ""),
        (b"{}", ""),
        (b'{"model": "caf\xc3\xa9", "x": 1e400}', "café"),
    ],
)
def test_the_model_is_read(raw: bytes, model: str) -> None:
    assert read(raw) == (model, None)
