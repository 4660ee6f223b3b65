"""What is wrong with a scenario file, said in the author's words, at a file:line:column.

Pydantic's validation errors are rewritten here: key paths become `rules[2].match`, error
types become "expected ...; got ...", and an unknown key gets the nearest valid one:

    scenarios/x.yaml:14:5: unknown key 'mach' at rules[2]; did you mean 'match'? (valid keys:
    name, match, reply, sequence, fault, fail_times, latency)
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct

from mockserver.engine.content.templates import TemplateCompileError
from mockserver.scenario.matching import show

if TYPE_CHECKING:  # only the loader's errors need them, and it imports pydantic itself
    from pydantic_core import ErrorDetails

    from mockserver.scenario.spec import Spec

Loc = tuple[str | int, ...]


class Locate(Protocol):
    """1-based (line, column) of a key path in the YAML source; `at_key` points at the key
    naming the value instead of the value."""

    def __call__(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]: ...


class ScenarioIssue(Struct, frozen=True):
    """One problem in one file. `line`/`column` are 1-based; None for data not read from YAML."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    @property
    def where(self) -> str:
        """`file:line:column`, or just the file when there is no line."""
        return self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ScenarioError(Exception):
    """Every problem found while loading; `issues` is never empty."""

    def __init__(self, issues: Sequence[ScenarioIssue]) -> None:
        self.issues = list(issues)
        lines = [str(issue) for issue in self.issues]
        if len(lines) > 1:
            lines = [f"{len(lines)} problems in scenario files:", *(f"  {ln}" for ln in lines)]
        super().__init__("\n".join(lines))


Origin = tuple[str, Any, Callable[[Loc], tuple[int | None, int | None]]]


def duplicate_names(origins: Sequence[Origin]) -> list[ScenarioIssue]:
    """Rule names and model ids that appear twice, anywhere across the files."""
    issues: list[ScenarioIssue] = []
    for collection, field, what in (("rules", "name", "rule name"), ("models", "id", "model id")):
        first: dict[str, str] = {}
        for source, data, location in origins:
            items = data.get(collection) if isinstance(data, dict) else None
            for index, item in enumerate(items if isinstance(items, list) else []):
                key = item.get(field) if isinstance(item, dict) else None
                if not isinstance(key, str):
                    continue
                path: Loc = (collection, index, field)
                here = ScenarioIssue(source, *location(path), key_path(path), "")
                if key not in first:
                    first[key] = here.where
                    continue
                message = (
                    f"duplicate {what} {key!r}: first defined at {first[key]}; "
                    f"{what}s must be unique across all loaded files"
                )
                issues.append(ScenarioIssue(here.file, here.line, here.column, here.path, message))
    return issues


def validation_issue(
    error: ErrorDetails,
    data: Any,
    source: str,
    locate: Locate | None,
    owners: dict[int, type[Spec]],
) -> ScenarioIssue:
    """One pydantic error as a located issue. `owners` maps `id()` of each YAML mapping to
    the model that read it (recorded by `Spec`), to list the keys valid next to an unknown one."""
    kind = error["type"]
    loc: Loc = tuple(
        s for s in error["loc"] if not (isinstance(s, str) and s.startswith(("<", "[")))
    )
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, TemplateCompileError):
        loc = (*loc, *cause.path)
    where = key_path(loc[:-1]) or "the top level"
    if kind == "extra_forbidden":
        owner = owners.get(id(_data_at(data, loc[:-1])))
        message = _unknown_key(str(loc[-1]), where, owner.accepted_keys() if owner else [])
        line, column = locate(loc, at_key=True) if locate else (None, None)
        return ScenarioIssue(source, line, column, key_path(loc), message)
    if kind == "missing":
        message = f"missing required key {loc[-1]!r} at {where}"
        if loc == ("version",):
            message += "; scenario files start with `version: 1`"
        line, column = locate(loc[:-1]) if locate else (None, None)
        return ScenarioIssue(source, line, column, key_path(loc), message)
    detail = _detail(error)
    if kind != "value_error" and "; got " not in detail:
        detail += f"; got {describe(error['input'])}"
    line, column = locate(loc) if locate else (None, None)
    message = f"{key_path(loc)}: {detail}" if loc else detail
    return ScenarioIssue(source, line, column, key_path(loc), message)


def _unknown_key(key: str, where: str, valid: list[str]) -> str:
    message = f"unknown key {key!r} at {where}"
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean {close[0]!r}?"
    if valid:
        message += f" (valid keys: {', '.join(valid)})"
    return message


_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
}


def _detail(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("literal_error", "enum"):
        words = [
            w.strip("'") for w in str(ctx.get("expected", "")).replace(" or ", ", ").split(", ")
        ]
        return f"expected one of {', '.join(words)}" if len(words) > 1 else f"expected {words[0]}"
    if kind in ("model_type", "model_attributes_type"):
        owner = _specs_by_name().get(str(ctx.get("class_name", "")))
        keys = f" (keys: {', '.join(owner.accepted_keys())})" if owner else ""
        return f"expected a mapping{keys}"
    bounds = {
        "greater_than_equal": ">= {ge}",
        "greater_than": "> {gt}",
        "less_than_equal": "<= {le}",
        "less_than": "< {lt}",
    }
    if kind in bounds:
        return "expected a number " + bounds[kind].format(**ctx)
    if kind == "too_short":
        count = ctx.get("min_length")
        return f"expected at least {count} item{'s' if count != 1 else ''}"
    return str(error["msg"])


def _all_specs(cls: type[Spec]) -> dict[str, type[Spec]]:
    found = {cls.__name__: cls}
    for sub in cls.__subclasses__():
        found.update(_all_specs(sub))
    return found


@functools.cache
def _specs_by_name() -> dict[str, type[Spec]]:
    # Built on first use, once every model module has been imported.
    from mockserver.scenario.spec import Spec

    return _all_specs(Spec)


def describe(value: Any) -> str:
    """A YAML value as an error message names it: `null`, `a mapping`, `'hi'`, `42`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, str):
        return show(value)
    return str(value) if isinstance(value, int | float) else type(value).__name__


def _data_at(data: Any, loc: Loc) -> Any:
    for step in loc:
        in_list = isinstance(data, list) and isinstance(step, int) and step < len(data)
        if not (in_list or (isinstance(data, dict) and step in data)):
            return None
        data = data[step]
    return data


def key_path(loc: Loc) -> str:
    """`("rules", 2, "match")` → `rules[2].match`."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text
