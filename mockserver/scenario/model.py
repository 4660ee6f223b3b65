"""Scenario format v1: the file (`Scenario`), its rules and its catalog, chaos, rate-limit,
embedding and moderation entries, as typed, frozen pydantic models.

A rule pairs a `Match` (`predicates`) with an outcome (`outcomes`); `spec` holds the shared
base model and field types.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PositiveInt, PrivateAttr, field_validator, model_validator

from mockserver.scenario.gateway import GatewaySpec
from mockserver.scenario.outcomes import FaultSpec, LatencySpec, ReplySpec, Step, TaskSpec
from mockserver.scenario.predicates import Match
from mockserver.scenario.scenario_set import DEFAULT_CLOCK
from mockserver.scenario.spec import Spec, shape_error

if TYPE_CHECKING:
    from mockserver.engine.content.embeddings import EmbeddingRules

SUPPORTED_VERSION = 1
Encoding = Literal["o200k_base", "cl100k_base"]
RuleKind = Literal["reply", "sequence", "fault", "fail_times", "task"]


OUTCOMES = ("reply", "sequence", "fault", "task")


class Rule(Spec):
    name: Annotated[str, Field(min_length=1)]
    match: Match = Field(default_factory=Match)
    reply: ReplySpec | None = None
    sequence: Annotated[list[Step], Field(min_length=1)] | None = None
    fault: FaultSpec | None = None
    fail_times: PositiveInt | None = None
    latency: LatencySpec | None = None
    task: TaskSpec | None = None  # answers a task submission (video, Midjourney, Suno)

    @model_validator(mode="after")
    def _one_outcome(self) -> Rule:
        given = [k for k in OUTCOMES if getattr(self, k) is not None]
        if self.fail_times is not None:
            if given != ["reply", "fault"]:
                raise ValueError(
                    "fail_times needs fault (what the first N requests get) and reply (what "
                    f"comes after), and no sequence; got {' and '.join(given) or 'neither'}"
                )
        elif len(given) != 1:
            raise ValueError(
                "a rule needs exactly one of reply, sequence, fault, task (or fault + reply + "
                f"fail_times); got {' and '.join(given) or 'none'}"
            )
        return self

    @property
    def kind(self) -> RuleKind:
        if self.fail_times is not None:
            return "fail_times"
        if self.task is not None:
            return "task"
        if self.sequence is not None:
            return "sequence"
        return "fault" if self.fault is not None else "reply"

    def step(self, occurrence: int) -> ReplySpec | FaultSpec | TaskSpec:
        """What the `occurrence`-th (0-based) matching request gets.

        A sequence's last step repeats once the sequence is exhausted.
        """
        if self.sequence is not None:
            step = self.sequence[min(occurrence, len(self.sequence) - 1)]
            outcome: ReplySpec | FaultSpec | TaskSpec | None = step.reply or step.fault or step.task
        elif self.fail_times is not None:
            outcome = self.fault if occurrence < self.fail_times else self.reply
        else:
            outcome = self.reply or self.fault
        assert outcome is not None  # guaranteed by _one_outcome and Step._exactly_one
        return outcome


class ModelEntry(Spec):
    """An extra entry for the model catalog (`/v1/models`, limits, tokenizer)."""

    id: Annotated[str, Field(min_length=1)]
    owned_by: str = "mockserver"
    context_window: PositiveInt = 128000
    max_output_tokens: PositiveInt = 16384
    encoding: Encoding = "o200k_base"
    reasoning: bool = False
    # Thinks on a request that doesn't ask; absent: as `reasoning` says.
    reasons_by_default: bool | None = None
    latency: LatencySpec | None = None  # paces every answer of this model


class ChaosEntry(Spec):
    """Inject `fault` into a seeded `probability` share of the requests `match` selects."""

    probability: Annotated[float, Field(ge=0, le=1)]
    fault: FaultSpec
    match: Match = Field(default_factory=Match)


class RateLimit(Spec):
    """Requests / tokens per minute, per API key glob and model glob (absent = any)."""

    key: str | None = None
    model: str | None = None
    rpm: PositiveInt | None = None
    tpm: PositiveInt | None = None

    @model_validator(mode="after")
    def _has_limit(self) -> RateLimit:
        if self.rpm is None and self.tpm is None:
            raise ValueError("a rate limit needs rpm, tpm or both")
        return self


class NearTexts(Spec):
    """Two texts whose embeddings have exactly this cosine similarity (the second is derived
    from the first)."""

    texts: Annotated[list[str], Field(min_length=2, max_length=2)]
    similarity: Annotated[float, Field(ge=-1, le=1)]


class EmbeddingsSpec(Spec):
    """Embedding vectors a scenario fixes: exact ones, and neighbours at a chosen similarity."""

    pinned: dict[str, Annotated[list[float], Field(min_length=1)]] = Field(default_factory=dict)
    near: list[NearTexts] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> EmbeddingsSpec:
        self.rules()
        return self

    def rules(self) -> EmbeddingRules:
        """The embedder's rules; raises ValueError (EmbeddingRuleError) for cycles and clashes."""
        from mockserver.engine.content.embeddings import EmbeddingRules, Near

        return EmbeddingRules(
            pinned={text: tuple(vector) for text, vector in self.pinned.items()},
            near=tuple(Near(n.texts[0], n.texts[1], n.similarity) for n in self.near),
        )


class ModerationFlag(Spec):
    """Inputs containing `contains` (case-insensitive) are flagged in `categories`."""

    contains: Annotated[str, Field(min_length=1)]
    categories: Annotated[list[str], Field(min_length=1)]

    @model_validator(mode="after")
    def _known_categories(self) -> ModerationFlag:
        from mockserver.protocols.openai.moderations import FlagRule

        FlagRule(self.contains, tuple(self.categories))  # raises naming the nearest category
        return self


class Scenario(Spec):
    version: int
    seed: int = 0
    clock: int = DEFAULT_CLOCK
    strict: bool = False
    # "strict": a model the catalog doesn't list gets the vendor's 404 (default: served as its
    # family's model); "strict" validation: unknown request fields get the vendor's 400.
    catalog: Literal["open", "strict"] = "open"
    validation: Literal["lenient", "strict"] = "lenient"
    # Default pacing when the server sets none: "recorded" applies `latency: {recorded: true}`.
    latency: Literal["none", "realistic", "recorded"] | None = None
    models: list[ModelEntry] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    chaos: list[ChaosEntry] = Field(default_factory=list)
    rate_limits: list[RateLimit] = Field(default_factory=list)
    embeddings: EmbeddingsSpec = Field(default_factory=EmbeddingsSpec)
    moderation: list[ModerationFlag] = Field(default_factory=list)
    gateway: GatewaySpec | None = None  # keys, quotas and billing (mockserver.gateway)

    # Set by the loader: where the scenario came from, and how to find a key path's line.
    _source: str = PrivateAttr(default="<data>")
    _locate: Callable[[tuple[str | int, ...]], tuple[int, int]] | None = PrivateAttr(default=None)

    @field_validator("version")
    @classmethod
    def _supported(cls, version: int) -> int:
        if version != SUPPORTED_VERSION:
            raise ValueError(
                f"unsupported scenario version {version}: this mockserver reads version "
                f"{SUPPORTED_VERSION} only; write `version: {SUPPORTED_VERSION}` and the v1 keys "
                f"({', '.join(cls.accepted_keys())}), or upgrade mockserver"
            )
        return version

    @field_validator("clock", mode="before")
    @classmethod
    def _unix_seconds(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise shape_error(
                    "expected unix seconds or an ISO-8601 datetime like 2025-01-01T00:00:00Z"
                ) from None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            return int(aware.timestamp())
        return value

    @property
    def source(self) -> str:
        return self._source

    def location(self, path: tuple[str | int, ...]) -> tuple[int | None, int | None]:
        """1-based (line, column) of a key path such as `("rules", 2, "reply")` in the YAML
        source (or of its deepest existing parent); (None, None) for data not read from YAML."""
        return self._locate(path) if self._locate is not None else (None, None)
