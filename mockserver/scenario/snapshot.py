"""Scenario files loaded from what an earlier start validated: no pydantic, no PyYAML.

    scenarios = load_paths(["scenarios/"])    # ~1 ms when these files were loaded before

Validating a file takes PyYAML and pydantic (~0.2 s of imports and validator building on a
~0.5 s start-up); serving it takes neither. So `load_paths` keeps what it validated in the
cache folder (`mockserver.core.cache_files`) as a snapshot: JSON, keyed by the sha256 of the files'
paths and bytes and of the code that validates them. When the snapshot of exactly these files
is there, their scenarios come back from it as records (`mockserver.scenario.records`);
otherwise the loader validates them, reporting every problem of every file as ever, and the
snapshot is written. Either way serving reads records, so there is one path to test.

A snapshot is plain data: reading one builds records and compiles templates in the sandbox,
nothing else (never pickle). One that doesn't read back is ignored and the files validated.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson

from mockserver.core.cache_files import cache_dir, package_sources, write_atomically
from mockserver.engine.content.templates import (
    CONTEXT_NAMES,
    Template,
    TemplateCompileError,
    TemplatedValue,
    compile_template,
)
from mockserver.scenario.records import Record, ScenarioRecord, record_class
from mockserver.scenario.scenario_set import ScenarioSet

if TYPE_CHECKING:
    from mockserver.scenario.model import Scenario

FORMAT = b"mockserver-scenario-snapshot-1"  # change when the snapshot's layout changes
KEEP = 64  # snapshots kept in the cache folder; older ones are deleted as new ones are written
_PREFIX = "scenarios-"

# The code that decides what a file validates to: a change to any of it is a new key.
_VALIDATING_CODE = (
    "scenario/issues.py",
    "scenario/loader.py",
    "scenario/matching.py",
    "scenario/model.py",
    "scenario/outcomes.py",
    "scenario/predicates.py",
    "scenario/records.py",
    "scenario/snapshot.py",
    "scenario/spec.py",
    "protocols/openai/moderations.py",
    "engine/content/embeddings.py",
    "core/exchange.py",
    "core/reply.py",
    "engine/content/templates.py",
)


def load_paths(paths: Sequence[str | Path]) -> ScenarioSet:
    """Load files, and the `*.yaml` / `*.yml` files of directories (sorted by name), in order:
    a complete `ScenarioSet`, or `ScenarioError` listing every issue of every file.

    `seed`, `clock` and `strict` of the set come from the first file; rules keep file order.
    """
    if not paths:
        return ScenarioSet()
    files = _files(paths)
    key = _key(files) if files is not None else None
    if key is not None:
        kept = _read(key)
        if kept is not None:
            return ScenarioSet.build(kept)
    from mockserver.scenario.loader import validate_paths

    plain = encode(validate_paths(paths))
    loaded = ScenarioSet.build(decode(plain))  # raises on clashes between files: not kept
    # Kept under the key only if the files still hold what the key was made of: one edited
    # while it was being validated is validated again next time.
    if key is not None and files is not None and _key(files) == key:
        _write(key, plain)
    return loaded


def encode(scenarios: Iterable[Scenario]) -> dict[str, Any]:
    """Validated scenarios as plain data (what `decode` turns into records)."""
    classes: dict[str, dict[str, Any]] = {}
    return {
        "scenarios": [
            {
                "source": scenario.source,
                "locations": [
                    [list(path), *scenario.location(path)] for path in _located(scenario)
                ],
                "value": _plain(scenario, classes),
            }
            for scenario in scenarios
        ],
        "classes": classes,
    }


def decode(plain: dict[str, Any]) -> list[Scenario]:
    """The records of `encode`'s data; a Scenario's record reads as the model does."""
    classes = {
        name: record_class(name, tuple(spec["fields"]), dict(spec["aliases"]))
        for name, spec in plain["classes"].items()
    }
    scenarios = []
    for entry in plain["scenarios"]:
        value = entry["value"]
        record = cast("type[ScenarioRecord]", classes[value["$m"]])
        locations = {tuple(path): (line, column) for path, line, column in entry["locations"]}
        scenarios.append(
            record(_fields(record, value, classes), set(value["s"]), entry["source"], locations)
        )
    return cast("list[Scenario]", scenarios)


def _located(scenario: Scenario) -> list[tuple[str | int, ...]]:
    """The key paths whose lines `ScenarioSet.build` reports: each rule, its name, each model id."""
    paths: list[tuple[str | int, ...]] = []
    for i in range(len(scenario.rules)):
        paths += [("rules", i), ("rules", i, "name")]
    return paths + [("models", i, "id") for i in range(len(scenario.models))]


def _plain(value: Any, classes: dict[str, dict[str, Any]]) -> Any:
    fields = getattr(type(value), "model_fields", None)
    if isinstance(fields, dict):  # a model (or a record)
        name = type(value).__name__
        if name not in classes:
            aliases = getattr(type(value), "aliases", None) or {
                field: info.alias
                for field, info in fields.items()
                if info.alias not in (None, field)
            }
            classes[name] = {"fields": list(fields), "aliases": aliases}
        return {
            "$m": name,
            "f": [_plain(getattr(value, field), classes) for field in fields],
            "s": sorted(value.model_fields_set),
        }
    if isinstance(value, list):
        return [_plain(v, classes) for v in value]
    if isinstance(value, dict):
        return {"$d": {k: _plain(v, classes) for k, v in value.items()}}
    if isinstance(value, Template):
        return {"$t": value.source}
    if isinstance(value, TemplatedValue):
        return {"$v": value.value}
    return value


def _fields(
    record: type[Record], node: dict[str, Any], classes: dict[str, type[Record]]
) -> dict[str, Any]:
    values = node["f"]
    if len(values) != len(record.model_fields):
        raise ValueError(f"{record.__name__}: {len(values)} values for {len(record.model_fields)}")
    return {name: _value(v, classes) for name, v in zip(record.model_fields, values, strict=True)}


def _value(node: Any, classes: dict[str, type[Record]]) -> Any:
    if isinstance(node, list):
        return [_value(v, classes) for v in node]
    if not isinstance(node, dict):
        return node
    if "$m" in node:
        record = classes[node["$m"]]
        return record(_fields(record, node, classes), set(node["s"]))
    if "$d" in node:
        return {k: _value(v, classes) for k, v in node["$d"].items()}
    if "$t" in node:
        return compile_template(node["$t"], known_names=CONTEXT_NAMES)
    if "$v" in node:
        return TemplatedValue(node["$v"], known_names=CONTEXT_NAMES)
    raise ValueError(f"unknown node with keys {sorted(node)}")


# --------------------------------------------------------------------------------------------
# The cache folder


def _files(paths: Sequence[str | Path]) -> list[Path] | None:
    """The files `paths` name, as the loader reads them; None if one is missing (the loader
    reports it)."""
    files: list[Path] = []
    for entry in paths:
        path = Path(entry)
        try:
            if path.is_dir():
                found = [p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
                files.extend(sorted(found, key=lambda p: p.name))
            elif path.is_file():
                files.append(path)
            else:
                return None
        except OSError:
            return None
    return files


def _key(files: list[Path]) -> str | None:
    """The snapshot's key; None when a file or the validating code can't be read."""
    code = _code_digest()
    if code is None:
        return None
    digest = hashlib.sha256(FORMAT + code)
    for file in files:
        try:
            data = file.read_bytes()
        except OSError:
            return None
        name = str(file).encode("utf-8", "surrogateescape")
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)) + data)
    return digest.hexdigest()


@functools.cache
def _code_digest() -> bytes | None:
    code = package_sources(_VALIDATING_CODE)
    # pydantic's own version too: a new one may validate the same file differently.
    spec = importlib.util.find_spec("pydantic")
    if code is None or spec is None or spec.origin is None:
        return None  # not installed as files: no snapshots, every start validates
    try:
        version = Path(spec.origin).with_name("version.py").read_bytes()
    except OSError:
        return None
    return hashlib.sha256(code + version).digest()


def _read(key: str) -> list[Scenario] | None:
    try:
        return decode(orjson.loads((cache_dir() / f"{_PREFIX}{key}.json").read_bytes()))
    except (OSError, ValueError, LookupError, TypeError, AttributeError, TemplateCompileError):
        # Absent, or not a snapshot this code wrote (ValueError covers bad JSON): validate.
        return None


def _write(key: str, plain: dict[str, Any]) -> None:
    try:
        encoded = orjson.dumps(plain)
    except TypeError:  # a value JSON has no form for (orjson.JSONEncodeError is a TypeError)
        return
    if orjson.loads(encoded) != plain:  # dates, say, would come back as strings: not kept
        return
    folder = cache_dir()
    write_atomically(folder / f"{_PREFIX}{key}.json", encoded)
    _prune(folder)


def _prune(folder: Path) -> None:
    """Keep the newest `KEEP` snapshots: test suites load many short-lived files."""
    try:
        kept = sorted(
            (entry.stat().st_mtime, entry.path)
            for entry in os.scandir(folder)
            if entry.name.startswith(_PREFIX) and entry.name.endswith(".json")
        )
        for _, path in kept[:-KEEP]:
            os.unlink(path)
    except OSError:
        pass
