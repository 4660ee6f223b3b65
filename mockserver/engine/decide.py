"""The scenario engine: which rule answers a request, and the neutral reply it gives.

`decide()` is cheap and stateless except for three documented counters, all keyed on request
content so parallel clients don't disturb each other, and kept on the server's store so every
worker process counts alike (`mockserver.engine.counters`):
- occurrences of the same request (its canonical body): they make repeated identical requests
  get fresh ids, deterministically;
- sequence cursors, one per (rule, conversation), the conversation being identified by its
  system prompt and first user message;
- fault attempts per retry group (same canonical body), for `fail_times`.

It also holds what else a scenario declares per request: seeded `chaos:` (drawn per retry group
and occurrence) and the `rate_limits:` buckets. A fault forced on one request (the
`x-mock-fault` header) or drawn by chaos replaces the matched rule's outcome and leaves its
counters alone; a fault that still needs a reply (a cut stream, a slow or content-filtered
answer) gets the rule's reply.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, NamedTuple

import orjson
from msgspec import Struct, field
from msgspec.structs import replace

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.fifo import FifoMap
from mockserver.core.reply import Reply
from mockserver.engine.counters import Counters, key_of
from mockserver.scenario import CompiledRule, NearMiss, ScenarioSet, near_misses

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.faults.chaos import Chaos
    from mockserver.gateway.ratelimit import RateLimiter
    from mockserver.scenario import FaultSpec, LatencySpec, ReplySpec
    from mockserver.scenario.outcomes import TaskSpec
    from mockserver.tokens.tokenizer import Tokenizer

# Retry groups whose hashed key prefix is kept (`Engine.stamp`): as many as the memo keeps requests.
KEY_PREFIXES = 1024
FINGERPRINTS = 256  # models whose system fingerprint is kept (unknown model names are accepted)


class Stamp(NamedTuple):
    """What makes one occurrence of a request unique: the key every id and fake word of its
    reply derives from, its `created` time, and the model's system fingerprint."""

    occurrence: int  # 0 the first time the retry group is seen
    key: str
    created: int
    fingerprint: str


class Decision(Struct):
    """What the engine chose for one request, before any content is generated."""

    key: str  # seeds every id and fake word of the reply
    created: int
    fingerprint: str
    retry_group: str
    rule: str | None = None
    reply: ReplySpec | None = None  # None with no fault: the built-in default reply
    fault: FaultSpec | None = None
    variables: dict[str, str] = field(default_factory=dict)
    near_misses: list[NearMiss] = field(default_factory=list)
    attempt: int = 0  # 1-based attempt number within the retry group
    fault_source: str | None = None  # "rule", "chaos[i]" or "header", with `fault`
    latency: LatencySpec | None = None  # the matched rule's
    task: TaskSpec | None = None  # the matched rule's task script (task submissions)
    # The outcome is the rule's plain reply, which doesn't depend on how often the request or
    # its conversation was seen (no sequence step, no attempt count, no fault).
    same_every_time: bool = False


class Engine:
    def __init__(
        self,
        scenarios: ScenarioSet,
        *,
        seed: int | None = None,
        strict: bool | None = None,
        counters: Counters | None = None,
    ) -> None:
        self.rules: tuple[CompiledRule, ...] = scenarios.rules
        self.seed = scenarios.seed if seed is None else seed
        self.strict = scenarios.strict if strict is None else strict
        self.clock = scenarios.clock
        self.counters = counters if counters is not None else Counters()
        self._lock = threading.Lock()
        # Caches of what the seed and a name always give: per process, bounded.
        self._fingerprints: FifoMap[str, str] = FifoMap(FINGERPRINTS)
        self._key_prefixes: FifoMap[str, ids.DigestPrefix] = FifoMap(KEY_PREFIXES)
        # Chaos and rate limits, and their modules, only for scenarios that declare them.
        self.chaos: Chaos | None = None
        self.rate_limiter: RateLimiter | None = None
        if scenarios.chaos:
            from mockserver.faults.chaos import Chaos

            self.chaos = Chaos(scenarios.chaos, self.seed)
        if scenarios.rate_limits:
            from mockserver.gateway.ratelimit import RateLimiter

            self.rate_limiter = RateLimiter(
                scenarios.rate_limits, self.clock, table=self.counters.buckets
            )

    def reset(self) -> None:
        """Forget every count: occurrences, sequence cursors, attempts, rate-limit buckets."""
        self.counters.clear()

    def names(self, exchange: Exchange) -> bool:
        """Whether a rule that names models (`match: model`) matches the request: such a rule
        answers a model even a strict catalog doesn't list."""
        return any(
            rule.spec.match.model is not None and rule.matcher.match(exchange) is not None
            for rule in self.rules
        )

    def occurrence(self, content: object) -> int:
        """How often this content was seen before (0 the first time); counts it."""
        return self.counters.next_occurrence(ids.digest(content))

    @property
    def replays_statically(self) -> bool:
        """Whether a rule's plain reply is the same on every occurrence of a request: nothing
        drawn per occurrence (chaos) or taken per request (rate limits) can change it."""
        return self.chaos is None and self.rate_limiter is None

    def stamp(self, group: str, model: str) -> Stamp:
        """Count one more occurrence of the retry group `group` and stamp it."""
        occurrence = self.counters.next_occurrence(group)
        with self._lock:
            prefix = self._key_prefixes.get(group)
            if prefix is None:
                prefix = ids.DigestPrefix(self.seed, group)
                self._key_prefixes.put(group, prefix)
            fingerprint = self._fingerprints.get(model)
            if fingerprint is None:
                fingerprint = "fp_" + ids.hexchars(ids.digest(self.seed, model), "fp", 10)
                self._fingerprints.put(model, fingerprint)
        key = prefix.digest(occurrence)  # = ids.digest(self.seed, group, occurrence)
        return Stamp(occurrence, key, self.clock + occurrence, fingerprint)

    def decide(
        self,
        exchange: Exchange,
        forced: FaultSpec | None = None,
        group: str | None = None,
        misses: list[NearMiss] | None = None,
    ) -> Decision:
        """The rule that answers and its outcome; `forced` (the `x-mock-fault` header) and a
        chaos draw replace the outcome. `group` (the exchange's retry group) and `misses` (its
        near misses when no rule matches) are passed when the caller already knows them: with
        `misses`, no rule is tried (matching depends on the exchange alone)."""
        group = group or retry_group(exchange)
        stamp = self.stamp(group, exchange.model)
        occurrence = stamp.occurrence
        decision = Decision(
            key=stamp.key, created=stamp.created, fingerprint=stamp.fingerprint, retry_group=group
        )
        imposed, source = forced, "header"
        if imposed is None and self.chaos is not None:
            hit = self.chaos.draw(exchange, group, occurrence)
            if hit is not None:
                imposed, source = hit.fault, f"chaos[{hit.index}]"
        for rule in self.rules if misses is None else ():
            variables = rule.matcher.match(exchange)
            if variables is None:
                continue
            decision.rule = rule.name
            decision.variables = variables
            decision.latency = rule.latency
            if imposed is None:
                self._choose_action(rule, exchange, decision)
            else:
                decision.fault, decision.fault_source = imposed, source
                decision.reply = reply_of(rule)
            return decision
        decision.near_misses = near_misses(self.rules, exchange) if misses is None else misses
        if imposed is not None:
            decision.fault, decision.fault_source = imposed, source
        elif self.strict:
            raise strict_miss(decision.near_misses)
        return decision

    def _choose_action(self, rule: CompiledRule, exchange: Exchange, decision: Decision) -> None:
        """Pick the rule's outcome: a sequence advances per conversation, `fail_times` counts
        attempts per retry group, anything else is the same every time; a task rule answers a
        task submission with its script (`mockserver.tasks`)."""
        if rule.kind == "task":
            decision.task = rule.spec.task
            return
        occurrence = 0
        if rule.kind == "sequence":
            counter = self.counters.cursors
            counter_key = key_of(rule.name, conversation_id(exchange))
        elif rule.kind == "fail_times":
            counter, counter_key = self.counters.attempts, key_of(rule.name, decision.retry_group)
        else:
            counter = None
        if counter is not None:
            occurrence = counter.incr(counter_key) - 1
        decision.attempt = occurrence + 1
        outcome = rule.step(occurrence)
        from mockserver.scenario.outcomes import FaultSpec, TaskSpec  # loaded with the rules

        if isinstance(outcome, TaskSpec):  # the n-th of identical task submissions
            decision.task = outcome
        elif isinstance(outcome, FaultSpec):
            decision.fault, decision.fault_source = outcome, "rule"
            decision.reply = reply_of(rule)  # for a fault that cuts or slows a reply
        else:
            decision.reply = outcome
            decision.same_every_time = counter is None

    def compose(
        self,
        decision: Decision,
        exchange: Exchange,
        model: ModelInfo,
        tokenizer: Tokenizer,
        prompt_tokens: int,
        *,
        implicit_reasoning: bool,
    ) -> Reply:
        from mockserver.engine.compose import build_choices
        from mockserver.engine.shaping import shape, usage_of

        choices = build_choices(decision, exchange, model, tokenizer, implicit_reasoning)
        shape(choices, exchange, tokenizer)
        usage = usage_of(choices, prompt_tokens)
        stated = decision.reply.usage if decision.reply is not None else None
        if stated is not None:  # a recorded reply reports the counts the vendor reported
            usage = replace(usage, **stated.model_dump(exclude_none=True))
        return Reply(
            choices=choices,
            key=decision.key,
            created=decision.created,
            fingerprint=decision.fingerprint,
            usage=usage,
            rule=decision.rule,
        )


def reply_of(rule: CompiledRule) -> ReplySpec | None:
    """The reply a rule gives when it gives one: its `reply`, else its sequence's first reply
    step (None: the built-in default)."""
    if rule.reply is not None:
        return rule.reply
    for step in rule.sequence or ():
        if step.reply is not None:
            return step.reply
    return None


def retry_group(exchange: Exchange) -> str:
    """Requests with the same endpoint and canonical body: an SDK's retries of one call."""
    return ids.digest(exchange.endpoint, orjson.dumps(exchange.body, option=orjson.OPT_SORT_KEYS))


def conversation_id(exchange: Exchange) -> str:
    """A conversation is known by its system prompt and its first user message."""
    first_user = next((m.text for m in exchange.messages if m.role == "user"), "")
    return ids.digest(exchange.system, first_user)


def strict_miss(misses: list[NearMiss]) -> APIError:
    if not misses:
        detail = "the scenarios have no rules"
    else:
        detail = "nearest rules: " + "; ".join(
            f"'{m.rule_name}' failed on " + ", ".join(m.failed) for m in misses
        )
    return APIError(
        400,
        f"mockserver (strict mode): no scenario rule matches this request; {detail}",
        type="invalid_request_error",
        code="mock_no_matching_rule",
    )
