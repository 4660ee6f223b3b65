"""Scenario files: the YAML format (`model`, with `predicates` for `match:` and `outcomes` for
replies, faults and latency), loading with located errors (`loader`, `issues`), the loaded set
(`scenario_set`), request matching (`matching`) and what reply templates see
(`render_context`: `template_context`). `template_context` is not a module name: importing
a submodule binds its name on the package, which would hide the function of that name.

    scenarios = load_paths(["scenarios/"])
    found = scenarios.first_match(exchange)
    if found:
        rule, variables = found
        outcome = rule.step(occurrence)           # ReplySpec or FaultSpec
        context = template_context(exchange, variables)

Names load with their module on first use: the models and the loader import pydantic and
PyYAML, which a server or a pytest session without scenario files never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.scenario.issues import ScenarioError, ScenarioIssue
    from mockserver.scenario.loader import load_data, load_text
    from mockserver.scenario.matching import Matcher, NearMiss, near_misses
    from mockserver.scenario.model import ChaosEntry, ModelEntry, RateLimit, Rule, Scenario
    from mockserver.scenario.outcomes import (
        ChoiceSpec,
        Distribution,
        FakeTokens,
        FaultSpec,
        LatencySpec,
        ReplySpec,
        Step,
        ToolCallSpec,
        UsageSpec,
    )
    from mockserver.scenario.predicates import Match
    from mockserver.scenario.render_context import template_context
    from mockserver.scenario.scenario_set import CompiledRule, ScenarioSet, load_paths

_MODULE_OF = {
    "ScenarioError": "issues",
    "ScenarioIssue": "issues",
    "load_data": "loader",
    "load_paths": "scenario_set",
    "load_text": "loader",
    "Matcher": "matching",
    "NearMiss": "matching",
    "near_misses": "matching",
    "ChaosEntry": "model",
    "ModelEntry": "model",
    "RateLimit": "model",
    "Rule": "model",
    "Scenario": "model",
    "ChoiceSpec": "outcomes",
    "Distribution": "outcomes",
    "FakeTokens": "outcomes",
    "FaultSpec": "outcomes",
    "LatencySpec": "outcomes",
    "ReplySpec": "outcomes",
    "Step": "outcomes",
    "ToolCallSpec": "outcomes",
    "UsageSpec": "outcomes",
    "Match": "predicates",
    "CompiledRule": "scenario_set",
    "ScenarioSet": "scenario_set",
    "template_context": "render_context",
}

__all__ = [
    "ChaosEntry",
    "ChoiceSpec",
    "CompiledRule",
    "Distribution",
    "FakeTokens",
    "FaultSpec",
    "LatencySpec",
    "Match",
    "Matcher",
    "ModelEntry",
    "NearMiss",
    "RateLimit",
    "ReplySpec",
    "Rule",
    "Scenario",
    "ScenarioError",
    "ScenarioIssue",
    "ScenarioSet",
    "Step",
    "ToolCallSpec",
    "UsageSpec",
    "load_data",
    "load_paths",
    "load_text",
    "near_misses",
    "template_context",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found directly from now on
    return value
