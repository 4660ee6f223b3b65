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
  allocate, by an estimate of what they would make (`template_sizes`);
- `lipsum` and `|random` are not offered: they draw from an unseeded generator.

Loops, `~` and macro bodies are reached through jinja's public AST (`bound`): each `for`
iterates through the `_loop` filter, each `a ~ b` goes through `_concat`, and each macro body
opens with `_charge`. A breach raises `TemplateLimitError`.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator, Sized
from contextvars import ContextVar
from typing import Any

from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mockserver.core.limits import TEMPLATE_OPERATIONS, TEMPLATE_OUTPUT_CHARS, TEMPLATE_SECONDS
from mockserver.engine.content.template_sizes import (
    AMPLIFYING_METHODS,
    TemplateLimitError,
    binop_size,
    checked,
    filter_size,
    method_size,
    refuse_over,
    weight,
)

LOOP_FILTER = "_loop"
CONCAT_FILTER = "_concat"
CHARGE_FILTER = "_charge"


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
            refuse_over(filter_size(name, value, extra, kwargs), f"|{name}")
        return checked(function(*args, **kwargs), f"|{name}")

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
    refuse_over(sum(weight(part) for part in parts), "`~`")
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
        binop_size(operator, left, right)
        return checked(super().call_binop(context, operator, left, right), f"`{operator}`")

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        target = getattr(__obj, "__wrapped__", __obj)  # jinja wraps str.format for the sandbox
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if isinstance(owner, str | bytes) and name in AMPLIFYING_METHODS:
            refuse_over(method_size(name, owner, args, kwargs), f".{name}()")
        return checked(super().call(__context, __obj, *args, **kwargs), f"{name or 'call'}()")


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
