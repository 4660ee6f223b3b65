"""Scenarios loaded together and ready to serve: `ScenarioSet` and its `CompiledRule`s."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

from mockserver.core.exchange import Exchange
from mockserver.scenario.issues import ScenarioError, ScenarioIssue, duplicate_names
from mockserver.scenario.matching import Matcher, NearMiss, Variables, near_misses

if TYPE_CHECKING:  # the validated models: a set is built from them, never imports them
    from mockserver.core.catalog import ModelInfo
    from mockserver.engine.content.embeddings import EmbeddingRules
    from mockserver.protocols.openai.moderations import ModerationRules
    from mockserver.scenario.gateway import GatewaySpec
    from mockserver.scenario.model import (
        ChaosEntry,
        ModelEntry,
        RateLimit,
        Rule,
        RuleKind,
        Scenario,
    )
    from mockserver.scenario.outcomes import FaultSpec, LatencySpec, ReplySpec, Step, TaskSpec


def load_paths(paths: Sequence[str | Path]) -> ScenarioSet:
    """Load files, and the `*.yaml` / `*.yml` files of directories (sorted by name), in order:
    a complete `ScenarioSet`, or `ScenarioError` listing every issue of every file.

    `seed`, `clock` and `strict` of the set come from the first file; rules keep file order.
    With no paths, the empty set (and pydantic is not imported).
    """
    if not paths:
        return ScenarioSet()
    from mockserver.scenario.loader import validate_paths

    return ScenarioSet.build(validate_paths(paths))


DEFAULT_CLOCK = 1735689600  # 2025-01-01T00:00:00Z: `created` of the first occurrence


class CompiledRule(Struct, frozen=True):
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

    def step(self, occurrence: int) -> ReplySpec | FaultSpec | TaskSpec:
        return self.spec.step(occurrence)

    def match(self, exchange: Exchange) -> Variables | None:
        return self.matcher.match(exchange)


class ScenarioSet(Struct, frozen=True):
    """Scenarios loaded together. `seed`, `clock` and `strict` are the first scenario's (the
    defaults when there is none); `rules`, `models`, `chaos` and `rate_limits` concatenate
    every scenario's, in load order. `strict_catalog` and `strict_validation` hold when any
    scenario asks for them (`catalog: strict`, `validation: strict`)."""

    scenarios: tuple[Scenario, ...] = ()
    rules: tuple[CompiledRule, ...] = ()
    models: tuple[ModelEntry, ...] = ()
    chaos: tuple[ChaosEntry, ...] = ()
    rate_limits: tuple[RateLimit, ...] = ()
    seed: int = 0
    clock: int = DEFAULT_CLOCK
    strict: bool = False
    strict_catalog: bool = False
    strict_validation: bool = False
    latency: str | None = None  # the first scenario's `latency:` that says one
    # None when no scenario pins embeddings or flags moderations (their modules stay unloaded)
    embedding_rules: EmbeddingRules | None = None
    moderation_rules: ModerationRules | None = None
    gateway: GatewaySpec | None = None  # the one scenario's `gateway:` that declares one

    @classmethod
    def build(cls, scenarios: Sequence[Scenario]) -> ScenarioSet:
        """Combine validated scenarios; raises `ScenarioError` on duplicate names or ids."""
        duplicates = duplicate_names([(s.source, _names(s), s.location) for s in scenarios])
        if duplicates:
            raise ScenarioError(duplicates)
        rules: list[CompiledRule] = []
        for scenario in scenarios:
            for number, rule in enumerate(scenario.rules):
                line, column = scenario.location(("rules", number))
                compiled = CompiledRule(
                    rule,
                    Matcher(rule.match, f"rule {rule.name!r}"),
                    scenario.source,
                    line,
                    column,
                    scenario.seed,
                    len(rules),
                )
                rules.append(compiled)
        first = scenarios[0] if scenarios else None
        return cls(
            scenarios=tuple(scenarios),
            rules=tuple(rules),
            models=tuple(m for s in scenarios for m in s.models),
            chaos=tuple(c for s in scenarios for c in s.chaos),
            rate_limits=tuple(r for s in scenarios for r in s.rate_limits),
            seed=first.seed if first else 0,
            clock=first.clock if first else DEFAULT_CLOCK,
            strict=first.strict if first else False,
            strict_catalog=any(s.catalog == "strict" for s in scenarios),
            strict_validation=any(s.validation == "strict" for s in scenarios),
            latency=next((s.latency for s in scenarios if s.latency is not None), None),
            embedding_rules=_embedding_rules(scenarios),
            moderation_rules=_moderation_rules(scenarios),
            gateway=_gateway(scenarios),
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
        from msgspec.structs import replace

        from mockserver.core.catalog import model_from_mapping

        infos = []
        for scenario in self.scenarios:
            for index, entry in enumerate(scenario.models):
                data = entry.model_dump()
                data["latency"] = None  # validated with the scenario: kept as it is
                if data.get("reasons_by_default") is None:
                    data["reasons_by_default"] = data.get("reasoning", False)
                info = model_from_mapping(data, f"{scenario.source} models[{index}]")
                infos.append(replace(info, latency=entry.latency))
        return infos

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


def _embedding_rules(scenarios: Sequence[Scenario]) -> EmbeddingRules | None:
    """The scenarios' embeddings rules together; raises `ScenarioError` when they clash."""
    if not any(s.embeddings.pinned or s.embeddings.near for s in scenarios):
        return None
    from mockserver.engine.content.embeddings import EmbeddingRuleError, EmbeddingRules

    try:
        return EmbeddingRules(
            pinned={k: v for s in scenarios for k, v in s.embeddings.rules().pinned.items()},
            near=tuple(n for s in scenarios for n in s.embeddings.rules().near),
        )
    except EmbeddingRuleError as error:  # a clash between files; each file alone is valid
        sources = ", ".join(s.source for s in scenarios)
        issue = ScenarioIssue(sources, None, None, "embeddings", str(error))
        raise ScenarioError([issue]) from None


def _moderation_rules(scenarios: Sequence[Scenario]) -> ModerationRules | None:
    flags = [(f.contains, tuple(f.categories)) for s in scenarios for f in s.moderation]
    if not flags:
        return None
    from mockserver.protocols.openai.moderations import FlagRule, ModerationRules

    return ModerationRules(tuple(FlagRule(contains, categories) for contains, categories in flags))


def _gateway(scenarios: Sequence[Scenario]) -> GatewaySpec | None:
    """The `gateway:` section; `ScenarioError` when more than one file declares one (one
    gateway has one set of users and keys)."""
    declaring = [s for s in scenarios if s.gateway is not None]
    if len(declaring) > 1:
        first, second = declaring[0], declaring[1]
        line, column = second.location(("gateway",))
        message = (
            f"a second gateway section (the first is in {first.source}); "
            "declare users, keys and prices in one file"
        )
        raise ScenarioError([ScenarioIssue(second.source, line, column, "gateway", message)])
    if not declaring:
        return None
    scenario = declaring[0]
    assert scenario.gateway is not None
    issues = []
    for path, message in scenario.gateway.reference_issues():
        line, column = scenario.location(path)
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)[1:]
        issues.append(ScenarioIssue(scenario.source, line, column, where, message))
    if issues:
        raise ScenarioError(issues)
    return scenario.gateway


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _names(scenario: Scenario) -> dict[str, list[dict[str, str]]]:
    return {
        "rules": [{"name": rule.name} for rule in scenario.rules],
        "models": [{"id": model.id} for model in scenario.models],
    }
