"""How large a value a template operation would make, told before it makes it.

`weight` is what printing a value could take: the characters of its strings plus its items,
every reference counted (a list of one 1 MB string 1,000 times weighs 1 GB). The `*_size`
functions estimate, from an operation's operands alone, the most it could make, for the
operations that can make more than they are given (`*`, `%`, `.center()`, `|replace`,
`|join`...): `mockserver.engine.content.sandbox` refuses them past `TEMPLATE_OUTPUT_CHARS`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sized
from typing import Any

from mockserver.core.limits import TEMPLATE_OUTPUT_CHARS

MAX_INT_BITS = 16_384  # ints past this are refused by `*` and `**` (Python prints 4,300 digits)


class TemplateLimitError(Exception):
    """A render went over one of its bounds."""


def weight(value: Any, limit: int = TEMPLATE_OUTPUT_CHARS) -> int:
    """Characters of the strings in `value` plus its items, each reference counted (a list of
    the same string 1,000 times weighs 1,000 strings): what printing it could take. Stops
    counting past `limit`."""
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, dict):
            total += len(item)
            if total <= limit:
                pending.extend(item.keys())
                pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item)
            if total <= limit:
                pending.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1  # about its decimal digits
        else:
            total += 1
        if total > limit:
            break
    return total


def refuse_over(size: int, what: str) -> None:
    if size > TEMPLATE_OUTPUT_CHARS:
        raise TemplateLimitError(
            f"{what} would make a value of more than {TEMPLATE_OUTPUT_CHARS:,} characters"
        )


def checked(value: Any, what: str) -> Any:
    refuse_over(weight(value), what)
    return value


def _integer(value: Any) -> int:
    return abs(value) if isinstance(value, int) else 0


def _largest(values: Any) -> tuple[int, int]:
    """The heaviest of `values` and the largest integer among them (a `*` width)."""
    items = list(values)
    heaviest = max((weight(v) for v in items), default=0)
    return heaviest, max((_integer(v) for v in items), default=0)


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def _printf_size(template: str, arguments: Any) -> int:
    """At most what `template % arguments` makes: each conversion the heaviest argument
    (printed as repr: up to 4 characters each) padded to the largest width."""
    if isinstance(arguments, dict):
        values = list(arguments.values())
    else:
        values = list(arguments) if isinstance(arguments, tuple) else [arguments]
    heaviest, widest = _largest(values)
    size = len(template)
    for found in _PRINTF.finditer(template):
        width = max((widest if n == "*" else int(n) for n in found.groups() if n), default=0)
        size += 4 * heaviest + width
    return size


def _format_size(template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """At most what `template.format(*args, **kwargs)` makes (see `_printf_size`)."""
    heaviest, widest = _largest([*args, *kwargs.values()])
    size = len(template)
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is None:
            continue
        numbers = [int(n) for n in re.findall(r"\d+", spec or "")]
        width = max([*numbers, widest if "{" in (spec or "") else 0])
        size += 4 * heaviest + width
    return size


# --- Operators ---------------------------------------------------------------------------------


def binop_size(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | bytes | list | tuple) and isinstance(times, int):
                refuse_over(weight(seq) * max(times, 0), "`*`")
        integers = isinstance(left, int) and isinstance(right, int)
        if integers and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimitError(f"`*` would make an integer of over {MAX_INT_BITS} bits")
    elif operator == "**":
        integers = isinstance(left, int) and isinstance(right, int) and right > 0
        if integers and abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
            raise TemplateLimitError(f"`**` would make an integer of over {MAX_INT_BITS} bits")
    elif operator == "+":
        if isinstance(left, str | bytes | list | tuple) and type(left) is type(right):
            refuse_over(weight(left) + weight(right), "`+`")
    elif operator == "%" and isinstance(left, str):
        refuse_over(_printf_size(left, right), "`%`")


# --- Calls: str and bytes methods ------------------------------------------------------------


def method_size(name: str, text: str | bytes, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """At most what `text.<name>(*args)` makes, for the methods that can make more than `text`."""
    values = [*args, *kwargs.values()]
    if name in ("center", "ljust", "rjust", "zfill"):
        return max(len(text), _integer(values[0]) if values else 0)
    if name == "expandtabs":
        tabs = text.count("\t" if isinstance(text, str) else b"\t")  # type: ignore[arg-type]
        return len(text) + tabs * (_integer(values[0]) if values else 8)
    if name == "replace" and len(values) >= 2:
        old, new = values[0], values[1]
        if isinstance(old, type(text)) and isinstance(new, type(text)):
            return len(text) + (text.count(old) + 1) * len(new)  # type: ignore[arg-type]
    if name == "join" and values:
        items = values[0]
        if isinstance(items, Sized):
            return weight(items) + len(items) * len(text)
        raise TemplateLimitError("join() takes a list here (convert with |list first)")
    if name == "translate" and values and isinstance(values[0], dict):
        longest = max((weight(v) for v in values[0].values()), default=1)
        return len(text) * max(longest, 1)
    if name in ("format", "format_map") and isinstance(text, str):
        if name == "format_map":
            mapping = values[0] if values and isinstance(values[0], dict) else {}
            return _format_size(text, (), mapping)
        return _format_size(text, args, kwargs)
    return 0


AMPLIFYING_METHODS = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "translate"}
    | {"format", "format_map"}
)


# --- Filters -----------------------------------------------------------------------------------


def filter_size(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """At most what the built-in filter `name` makes of `value`, for the filters that can make
    more than they are given."""
    arg = [*args, *kwargs.values()]
    text = value if isinstance(value, str) else ""
    if name == "center":
        return max(len(text), _integer(arg[0]) if arg else 80)
    if name == "indent":
        pad = arg[0] if arg else 4
        pad_size = len(pad) if isinstance(pad, str) else _integer(pad)
        return len(text) + (text.count("\n") + 1) * pad_size
    if name == "replace" and len(arg) >= 2:
        return len(text) + (text.count(str(arg[0])) + 1) * weight(arg[1])
    if name == "join":
        separator = weight(arg[0]) if arg else 0
        return weight(value) + (len(value) if isinstance(value, Sized) else 0) * separator
    if name == "format":  # `value % (kwargs or args)`
        return _printf_size(text, kwargs or args)
    if name == "wordwrap":
        width = max(_integer(kwargs.get("width", args[0] if args else 79)), 1)
        wrap = kwargs.get("wrapstring", args[2] if len(args) > 2 else "\n") or "\n"
        return len(text) + (len(text) // width + text.count("\n") + 1) * weight(wrap)
    if name in ("batch", "slice"):
        return _integer(arg[0]) if arg else 0
    if name == "truncate":
        return min(len(text), _integer(arg[0]) if arg else 255) + weight(kwargs.get("end", "..."))
    if name == "tojson":
        indent = _integer(kwargs.get("indent", args[0] if args else 0))
        return 6 * weight(value) * (1 + min(indent, 64))
    if name == "sum":
        start = kwargs.get("start", args[1] if len(args) > 1 else 0)
        if not isinstance(start, int | float):  # summing lists or strings is quadratic
            raise TemplateLimitError("|sum adds numbers only here")
    return 0
