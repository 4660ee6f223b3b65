"""What Go's `encoding/json` says when it can't read a body into new-api's structs: the
gateway quotes these errors in its own (`Invalid request: …`). Its scanner's syntax errors
(`invalid character 'x' looking for beginning of value`, `unexpected end of JSON input`) and
`UnmarshalTypeError` for a one-string-field struct, worded as Go words them
(`encoding/json/scanner.go`, `decode.go`). The scan runs only on a body orjson refuses.
"""

from __future__ import annotations

import json
import unicodedata

import orjson

SPACE = b" \t\r\n"
DIGITS = b"0123456789"
HEX = b"0123456789abcdefABCDEF"
ESCAPES = b'bfnrt\\/"'
LITERALS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}
END_OF_INPUT = "unexpected end of JSON input"


def quote_char(c: int) -> str:
    """Go's `quoteChar`: the byte as a Go character literal (read as a rune)."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    named = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
    if c in named:
        return f"'{named[c]}'"
    if c == ord("\\"):
        return "'\\\\'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    char = chr(c)
    if c < 0x80 or (char.isprintable() and unicodedata.category(char) != "Zs"):
        return f"'{char}'"
    return f"'\\u{c:04x}'"


def syntax_error(raw: bytes) -> str | None:
    """Go's `checkValid`: the first syntax error of `raw`, or None for valid JSON."""
    stack: list[str] = []  # "key" / "value" for objects, "array"
    i, n = 0, len(raw)

    def at(j: int) -> int:
        """The byte at `j`; past the end, the space Go's `eof` steps the scanner with (which
        ends a number, and is an invalid character inside a literal or an escape)."""
        return raw[j] if j < n else 0x20

    def error(c: int, context: str) -> str:
        return f"invalid character {quote_char(c)} {context}"

    while True:  # a value begins at i
        while i < n and raw[i] in SPACE:
            i += 1
        if i >= n:
            return END_OF_INPUT
        c = raw[i]
        if c == ord("{"):
            i += 1
            while i < n and raw[i] in SPACE:
                i += 1
            if i < n and raw[i] == ord("}"):
                i += 1
            else:
                if i >= n:
                    return END_OF_INPUT
                if raw[i] != ord('"'):
                    return error(raw[i], "looking for beginning of object key string")
                stack.append("key")
                continue
        elif c == ord("["):
            i += 1
            while i < n and raw[i] in SPACE:
                i += 1
            if i < n and raw[i] == ord("]"):
                i += 1
            else:
                stack.append("array")
                continue
        elif c == ord('"'):
            i += 1
            while True:
                if i >= n:
                    return END_OF_INPUT
                c = raw[i]
                if c == ord('"'):
                    i += 1
                    break
                if c == ord("\\"):
                    i += 1
                    if at(i) == ord("u"):
                        for _ in range(4):
                            i += 1
                            if at(i) not in HEX:
                                return error(at(i), "in \\u hexadecimal character escape")
                    elif at(i) not in ESCAPES:
                        return error(at(i), "in string escape code")
                elif c < 0x20:
                    return error(c, "in string literal")
                i += 1
        elif c == ord("-") or c in DIGITS:
            i, problem = _number(raw, i)
            if problem is not None:
                return problem
        elif c in LITERALS:
            word = LITERALS[c]
            for expected in word[1:]:
                i += 1
                if at(i) != expected:
                    context = f"in literal {word.decode()} (expecting {quote_char(expected)})"
                    return error(at(i), context)
            i += 1
        else:
            return error(c, "looking for beginning of value")
        # a value ended: what may follow it
        while True:
            while i < n and raw[i] in SPACE:
                i += 1
            if not stack:
                return None if i >= n else error(raw[i], "after top-level value")
            if i >= n:
                return END_OF_INPUT
            c, top = raw[i], stack[-1]
            i += 1
            if top == "key":
                if c != ord(":"):
                    return error(c, "after object key")
                stack[-1] = "value"
                break
            if top == "value":
                if c == ord(","):
                    while i < n and raw[i] in SPACE:
                        i += 1
                    if i >= n:
                        return END_OF_INPUT
                    if raw[i] != ord('"'):
                        return error(raw[i], "looking for beginning of object key string")
                    stack[-1] = "key"
                    break
                if c != ord("}"):
                    return error(c, "after object key:value pair")
                stack.pop()
                continue
            if c == ord(","):
                break
            if c != ord("]"):
                return error(c, "after array element")
            stack.pop()


def _number(raw: bytes, i: int) -> tuple[int, str | None]:
    """Past a number starting at `i`; Go's error inside it, if any (at the end of the input
    Go steps its scanner with a space: `1.` says `invalid character ' ' after decimal point`)."""
    n = len(raw)

    def at(j: int) -> int:
        return raw[j] if j < n else 0x20

    def error(c: int, context: str) -> tuple[int, str]:
        return i, f"invalid character {quote_char(c)} {context}"

    if raw[i] == ord("-"):
        i += 1
        if at(i) not in DIGITS:
            return error(at(i), "in numeric literal")
    if raw[i] == ord("0"):
        i += 1
    else:
        while at(i) in DIGITS:
            i += 1
    if at(i) == ord("."):
        i += 1
        if at(i) not in DIGITS:
            return error(at(i), "after decimal point in numeric literal")
        while at(i) in DIGITS:
            i += 1
    if at(i) in (ord("e"), ord("E")):
        i += 1
        if at(i) in (ord("+"), ord("-")):
            i += 1
        if at(i) not in DIGITS:
            return error(at(i), "in exponent of numeric literal")
        while at(i) in DIGITS:
            i += 1
    return i, None


def read_string_field(raw: bytes, field: str, struct: str, package: str) -> tuple[str, str | None]:
    """`raw` read as Go reads it into `struct {Field string "json:field"}` (declared in
    `package`): the field's value ("" when absent or null), or Go's error — a syntax error
    first, then a value of the wrong kind. Keys match case-insensitively, the last one wins."""
    try:
        body = orjson.loads(raw)  # valid JSON (the usual case): no byte-by-byte scan
    except orjson.JSONDecodeError:
        problem = syntax_error(raw)
        if problem is not None:
            return "", problem
        # Valid for Go but not orjson: invalid UTF-8 (Go reads U+FFFD), huge numbers.
        body = json.loads(raw.decode("utf-8", "replace"))
    if body is None:
        return "", None
    if not isinstance(body, dict):
        kind = _kind_of_value(body)
        return "", f"json: cannot unmarshal {kind} into Go value of type {package}.{struct}"
    found, wrong = "", None
    for key, value in body.items():  # each matching key decoded in turn: the first error kept
        if key.lower() != field or value is None:
            continue
        if isinstance(value, str):
            found = value
        else:
            wrong = wrong or _kind_of_value(value)
    if wrong is not None:
        message = f"json: cannot unmarshal {wrong} into Go struct field {struct}.{field}"
        return "", f"{message} of type string"
    return found, None


def _kind_of_value(value: object) -> str:
    """The kind Go names a JSON value by in `UnmarshalTypeError`."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "number"
