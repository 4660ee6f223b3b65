"""The recording file: a scenario (`version: 1`, `rules:` in the order they were recorded,
`embeddings: pinned:`) that `mockserver validate` accepts and a person can edit.

A request recorded again with the same match (an SDK's retry after an error, the same question
asked twice) becomes the next step of that rule's `sequence:`, so a replay answers the n-th
time as the upstream did. Each recording is written at once (atomically): an interrupted
session keeps what it got.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import yaml

from mockserver.record.redact import Redactor

HEADER = (
    "# Recorded by mockserver from {upstream}.\n"
    "# Edit freely: widen a match (equals -> contains / regex), change a reply, drop a rule.\n"
)
OUTCOMES = ("reply", "fault")
MEDIA_FOLDER = "media"  # recorded pictures, speech and videos, beside the recording


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text, so a recorded answer reads as it was written."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


class Cassette:
    def __init__(self, path: Path, redactor: Redactor, upstream: str = "the upstream") -> None:
        self.path = path
        self.redactor = redactor
        self.upstream = upstream
        self.data: dict[str, Any] = {"version": 1, "rules": []}

    @classmethod
    def open(
        cls, path: Path, redactor: Redactor, upstream: str = "the upstream", *, fresh: bool
    ) -> Cassette:
        """The file's recordings (none when `fresh` or when it does not exist yet)."""
        cassette = cls(path, redactor, upstream)
        if not fresh and path.exists():
            # Safe loader: a recording is data, never code.
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: expected a scenario mapping; got {type(data).__name__}")
            data.setdefault("version", 1)
            data.setdefault("rules", [])
            cassette.data = data
        return cassette

    @property
    def rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self.data["rules"]
        return rules

    def names(self) -> set[str]:
        return {str(rule.get("name")) for rule in self.rules}

    def add(
        self,
        name: str,
        match: dict[str, Any],
        outcome: str,
        spec: dict[str, Any],
        latency: dict[str, float | bool] | None,
    ) -> None:
        """Append a rule, or a step to the rule with the same match."""
        for rule in self.rules:
            if rule.get("match") == match:
                steps = rule.setdefault("sequence", [])
                if rule.pop("fail_times", None) is not None:
                    rule.pop("reply")  # a failed stream's text: its fault step streams the next
                for key in OUTCOMES:
                    if key in rule:
                        steps.append({key: rule.pop(key)})
                steps.append({outcome: spec})
                rule.pop("sequence")
                rule["sequence"] = steps  # after `match`, where a reader looks for it
                if latency and "latency" not in rule:
                    rule["latency"] = latency
                return
        added: dict[str, Any] = {"name": name, "match": match, outcome: spec}
        if latency:
            added["latency"] = latency
        self.rules.append(added)

    def add_failure(
        self,
        name: str,
        match: dict[str, Any],
        fault: dict[str, Any],
        partial: dict[str, Any],
        latency: dict[str, float | bool] | None,
    ) -> None:
        """A stream that failed half-way: `fail_times: 1` streams `partial` (the reply up to
        the error) and cuts it with `fault`; a later request with the same match is a step."""
        if any(rule.get("match") == match for rule in self.rules):
            self.add(name, match, "fault", fault, latency)
            return
        added: dict[str, Any] = {"name": name, "match": match, "fail_times": 1}
        added |= {"fault": fault, "reply": partial}
        if latency:
            added["latency"] = latency
        self.rules.append(added)

    def task_slot(self, name: str, match: dict[str, Any]) -> tuple[str, int | None]:
        """Where a new task goes: its own rule (`name`, None), or, when a task rule has the
        same match (the same submission again), the next step of that rule's `sequence`, so
        that a replay answers the n-th submission with the n-th task."""
        for rule in self.rules:
            if rule.get("match") != match:
                continue
            if "task" in rule:
                rule["sequence"] = [{"task": rule.pop("task")}]
            elif not all("task" in step for step in rule.get("sequence") or [{}]):
                continue  # replies or faults: a rule of their own follows
            rule["sequence"].append({"task": {}})
            return str(rule["name"]), len(rule["sequence"]) - 1
        return name, None

    def put_task(
        self, name: str, match: dict[str, Any], task: dict[str, Any], step: int | None = None
    ) -> None:
        """A recorded task's rule (or its `step` of the rule's sequence), added or (as its
        polls show more) rewritten in place."""
        for rule in self.rules:
            if rule.get("name") == name:
                if step is None:
                    rule["task"] = task
                else:
                    rule["sequence"][step] = {"task": task}
                return
        self.rules.append({"name": name, "match": match, "task": task})

    def keep(self, data: bytes, extension: str) -> str:
        """Write a recorded file beside the recording (`media/<sha256>.<ext>`), atomically;
        the path relative to the recording, as a rule's `file:` names it."""
        relative = f"{MEDIA_FOLDER}/{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
        target = self.path.parent / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, target)
        return relative

    def pin(self, text: str, vector: list[float]) -> None:
        pinned = self.data.setdefault("embeddings", {}).setdefault("pinned", {})
        pinned[text] = vector

    def pinned(self) -> dict[str, Any]:
        pinned: dict[str, Any] = (self.data.get("embeddings") or {}).get("pinned") or {}
        return pinned

    def text(self) -> str:
        body = yaml.dump(self.data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        return self.redactor.scrub(HEADER.format(upstream=self.upstream) + body)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(self.text(), encoding="utf-8")
        os.replace(partial, self.path)
