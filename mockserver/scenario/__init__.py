"""Scenario files: the YAML format (`model`, with `predicates` for `match:` and `outcomes` for
replies, faults and latency), loading with located errors (`loader`, `issues`), the loaded set
(`scenario_set`), request matching (`matching`) and what reply templates see
(`template_context`).

    scenarios = load_paths(["scenarios/"])
    found = scenarios.first_match(exchange)
    if found:
        rule, variables = found
        outcome = rule.step(occurrence)           # ReplySpec or FaultSpec
        context = template_context(exchange, variables)
"""

from __future__ import annotations

from mockserver.scenario.issues import ScenarioError, ScenarioIssue
from mockserver.scenario.loader import load_data, load_paths, load_text
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
)
from mockserver.scenario.predicates import Match
from mockserver.scenario.scenario_set import CompiledRule, ScenarioSet
from mockserver.scenario.template_context import template_context

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
