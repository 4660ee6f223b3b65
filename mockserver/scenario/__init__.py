"""Scenario files: the YAML format (`model`), loading with located errors (`loader`) and
request matching (`matching`).

    scenarios = load_paths(["scenarios/"])
    found = scenarios.first_match(exchange)
    if found:
        rule, variables = found
        outcome = rule.step(occurrence)           # ReplySpec or FaultSpec
        context = template_context(exchange, variables)
"""

from __future__ import annotations

from mockserver.scenario.loader import (
    CompiledRule,
    ScenarioError,
    ScenarioIssue,
    ScenarioSet,
    load_data,
    load_paths,
    load_text,
)
from mockserver.scenario.matching import Matcher, NearMiss, near_misses, template_context
from mockserver.scenario.model import (
    ChaosEntry,
    ChoiceSpec,
    Distribution,
    FakeTokens,
    FaultSpec,
    LatencySpec,
    Match,
    ModelEntry,
    RateLimit,
    ReplySpec,
    Rule,
    Scenario,
    Step,
    ToolCallSpec,
)

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
    "load_data",
    "load_paths",
    "load_text",
    "near_misses",
    "template_context",
]
