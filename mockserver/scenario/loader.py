"""Load scenario files into a `ScenarioSet`, or fail with every problem of every file.

YAML is read with the *safe* loader only: a scenario file is data, and PyYAML's full loader
would build arbitrary Python objects from tags such as `!!python/object`. The node tree is
composed first so that each validation error can be pointed at its file, line and column:

    scenarios/x.yaml:14:5: unknown key 'mach' at rules[2]; did you mean 'match'? (valid keys:
    name, match, reply, sequence, fault, fail_times, latency)

Nothing is half-loaded: `load_paths` returns a complete `ScenarioSet` or raises one
`ScenarioError` listing every issue.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mockserver.dialects.moderations import NO_FLAGS, FlagRule, ModerationRules
from mockserver.embeddings import NO_RULES, EmbeddingRuleError, EmbeddingRules
from mockserver.exchange import Exchange
from mockserver.scenario.matching import Matcher, NearMiss, Variables, near_misses, show
from mockserver.scenario.model import (
    DEFAULT_CLOCK,
    ChaosEntry,
    FaultSpec,
    LatencySpec,
    ModelEntry,
    RateLimit,
    ReplySpec,
    Rule,
    RuleKind,
    Scenario,
    Spec,
    Step,
)
from mockserver.templating import TemplateCompileError

if TYPE_CHECKING:
    from mockserver.catalog import ModelInfo

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ScenarioIssue:
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


# --------------------------------------------------------------------------------------------
# Public entry points


def load_text(text: str, source: str) -> Scenario:
    """Parse and validate one YAML document; `source` names it in error messages."""
    batch = _Batch()
    batch.add(_parse(text, source))
    return batch.finish()[0]


def load_data(data: Any, source: str) -> Scenario:
    """Validate an already-parsed mapping (errors carry `source` and the key path, no line)."""
    batch = _Batch()
    batch.add(_Parsed(source, data, None, []))
    return batch.finish()[0]


def load_paths(paths: Sequence[str | Path]) -> ScenarioSet:
    """Load files, and the `*.yaml` / `*.yml` files of directories (sorted by name), in order.

    `seed`, `clock` and `strict` of the set come from the first file; rules keep file order.
    """
    batch = _Batch()
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = [p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
            files = sorted(found, key=lambda p: p.name)
        elif path.is_file():
            files = [path]
        else:
            batch.issues.append(
                ScenarioIssue(str(path), None, None, "", "no such file or directory")
            )
            continue
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                message = f"cannot read file: {exc}"
                batch.issues.append(ScenarioIssue(str(file), None, None, "", message))
                continue
            try:
                batch.add(_parse(text, str(file)))
            except ScenarioError as exc:
                batch.issues.extend(exc.issues)
    return ScenarioSet.build(batch.finish())


@dataclass(frozen=True, slots=True)
class _Parsed:
    source: str
    data: Any
    locate: _Locator | None
    issues: list[ScenarioIssue]  # found while parsing, reported with the validation errors

    def location(self, loc: Loc) -> tuple[int | None, int | None]:
        return self.locate(loc) if self.locate is not None else (None, None)


class _Batch:
    """Files validated one by one, their issues kept in file order and raised all together."""

    def __init__(self) -> None:
        self.issues: list[ScenarioIssue] = []
        self.parsed: list[_Parsed] = []
        self.scenarios: list[Scenario] = []

    def add(self, parsed: _Parsed) -> None:
        self.parsed.append(parsed)
        found = list(parsed.issues)
        try:
            self.scenarios.append(_validate(parsed))
        except ScenarioError as exc:
            found.extend(exc.issues)
        self.issues.extend(sorted(found, key=lambda issue: (issue.line or 0, issue.column or 0)))

    def finish(self) -> list[Scenario]:
        # Checked on the raw data, so names in a file that failed validation still count.
        self.issues.extend(_duplicates([(p.source, p.data, p.location) for p in self.parsed]))
        if self.issues:
            raise ScenarioError(self.issues)
        return self.scenarios


_Origin = tuple[str, Any, Callable[[Loc], tuple[int | None, int | None]]]


def _duplicates(origins: Sequence[_Origin]) -> list[ScenarioIssue]:
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
                here = ScenarioIssue(source, *location(path), _path(path), "")
                if key not in first:
                    first[key] = here.where
                    continue
                message = (
                    f"duplicate {what} {key!r}: first defined at {first[key]}; "
                    f"{what}s must be unique across all loaded files"
                )
                issues.append(ScenarioIssue(here.file, here.line, here.column, here.path, message))
    return issues


# --------------------------------------------------------------------------------------------
# YAML


def _parse(text: str, source: str) -> _Parsed:
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
        issues = _duplicate_keys(root, source) if root is not None else []
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_issue(exc, source)]) from None
    finally:
        loader.dispose()
    if root is None:
        message = "the file is empty; a scenario file starts with `version: 1`"
        raise ScenarioError([ScenarioIssue(source, 1, 1, "", message)])
    return _Parsed(source, data, _Locator(root), issues)


def _yaml_issue(exc: yaml.YAMLError, source: str) -> ScenarioIssue:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    if mark is None:
        return ScenarioIssue(source, None, None, "", message)
    return ScenarioIssue(source, mark.line + 1, mark.column + 1, "", message)


def _duplicate_keys(root: Node, source: str) -> list[ScenarioIssue]:
    """PyYAML keeps the last of two equal keys silently; a scenario author wants to know."""
    issues: list[ScenarioIssue] = []
    seen_nodes: set[int] = set()
    pending: list[tuple[Node, Loc]] = [(root, ())]
    while pending:
        node, loc = pending.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first_line: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, ScalarNode):
                    continue
                if key.value in first_line and key.value != "<<":
                    at = _path(loc) or "the top level"
                    message = (
                        f"duplicate key {key.value!r} at {at} "
                        f"(first at line {first_line[key.value]})"
                    )
                    issues.append(ScenarioIssue(source, *_mark(key), _path(loc), message))
                first_line.setdefault(key.value, key.start_mark.line + 1)
                pending.append((value, (*loc, key.value)))
        elif isinstance(node, SequenceNode):
            pending.extend((item, (*loc, i)) for i, item in enumerate(node.value))
    return issues


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _find(root: Node, loc: Loc) -> tuple[Node, Node | None]:
    """The node at `loc` (or the deepest one reached) and the key node naming it."""
    node, key_node = root, None
    for step in loc:
        if isinstance(node, MappingNode):
            # Later pairs win, as in the constructed mapping (merge keys come first).
            for key, value in reversed(node.value):
                if isinstance(key, ScalarNode) and key.value == str(step):
                    node, key_node = value, key
                    break
            else:
                break
        elif isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
            node, key_node = node.value[step], None
        else:
            break
    return node, key_node


class _Locator:
    def __init__(self, root: Node) -> None:
        self.root = root

    def __call__(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
        node, key_node = _find(self.root, loc)
        return _mark(key_node if at_key and key_node is not None else node)


# --------------------------------------------------------------------------------------------
# Validation errors


def _validate(parsed: _Parsed) -> Scenario:
    data, source, locate = parsed.data, parsed.source, parsed.locate
    if not isinstance(data, dict):
        message = (
            f"expected a mapping of scenario keys ({', '.join(Scenario.accepted_keys())}) "
            f"at the top level; got {_describe(data)}"
        )
        raise ScenarioError([ScenarioIssue(source, *parsed.location(()), "", message)])
    context: dict[str, Any] = {}
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        # A wrong version means a different format: the other complaints would be noise.
        version = [e for e in errors if e["loc"] == ("version",) and e["type"] == "value_error"]
        owners = context.get("owners", {})
        issues = [_issue(e, data, source, locate, owners) for e in version or errors]
        raise ScenarioError(list(dict.fromkeys(issues))) from None
    scenario._source = source
    scenario._locate = locate
    return scenario


def _issue(
    error: ErrorDetails,
    data: Any,
    source: str,
    locate: _Locator | None,
    owners: dict[int, type[Spec]],
) -> ScenarioIssue:
    kind = error["type"]
    loc: Loc = tuple(
        s for s in error["loc"] if not (isinstance(s, str) and s.startswith(("<", "[")))
    )
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, TemplateCompileError):
        loc = (*loc, *cause.path)
    where = _path(loc[:-1]) or "the top level"
    if kind == "extra_forbidden":
        owner = owners.get(id(_data_at(data, loc[:-1])))
        message = _unknown_key(str(loc[-1]), where, owner.accepted_keys() if owner else [])
        line, column = locate(loc, at_key=True) if locate else (None, None)
        return ScenarioIssue(source, line, column, _path(loc), message)
    if kind == "missing":
        message = f"missing required key {loc[-1]!r} at {where}"
        if loc == ("version",):
            message += "; scenario files start with `version: 1`"
        line, column = locate(loc[:-1]) if locate else (None, None)
        return ScenarioIssue(source, line, column, _path(loc), message)
    detail = _detail(error)
    if kind != "value_error" and "; got " not in detail:
        detail += f"; got {_describe(error['input'])}"
    line, column = locate(loc) if locate else (None, None)
    message = f"{_path(loc)}: {detail}" if loc else detail
    return ScenarioIssue(source, line, column, _path(loc), message)


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
        owner = _SPECS.get(str(ctx.get("class_name", "")))
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


_SPECS = _all_specs(Spec)


def _describe(value: Any) -> str:
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


def _path(loc: Loc) -> str:
    """`("rules", 2, "match")` → `rules[2].match`."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


# --------------------------------------------------------------------------------------------
# The loaded set


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to serve: its validated spec, compiled matcher and origin."""

    spec: Rule
    matcher: Matcher
    source: str
    line: int | None
    column: int | None
    seed: int  # the seed of the scenario the rule came from
    index: int  # position in `ScenarioSet.rules`

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def where(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}:{self.column}"

    @property
    def kind(self) -> RuleKind:
        return self.spec.kind

    @property
    def reply(self) -> ReplySpec | None:
        return self.spec.reply

    @property
    def sequence(self) -> list[Step] | None:
        return self.spec.sequence

    @property
    def fault(self) -> FaultSpec | None:
        return self.spec.fault

    @property
    def fail_times(self) -> int | None:
        return self.spec.fail_times

    @property
    def latency(self) -> LatencySpec | None:
        return self.spec.latency

    def step(self, occurrence: int) -> ReplySpec | FaultSpec:
        return self.spec.step(occurrence)

    def match(self, exchange: Exchange) -> Variables | None:
        return self.matcher.match(exchange)


@dataclass(frozen=True, slots=True)
class ScenarioSet:
    """Scenarios loaded together. `seed`, `clock` and `strict` are the first scenario's (the
    defaults when there is none); `rules`, `models`, `chaos` and `rate_limits` concatenate
    every scenario's, in load order."""

    scenarios: tuple[Scenario, ...] = ()
    rules: tuple[CompiledRule, ...] = ()
    models: tuple[ModelEntry, ...] = ()
    chaos: tuple[ChaosEntry, ...] = ()
    rate_limits: tuple[RateLimit, ...] = ()
    seed: int = 0
    clock: int = DEFAULT_CLOCK
    strict: bool = False
    embedding_rules: EmbeddingRules = NO_RULES
    moderation_rules: ModerationRules = NO_FLAGS

    @classmethod
    def build(cls, scenarios: Sequence[Scenario]) -> ScenarioSet:
        """Combine validated scenarios; raises `ScenarioError` on duplicate names or ids."""
        duplicates = _duplicates([(s.source, _names(s), s.location) for s in scenarios])
        if duplicates:
            raise ScenarioError(duplicates)
        rules: list[CompiledRule] = []
        for scenario in scenarios:
            for number, rule in enumerate(scenario.rules):
                line, column = scenario.location(("rules", number))
                compiled = CompiledRule(
                    rule,
                    Matcher(rule.match),
                    scenario.source,
                    line,
                    column,
                    scenario.seed,
                    len(rules),
                )
                rules.append(compiled)
        first = scenarios[0] if scenarios else None
        try:
            embedding_rules = EmbeddingRules(
                pinned={k: v for s in scenarios for k, v in s.embeddings.rules().pinned.items()},
                near=tuple(n for s in scenarios for n in s.embeddings.rules().near),
            )
        except EmbeddingRuleError as error:  # a clash between files; each file alone is valid
            sources = ", ".join(s.source for s in scenarios)
            raise ScenarioError(
                [ScenarioIssue(sources, None, None, "embeddings", str(error))]
            ) from None
        flags = tuple(
            FlagRule(f.contains, tuple(f.categories)) for s in scenarios for f in s.moderation
        )
        return cls(
            scenarios=tuple(scenarios),
            rules=tuple(rules),
            models=tuple(m for s in scenarios for m in s.models),
            chaos=tuple(c for s in scenarios for c in s.chaos),
            rate_limits=tuple(r for s in scenarios for r in s.rate_limits),
            seed=first.seed if first else 0,
            clock=first.clock if first else DEFAULT_CLOCK,
            strict=first.strict if first else False,
            embedding_rules=embedding_rules,
            moderation_rules=ModerationRules(flags),
        )

    def first_match(self, exchange: Exchange) -> tuple[CompiledRule, Variables] | None:
        """The first rule, in load order, whose match holds, with its template variables."""
        for rule in self.rules:
            variables = rule.matcher.match(exchange)
            if variables is not None:
                return rule, variables
        return None

    def near_misses(self, exchange: Exchange, limit: int = 3) -> list[NearMiss]:
        return near_misses(self.rules, exchange, limit)

    def model_infos(self) -> list[ModelInfo]:
        """The scenarios' `models:` entries as catalog entries."""
        from mockserver.catalog import model_from_mapping

        return [
            model_from_mapping(entry.model_dump(), f"{scenario.source} models[{index}]")
            for scenario in self.scenarios
            for index, entry in enumerate(scenario.models)
        ]

    def summary_lines(self) -> list[str]:
        """What `mockserver validate` prints for a valid set: one line per file, then totals."""
        lines = []
        for scenario in self.scenarios:
            counts = [
                (len(scenario.models), "model", "models"),
                (len(scenario.chaos), "chaos entry", "chaos entries"),
                (len(scenario.rate_limits), "rate limit", "rate limits"),
            ]
            parts = [_count(len(scenario.rules), "rule", "rules")]
            parts += [_count(number, one, many) for number, one, many in counts if number]
            lines.append(f"{scenario.source}: {', '.join(parts)}")
        lines.append(
            f"{_count(len(self.scenarios), 'file', 'files')}, "
            f"{_count(len(self.rules), 'rule', 'rules')}; "
            f"seed {self.seed}, clock {self.clock}, strict {'on' if self.strict else 'off'}"
        )
        return lines


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _names(scenario: Scenario) -> dict[str, list[dict[str, str]]]:
    return {
        "rules": [{"name": rule.name} for rule in scenario.rules],
        "models": [{"id": model.id} for model in scenario.models],
    }
