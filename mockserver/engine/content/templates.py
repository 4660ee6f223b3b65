"""Sandboxed jinja2 templates for scenario replies, compiled once at load and rendered per request.

A string is a template only when it contains `{{`, `{%` or `{#`; any other string is returned as
is without touching jinja, so the common literal reply costs nothing. Templates run in jinja's
immutable sandbox with `StrictUndefined`: a misspelt variable fails loudly instead of rendering
an empty string, and `''.__class__.__mro__`-style escapes raise `TemplateSecurityError`. Each
render has a budget of operations, output and time (`mockserver.engine.content.sandbox`).

>>> compile_template("It is sunny in {{ match.city }}.").render({"match": {"city": "Oslo"}})
'It is sunny in Oslo.'
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, cast

# jinja2 is imported on first use, not here: it adds to start-up time and memory, and most
# scenarios (and the built-in default) have no template at all.
if TYPE_CHECKING:
    import jinja2
    from jinja2.exceptions import SecurityError

    from mockserver.engine.content.sandbox import BoundedSandbox

# The top-level names `mockserver.scenario.render_context.template_context` provides.
CONTEXT_NAMES = frozenset({"match", "request", "tool_result"})

_MARKERS = ("{{", "{%", "{#")


@functools.cache
def _sandbox() -> BoundedSandbox:
    import jinja2

    from mockserver.engine.content.sandbox import BoundedSandbox

    return BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        # YAML block scalars (`|`) end in a newline the author wrote on purpose.
        keep_trailing_newline=True,
    )


class _LazyEnvironment:
    """Stands for the sandbox environment and creates it (importing jinja2) on first use."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_sandbox(), name)


_environment = cast("BoundedSandbox", _LazyEnvironment())


class TemplateCompileError(ValueError):
    """A template that does not parse, or names a variable no request will ever provide.

    `path` locates the bad string inside a nested value (`("arguments", "city")`), so the
    loader can point at its exact YAML line; `lineno` is the line inside the template.
    """

    def __init__(self, message: str, source: str, *, lineno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.lineno = lineno
        self.path: tuple[str | int, ...] = ()


class TemplateRenderError(Exception):
    """A template failed while rendering (undefined variable, bad filter argument, ...)."""

    def __init__(self, message: str, source: str) -> None:
        super().__init__(f"{message} (template: {_shorten(source)})")
        self.detail = message
        self.source = source


if TYPE_CHECKING:

    class TemplateSecurityError(TemplateRenderError, SecurityError):
        """The sandbox refused an unsafe operation (private attributes, mutating calls, ...)."""

else:

    def __getattr__(name: str) -> type:
        # The class derives from jinja2's SecurityError, so it is built when first asked for
        # (module __getattr__) rather than importing jinja2 with this module.
        if name != "TemplateSecurityError":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return _security_error_class()


@functools.cache
def _security_error_class() -> type[TemplateRenderError]:
    from jinja2.exceptions import SecurityError

    class TemplateSecurityError(TemplateRenderError, SecurityError):
        """The sandbox refused an unsafe operation (private attributes, mutating calls, ...)."""

    TemplateSecurityError.__module__ = __name__
    globals()["TemplateSecurityError"] = TemplateSecurityError
    return TemplateSecurityError


class Template:
    """One compiled string: a literal, or a jinja template rendered in the sandbox."""

    __slots__ = ("_compiled", "source")

    def __init__(self, source: str, compiled: jinja2.Template | None) -> None:
        self.source = source
        self._compiled = compiled

    @property
    def is_literal(self) -> bool:
        return self._compiled is None

    def render(self, context: Mapping[str, Any]) -> str:
        if self._compiled is None:
            return self.source
        import jinja2  # already loaded: a compiled template exists

        from mockserver.engine.content.sandbox import budget
        from mockserver.engine.content.template_sizes import TemplateLimitError

        try:
            with budget():
                return self._compiled.render(context)
        except TemplateLimitError as exc:
            raise TemplateRenderError(f"template over its limits: {exc}", self.source) from exc
        except jinja2.exceptions.SecurityError as exc:
            raise _security_error_class()(f"unsafe template operation: {exc}", self.source) from exc
        except jinja2.UndefinedError as exc:
            raise TemplateRenderError(f"undefined template variable: {exc}", self.source) from exc
        except Exception as exc:
            raise TemplateRenderError(f"{type(exc).__name__}: {exc}", self.source) from exc

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)


def is_template(source: str) -> bool:
    return any(marker in source for marker in _MARKERS)


def compile_template(source: str, *, known_names: Collection[str] | None = None) -> Template:
    """Compile `source` once; literal strings skip jinja entirely.

    With `known_names`, a template that reads any other top-level variable is rejected here,
    at load time, rather than failing on the first request.
    """
    if not is_template(source):
        return Template(source, None)
    import jinja2
    from jinja2 import meta

    from mockserver.engine.content.sandbox import bound

    environment = _environment
    try:
        tree = environment.parse(source)
        bound(tree)
        tree.set_environment(_sandbox())
        compiled = environment.from_string(tree)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateCompileError(
            f"bad template: {exc.message} (template line {exc.lineno})", source, lineno=exc.lineno
        ) from exc
    except (RecursionError, MemoryError):  # jinja's parser and Python's compiler recurse
        raise TemplateCompileError("bad template: expressions nest too deeply", source) from None
    if known_names is not None:
        unknown = meta.find_undeclared_variables(tree) - set(known_names) - set(environment.globals)
        if unknown:
            raise TemplateCompileError(
                f"bad template: unknown variable {', '.join(sorted(unknown))}; "
                f"templates can use {', '.join(sorted(known_names))}",
                source,
            )
    return Template(source, compiled)


class TemplatedValue:
    """A nested YAML value (mappings, lists, scalars) whose string leaves are templates.

    >>> TemplatedValue({"city": "{{ match.city }}", "days": 3}).render({"match": {"city": "Rome"}})
    {'city': 'Rome', 'days': 3}

    Mapping keys are literal. Each render builds fresh containers, so callers may mutate the
    result.
    """

    __slots__ = ("_render", "_templated", "value")

    def __init__(self, value: Any, *, known_names: Collection[str] | None = None) -> None:
        self.value = value
        compiler = _Compiler(known_names)
        self._render = compiler.node(value, ())
        self._templated = compiler.templated

    def render(self, context: Mapping[str, Any]) -> Any:
        if not self._templated:
            return self._render(context)
        from mockserver.engine.content.sandbox import budget

        with budget():  # one budget for every template in the value
            return self._render(context)

    def __repr__(self) -> str:
        return f"TemplatedValue({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TemplatedValue) and other.value == self.value

    def __hash__(self) -> int:
        return hash(repr(self.value))


_Renderer = Callable[[Mapping[str, Any]], Any]


class _Compiler:
    """Compiles a nested value's string leaves. A subtree met again (a YAML alias is one
    object referenced several times) is compiled once: `done` maps `id()` of each container."""

    def __init__(self, known_names: Collection[str] | None) -> None:
        self.known_names = known_names
        self.done: dict[int, _Renderer] = {}
        self.templated = False  # some leaf is a template (rendering then needs a budget)

    def node(self, value: Any, path: tuple[str | int, ...]) -> _Renderer:
        if isinstance(value, str):
            try:
                template = compile_template(value, known_names=self.known_names)
            except TemplateCompileError as exc:
                exc.path = path
                raise
            self.templated = self.templated or not template.is_literal
            return template.render
        if not isinstance(value, Mapping | list | tuple):
            return lambda context: value
        done = self.done.get(id(value))
        if done is not None:
            return done
        renderer: _Renderer
        if isinstance(value, Mapping):
            items = [(k, self.node(v, (*path, k))) for k, v in value.items()]
            renderer = lambda context: {k: render(context) for k, render in items}  # noqa: E731
        else:
            elements = [self.node(v, (*path, i)) for i, v in enumerate(value)]
            renderer = lambda context: [render(context) for render in elements]  # noqa: E731
        self.done[id(value)] = renderer
        return renderer


def _shorten(text: str, limit: int = 80) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"
