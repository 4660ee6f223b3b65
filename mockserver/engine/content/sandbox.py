"""jinja2's immutable sandbox, with a budget: no template can run long or grow large.

The sandbox already refuses unsafe attributes and mutating calls; what it doesn't bound is
work. `{{ 'x' * 10**10 }}` asks for 10 GB, two nested loops over `range(100000)` run 10**10
times, and jinja's optimizer would even compute a constant expression while *compiling*. So:

- nothing is computed at compile time (`optimized=False`: jinja folds no constants);
- each render draws on one `Budget`: every call, filter, operator, loop iteration and output
  costs an operation (`TEMPLATE_OPERATIONS`), every character output counts
  (`TEMPLATE_OUTPUT_CHARS`, literal text repeated by a loop included), and a wall-clock
  deadline (`TEMPLATE_SECONDS`) stops single operations that are slow on large data;
- no value may weigh more than `TEMPLATE_OUTPUT_CHARS` (characters of its strings plus its
  items, references counted each time), and the operations that could allocate more than that
  in one step (`*`, `**`, `%`, `.center()`, `|replace`, `|join`...) are refused *before* they
  allocate, by an estimate of what they would make.

Loops and `~` are reached through jinja's public AST (`bound`): each `for` iterates through
the `_loop` filter and each `a ~ b` through `_concat`. A breach raises `TemplateLimitError`.
"""

from __future__ import annotations

import contextlib
import functools
import re
import string
import time
from collections.abc import Callable, Iterator, Sized
from contextvars import ContextVar
from typing import Any

from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mockserver.core.limits import TEMPLATE_OPERATIONS, TEMPLATE_OUTPUT_CHARS, TEMPLATE_SECONDS

LOOP_FILTER = "_loop"
CONCAT_FILTER = "_concat"
CHARGE_FILTER = "_charge"
MAX_INT_BITS = 16_384  # ints past this are refused by `*` and `**` (Python prints 4,300 digits)


class TemplateLimitError(Exception):
    """A render went over one of its bounds."""


class Budget:
    """What one render may still spend."""

    __slots__ = ("deadline", "operations", "output")

    def __init__(self) -> None:
        self.operations = TEMPLATE_OPERATIONS
        self.output = TEMPLATE_OUTPUT_CHARS
        self.deadline = time.monotonic() + TEMPLATE_SECONDS

    def tick(self) -> None:
        self.operations -= 1
        if self.operations < 0:
            raise TemplateLimitError(f"more than {TEMPLATE_OPERATIONS:,} operations")
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"rendering took longer than {TEMPLATE_SECONDS:g} s")

    def produce(self, chars: int) -> None:
        self.output -= chars
        if self.output < 0:
            raise TemplateLimitError(f"more than {TEMPLATE_OUTPUT_CHARS:,} characters of output")


_current: ContextVar[Budget | None] = ContextVar("mockserver_template_budget", default=None)


@contextlib.contextmanager
def budget() -> Iterator[Budget]:
    """The budget of the render in progress, or a new one for a render that starts here (every
    template of one templated value shares its value's)."""
    active = _current.get()
    if active is not None:
        yield active
        return
    fresh = Budget()
    token = _current.set(fresh)
    try:
        yield fresh
    finally:
        _current.reset(token)


def _spend() -> Budget:
    active = _current.get()
    if active is None:  # a compiled template rendered outside `budget()`: bounded all the same
        raise TemplateLimitError("a template was rendered without a budget")
    active.tick()
    return active


# --- Sizes -----------------------------------------------------------------------------------


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


def _refuse_over(size: int, what: str) -> None:
    if size > TEMPLATE_OUTPUT_CHARS:
        raise TemplateLimitError(
            f"{what} would make a value of more than {TEMPLATE_OUTPUT_CHARS:,} characters"
        )


def _checked(value: Any, what: str) -> Any:
    _refuse_over(weight(value), what)
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


def _binop_size(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | bytes | list | tuple) and isinstance(times, int):
                _refuse_over(weight(seq) * max(times, 0), "`*`")
        integers = isinstance(left, int) and isinstance(right, int)
        if integers and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimitError(f"`*` would make an integer of over {MAX_INT_BITS} bits")
    elif operator == "**":
        integers = isinstance(left, int) and isinstance(right, int) and right > 0
        if integers and abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
            raise TemplateLimitError(f"`**` would make an integer of over {MAX_INT_BITS} bits")
    elif operator == "+":
        if isinstance(left, str | bytes | list | tuple) and type(left) is type(right):
            _refuse_over(weight(left) + weight(right), "`+`")
    elif operator == "%" and isinstance(left, str):
        _refuse_over(_printf_size(left, right), "`%`")


# --- Calls: str and bytes methods ------------------------------------------------------------


def _method_size(
    name: str, text: str | bytes, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> int:
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


_AMPLIFYING_METHODS = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "translate"}
    | {"format", "format_map"}
)


# --- Filters -----------------------------------------------------------------------------------


def _filter_size(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
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


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` (a jinja filter) spending an operation, refused before it would make a value
    too large, and its result checked."""
    passes_first = hasattr(function, "jinja_pass_arg")  # context, eval context or environment

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _spend()
        lead, rest = (args[:1], args[1:]) if passes_first else ((), args)
        if rest:
            value, extra = rest[0], rest[1:]
            if name in ("join", "sum") and not isinstance(value, Sized):
                value = list(value)  # measured before joining; its items came within budget
                args = (*lead, value, *extra)
            _refuse_over(_filter_size(name, value, extra, kwargs), f"|{name}")
        return _checked(function(*args, **kwargs), f"|{name}")

    return bounded


def _loop(iterable: Any, literal: int) -> Iterator[Any]:
    """What a `for` loop iterates through: an operation, and the loop body's literal text as
    output, per iteration."""
    active = _spend()
    for item in iterable:
        active.tick()
        active.produce(literal)
        yield item


def _concat(parts: list[Any]) -> str:
    """`a ~ b ~ c`."""
    _spend()
    _refuse_over(sum(weight(part) for part in parts), "`~`")
    return "".join(str(part) for part in parts)


def _charge(value: str, literal: int) -> str:
    """Opens each macro and `{% call %}` body: its literal text as output, per call."""
    _spend().produce(literal)
    return value


def _finalize(value: Any) -> Any:
    """Every `{{ ... }}` output."""
    _spend().produce(weight(value))
    return value


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every operation drawing on the render's `Budget`."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(optimized=False, finalize=_finalize, **options)
        # Drawn from an unseeded generator: a reply must be the same for the same request.
        self.globals.pop("lipsum", None)
        self.filters.pop("random", None)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters[LOOP_FILTER] = _loop
        self.filters[CONCAT_FILTER] = _concat
        self.filters[CHARGE_FILTER] = _charge

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        _binop_size(operator, left, right)
        return _checked(super().call_binop(context, operator, left, right), f"`{operator}`")

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        target = getattr(__obj, "__wrapped__", __obj)  # jinja wraps str.format for the sandbox
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if isinstance(owner, str | bytes) and name in _AMPLIFYING_METHODS:
            _refuse_over(_method_size(name, owner, args, kwargs), f".{name}()")
        return _checked(super().call(__context, __obj, *args, **kwargs), f"{name or 'call'}()")


# --- The AST pass ------------------------------------------------------------------------------


def _literal_chars(node: nodes.Node) -> int:
    """Literal text `node` outputs each time it runs, nested loops and macros left out (they
    count their own)."""
    if isinstance(node, nodes.TemplateData):
        return len(node.data)
    total = 0
    for child in node.iter_child_nodes():
        if not isinstance(child, nodes.For | nodes.Macro | nodes.CallBlock):
            total += _literal_chars(child)
    return total


def bound(tree: nodes.Template) -> None:
    """Route every loop through `_loop` and every `~` through `_concat`, and open every macro
    body with `_charge` (in place)."""
    for loop in tree.find_all(nodes.For):
        literal = sum(_literal_chars(child) for child in loop.body)
        loop.iter = _filter(loop.iter, LOOP_FILTER, nodes.Const(literal, lineno=loop.lineno))
    for node in [tree, *tree.find_all(nodes.Node)]:
        for field, value in node.iter_fields():
            if isinstance(value, nodes.Concat):
                setattr(node, field, _concat_node(value))
            elif isinstance(value, list):
                value[:] = [_concat_node(v) if isinstance(v, nodes.Concat) else v for v in value]
    bodies: list[nodes.Macro | nodes.CallBlock] = [*tree.find_all(nodes.Macro)]
    bodies += tree.find_all(nodes.CallBlock)
    for body in bodies:
        literal = sum(_literal_chars(child) for child in body.body)
        at = body.lineno
        charge = _filter(nodes.Const("", lineno=at), CHARGE_FILTER, nodes.Const(literal, lineno=at))
        body.body.insert(0, nodes.Output([charge], lineno=body.lineno))


def _filter(node: nodes.Node, name: str, *args: nodes.Expr) -> nodes.Filter:
    return nodes.Filter(node, name, list(args), [], None, None, lineno=node.lineno)


def _concat_node(node: nodes.Concat) -> nodes.Filter:
    return _filter(nodes.List(node.nodes, lineno=node.lineno), CONCAT_FILTER)
