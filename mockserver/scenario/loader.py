"""Load scenario files into a `ScenarioSet`, or fail with every problem of every file.

YAML is read with the *safe* loader only: a scenario file is data, and PyYAML's full loader
would build arbitrary Python objects from tags such as `!!python/object`. The node tree is
composed first so that each validation error can be pointed at its file, line and column:

    scenarios/x.yaml:14:5: unknown key 'mach' at rules[2]; did you mean 'match'? (valid keys:
    name, match, reply, sequence, fault, fail_times, latency)

Nothing is half-loaded: `validate_paths` returns every file's scenario or raises one
`ScenarioError` listing every issue (`mockserver.scenario.load_paths` calls it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from msgspec import Struct
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mockserver.core.limits import MAX_ALIAS_EXPANSION, MAX_YAML_DEPTH
from mockserver.scenario.issues import (
    Loc,
    ScenarioError,
    ScenarioIssue,
    describe,
    duplicate_names,
    key_path,
    validation_issue,
)
from mockserver.scenario.model import Scenario

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def validate_paths(paths: Sequence[str | Path]) -> list[Scenario]:
    """Validate files, and the `*.yaml` / `*.yml` files of directories (sorted by name), in
    order; `ScenarioError` lists every issue of every file. A directory's symbolic links are
    followed only to files inside it: a link out of it is an issue, its target left unread."""
    batch = _Batch()
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = [p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
            files = []
            for file in sorted(found, key=lambda p: p.name):
                if file.is_symlink() and not file.resolve().is_relative_to(path.resolve()):
                    message = f"not loaded: a symbolic link out of {path}"
                    batch.issues.append(ScenarioIssue(str(file), None, None, "", message))
                else:
                    files.append(file)
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
    return batch.finish()


class _Parsed(Struct, frozen=True):
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
        self.issues.extend(duplicate_names([(p.source, p.data, p.location) for p in self.parsed]))
        if self.issues:
            raise ScenarioError(self.issues)
        return self.scenarios


# --------------------------------------------------------------------------------------------
# YAML


def _parse(text: str, source: str) -> _Parsed:
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_shape(root, source)  # before anything walks the document as a tree
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


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_shape(root: Node, source: str) -> None:
    """Refuse a document that is cyclic, nests deeper than `MAX_YAML_DEPTH`, or that aliases
    expand by more than `MAX_ALIAS_EXPANSION` values. The composed document is a graph (an alias
    is the anchored node itself), so this walks each node once: the tree it stands for may
    be exponentially larger, and everything after loading (validation, templates) walks that.
    """
    size: dict[int, int] = {}  # values in the expanded subtree of each node
    depth: dict[int, int] = {}
    references: dict[int, int] = {id(root): 1}
    nodes: dict[int, Node] = {}
    on_path: set[int] = set()  # nodes whose subtree is being walked
    pending: list[tuple[Node, bool]] = [(root, False)]
    while pending:
        node, walked = pending.pop()
        key = id(node)
        kids = _children(node)
        if walked:
            size[key] = 1 + sum(size[id(kid)] for kid in kids)
            depth[key] = 1 + max((depth[id(kid)] for kid in kids), default=0)
            on_path.discard(key)
            continue
        if key in size:
            continue
        nodes[key] = node
        on_path.add(key)
        pending.append((node, True))
        for kid in kids:
            references[id(kid)] = references.get(id(kid), 0) + 1
            if id(kid) in on_path:  # the kid's own subtree holds it: `&a [*a]`
                message = "recursive YAML alias: the anchored value here contains itself"
                raise ScenarioError([ScenarioIssue(source, *_mark(kid), "", message)])
            if id(kid) not in size:
                pending.append((kid, False))
    added = size[id(root)] - len(nodes)
    if added > MAX_ALIAS_EXPANSION:
        culprit = max(
            (key for key, count in references.items() if count > 1),
            key=lambda key: (references[key] - 1) * size[key],
        )
        message = (
            f"YAML aliases expand this file by {added:,} values; at most "
            f"{MAX_ALIAS_EXPANSION:,} are allowed. The value anchored here is used "
            f"{references[culprit]} times, {size[culprit]:,} values each"
        )
        raise ScenarioError([ScenarioIssue(source, *_mark(nodes[culprit]), "", message)])
    if depth[id(root)] > MAX_YAML_DEPTH:
        node = root
        for _ in range(MAX_YAML_DEPTH):  # down the deepest branch to the first level too many
            node = max(_children(node), key=lambda kid: depth[id(kid)])
        message = f"values nest more than {MAX_YAML_DEPTH} levels deep here"
        raise ScenarioError([ScenarioIssue(source, *_mark(node), "", message)])


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
                    at = key_path(loc) or "the top level"
                    message = (
                        f"duplicate key {key.value!r} at {at} "
                        f"(first at line {first_line[key.value]})"
                    )
                    issues.append(ScenarioIssue(source, *_mark(key), key_path(loc), message))
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
# Validation


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a number" if isinstance(value, int | float) else describe(value)


def _validate(parsed: _Parsed) -> Scenario:
    data, source, locate = parsed.data, parsed.source, parsed.locate
    if not isinstance(data, dict):
        # Said by kind, never quoted: this file may not be a scenario at all.
        message = (
            f"expected a mapping of scenario keys ({', '.join(Scenario.accepted_keys())}) "
            f"at the top level; got {_kind(data)}"
        )
        raise ScenarioError([ScenarioIssue(source, *parsed.location(()), "", message)])
    # `file:` paths are relative to the scenario file's folder (`scenario.media_files`).
    path = Path(source)
    context: dict[str, Any] = {"base_dir": path.parent if path.is_file() else None}
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        # A wrong version means a different format: the other complaints would be noise.
        version = [e for e in errors if e["loc"] == ("version",) and e["type"] == "value_error"]
        owners = context.get("owners", {})
        issues = [validation_issue(e, data, source, locate, owners) for e in version or errors]
        raise ScenarioError(list(dict.fromkeys(issues))) from None
    scenario._source = source
    scenario._locate = locate
    return scenario
