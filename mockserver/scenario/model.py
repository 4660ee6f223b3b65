"""Scenario format v1 as typed, frozen pydantic models.

Every field is named exactly as its YAML key (`json` is the one exception: `json_` in Python,
because `json` shadows a pydantic method). Shorthands are normalised here, once:
`last_user: "hi"` becomes `TextMatch(contains="hi")`, `model: gpt-4o` becomes `["gpt-4o"]`.
Templates and regexes are compiled while validating, so a bad one is a load error.

Union-typed keys use a callable discriminator whose tags are written `<like-this>` so the loader
can tell them from YAML keys when it maps an error back to a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PlainSerializer,
    PlainValidator,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mockserver.exchange import ResponseFormatType
from mockserver.reply import FinishReason

if TYPE_CHECKING:
    from mockserver.embeddings import EmbeddingRules

from mockserver.templating import CONTEXT_NAMES, Template, TemplatedValue, compile_template

DEFAULT_CLOCK = 1735689600  # 2025-01-01T00:00:00Z
SUPPORTED_VERSION = 1

Preset = Literal[
    "rate_limit",
    "overloaded",
    "server_error",
    "invalid_key",
    "insufficient_quota",
    "context_length",
    "content_filter",
]
Connection = Literal["empty_response", "reset", "garbage", "hang"]
Encoding = Literal["o200k_base", "cl100k_base"]
ToolChoiceWord = Literal["auto", "none", "required"]


class Spec(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are never coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _record_owner(cls, data: Any, info: ValidationInfo) -> Any:
        # The loader reads this map to list the valid keys next to an unknown one.
        if isinstance(data, dict) and isinstance(info.context, dict):
            info.context.setdefault("owners", {})[id(data)] = cls
        return data

    @classmethod
    def accepted_keys(cls) -> list[str]:
        """The YAML keys this model accepts, in declaration order."""
        return [field.alias or name for name, field in cls.model_fields.items()]


def _shape(expected: str) -> PydanticCustomError:
    return PydanticCustomError("shape", expected)


def _either(tagger: Any, expected: str) -> Discriminator:
    return Discriminator(tagger, custom_error_type="shape", custom_error_message=expected)


# Taggers see YAML values when validating and model instances when serialising.
def _is_mapping(value: Any) -> bool:
    return isinstance(value, dict | BaseModel)


def _str_or_mapping(value: Any) -> str | None:
    if isinstance(value, str | Template):
        return "<str>"
    return "<mapping>" if _is_mapping(value) else None


def _int_or_mapping(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return "<int>"
    return "<mapping>" if _is_mapping(value) else None


def _number_or_mapping(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "<number>"
    return "<mapping>" if _is_mapping(value) else None


def _template(value: Any) -> Template:
    if not isinstance(value, str):
        raise _shape("expected a string")
    return compile_template(value, known_names=CONTEXT_NAMES)


def _templated(value: Any) -> TemplatedValue:
    return TemplatedValue(value, known_names=CONTEXT_NAMES)


def _templated_mapping(value: Any) -> TemplatedValue:
    if not isinstance(value, dict):
        raise _shape("expected a mapping of argument names to values")
    return _templated(value)


def _source_of(value: Template | TemplatedValue) -> Any:
    return value.source if isinstance(value, Template) else value.value


TemplateText = Annotated[Template, PlainValidator(_template), PlainSerializer(_source_of)]
TemplatedAny = Annotated[TemplatedValue, PlainValidator(_templated), PlainSerializer(_source_of)]
TemplatedMapping = Annotated[
    TemplatedValue, PlainValidator(_templated_mapping), PlainSerializer(_source_of)
]


def _headers(value: Any) -> Any:
    # `retry-after: 5` is natural YAML; headers are strings on the wire.
    if isinstance(value, dict):
        return {
            str(k): str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for k, v in value.items()
        }
    return value


# ---------------------------------------------------------------------------------------------
# Match


class TextMatch(Spec):
    """`"hi"` (contains) or exactly one of `contains` / `equals` / `regex`."""

    contains: str | None = None
    equals: str | None = None
    regex: str | None = None
    ignore_case: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"contains": data}
        if not isinstance(data, dict):
            raise _shape("expected a string or a mapping with one of contains, equals, regex")
        return data

    @field_validator("regex")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex: {exc.msg} at position {exc.pos}") from exc
        return pattern

    @model_validator(mode="after")
    def _exactly_one(self) -> TextMatch:
        given = [k for k in ("contains", "equals", "regex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of contains, equals, regex; "
                f"got {' and '.join(given) or 'none'}"
            )
        return self


class ToolResultMatch(Spec):
    name: str | None = None
    call_id: str | None = None
    contains: str | None = None


class TurnRange(Spec):
    min: NonNegativeInt | None = None
    max: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TurnRange:
        if self.min is None and self.max is None:
            raise ValueError("expected min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class ToolChoiceName(Spec):
    name: str


Turn = Annotated[
    Annotated[NonNegativeInt, Tag("<int>")] | Annotated[TurnRange, Tag("<mapping>")],
    _either(_int_or_mapping, "expected an integer or {min: N, max: M}"),
]
ToolChoiceMatch = Annotated[
    Annotated[ToolChoiceWord, Tag("<str>")] | Annotated[ToolChoiceName, Tag("<mapping>")],
    _either(_str_or_mapping, "expected auto, none, required or {name: <function name>}"),
]


class Match(Spec):
    """Predicates on a request; all given ones must hold. An empty `Match` matches everything."""

    model: list[str] | None = None
    last_user: TextMatch | None = None
    any_message: TextMatch | None = None
    system: TextMatch | None = None
    tools: list[str] | None = None
    tool_choice: ToolChoiceMatch | None = None
    tool_result: ToolResultMatch | None = None
    turn: Turn | None = None
    stream: bool | None = None
    headers: dict[str, str] | None = None
    response_format: ResponseFormatType | None = None

    @field_validator("model", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if value is not None and not isinstance(value, list):
            raise _shape("expected a model name or glob, or a list of them")
        return value

    @field_validator("headers", mode="before")
    @classmethod
    def _header_strings(cls, value: Any) -> Any:
        return _headers(value)


# ---------------------------------------------------------------------------------------------
# Latency and faults


class Lognormal(Spec):
    median: PositiveFloat
    sigma: NonNegativeFloat


class Distribution(Spec):
    """A random duration in seconds, drawn from the scenario's seeded generator."""

    uniform: list[NonNegativeFloat] | None = None
    lognormal: Lognormal | None = None

    @field_validator("uniform")
    @classmethod
    def _bounds(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (len(value) != 2 or value[0] > value[1]):
            raise ValueError(f"expected [low, high] with low <= high; got {value}")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Distribution:
        if (self.uniform is None) == (self.lognormal is None):
            raise ValueError("expected exactly one of uniform, lognormal")
        return self


Duration = Annotated[
    Annotated[NonNegativeFloat, Tag("<number>")] | Annotated[Distribution, Tag("<mapping>")],
    _either(
        _number_or_mapping,
        "expected seconds (a number), {uniform: [a, b]} or {lognormal: {median: m, sigma: s}}",
    ),
]


class LatencySpec(Spec):
    """How slowly to answer: `delay` before the response, `ttft` before the first stream event,
    then `tokens_per_second` or a fixed `chunk_interval` between events, plus `jitter`."""

    delay: Duration | None = None
    ttft: Duration | None = None
    tokens_per_second: PositiveFloat | None = None
    chunk_interval: NonNegativeFloat | None = None
    jitter: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> LatencySpec:
        if not self.model_fields_set:
            raise ValueError(f"latency needs at least one of {', '.join(self.accepted_keys())}")
        return self


FAULT_EFFECTS = (
    "preset",
    "status",
    "connection",
    "latency",
    "disconnect_after",
    "truncate_after",
    "error_event_after",
    "malformed_event_at",
    "stall_after",
)


class FaultSpec(Spec):
    """An error response or a broken transport. Stream positions count events from 0."""

    preset: Preset | None = None
    status: Annotated[int, Field(ge=100, le=599)] | None = None
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    retry_after: NonNegativeFloat | None = None
    should_retry: bool | None = None
    headers: dict[str, str] | None = None
    latency: LatencySpec | None = None
    disconnect_after: NonNegativeInt | None = None
    truncate_after: NonNegativeInt | None = None
    error_event_after: NonNegativeInt | None = None
    malformed_event_at: NonNegativeInt | None = None
    stall_after: NonNegativeInt | None = None
    stall_for: NonNegativeFloat | None = None
    connection: Connection | None = None

    @field_validator("headers", mode="before")
    @classmethod
    def _header_strings(cls, value: Any) -> Any:
        return _headers(value)

    @model_validator(mode="after")
    def _has_effect(self) -> FaultSpec:
        if not any(getattr(self, key) is not None for key in FAULT_EFFECTS):
            raise ValueError(f"a fault needs at least one effect: {', '.join(FAULT_EFFECTS)}")
        if self.stall_for is not None and self.stall_after is None:
            raise ValueError("stall_for needs stall_after (the event the stream stalls at)")
        return self


# ---------------------------------------------------------------------------------------------
# Replies


class FakeTokens(Spec):
    """Generated filler text of exactly `fake_tokens` tokens (the engine writes the words)."""

    fake_tokens: NonNegativeInt


TextOrFake = Annotated[
    Annotated[TemplateText, Tag("<str>")] | Annotated[FakeTokens, Tag("<mapping>")],
    _either(_str_or_mapping, "expected a string or {fake_tokens: N}"),
]


class ToolCallSpec(Spec):
    name: str
    arguments: TemplatedMapping = Field(default_factory=lambda: TemplatedValue({}))
    id: str | None = None


class ChoiceSpec(Spec):
    """One alternative of a reply. Missing keys are left to the engine's defaults."""

    content: TextOrFake | None = None
    tool_calls: list[ToolCallSpec] = Field(default_factory=list)
    reasoning: TextOrFake | None = None
    refusal: TemplateText | None = None
    json_: TemplatedAny | None = Field(default=None, alias="json")
    finish_reason: FinishReason | None = None


class ReplySpec(ChoiceSpec):
    """A reply: one choice written inline, or `choices:` for distinct answers when n > 1."""

    choices: Annotated[list[ChoiceSpec], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _choices_alone(self) -> ReplySpec:
        fields = type(self).model_fields
        mixed = [
            fields[k].alias or k
            for k in fields
            if k != "choices" and getattr(self, k) not in (None, [])
        ]
        if self.choices is not None and mixed:
            raise ValueError(
                f"choices cannot be combined with {', '.join(mixed)}; "
                "put those keys inside each choice"
            )
        return self

    def alternatives(self) -> list[ChoiceSpec]:
        """The choices to cycle through for n > 1 (a single inline reply is one choice)."""
        return list(self.choices) if self.choices is not None else [self]


# ---------------------------------------------------------------------------------------------
# Rules and the file


class Step(Spec):
    """One step of a `sequence`: exactly one of `reply` or `fault`."""

    reply: ReplySpec | None = None
    fault: FaultSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Step:
        if (self.reply is None) == (self.fault is None):
            raise ValueError("a sequence step needs exactly one of reply, fault")
        return self


RuleKind = Literal["reply", "sequence", "fault", "fail_times"]


class Rule(Spec):
    name: Annotated[str, Field(min_length=1)]
    match: Match = Field(default_factory=Match)
    reply: ReplySpec | None = None
    sequence: Annotated[list[Step], Field(min_length=1)] | None = None
    fault: FaultSpec | None = None
    fail_times: PositiveInt | None = None
    latency: LatencySpec | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> Rule:
        given = [k for k in ("reply", "sequence", "fault") if getattr(self, k) is not None]
        if self.fail_times is not None:
            if given != ["reply", "fault"]:
                raise ValueError(
                    "fail_times needs fault (what the first N requests get) and reply (what "
                    f"comes after), and no sequence; got {' and '.join(given) or 'neither'}"
                )
        elif len(given) != 1:
            raise ValueError(
                "a rule needs exactly one of reply, sequence, fault (or fault + reply + "
                f"fail_times); got {' and '.join(given) or 'none'}"
            )
        return self

    @property
    def kind(self) -> RuleKind:
        if self.fail_times is not None:
            return "fail_times"
        if self.sequence is not None:
            return "sequence"
        return "fault" if self.fault is not None else "reply"

    def step(self, occurrence: int) -> ReplySpec | FaultSpec:
        """What the `occurrence`-th (0-based) matching request gets.

        A sequence's last step repeats once the sequence is exhausted.
        """
        if self.sequence is not None:
            step = self.sequence[min(occurrence, len(self.sequence) - 1)]
            outcome: ReplySpec | FaultSpec | None = step.reply or step.fault
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

    def rules(self) -> EmbeddingRules:
        """The embedder's rules; raises ValueError (EmbeddingRuleError) for cycles and clashes."""
        from mockserver.embeddings import EmbeddingRules, Near

        return EmbeddingRules(
            pinned={text: tuple(vector) for text, vector in self.pinned.items()},
            near=tuple(Near(n.texts[0], n.texts[1], n.similarity) for n in self.near),
        )

    @model_validator(mode="after")
    def _consistent(self) -> EmbeddingsSpec:
        self.rules()
        return self


class ModerationFlag(Spec):
    """Inputs containing `contains` (case-insensitive) are flagged in `categories`."""

    contains: Annotated[str, Field(min_length=1)]
    categories: Annotated[list[str], Field(min_length=1)]

    @model_validator(mode="after")
    def _known_categories(self) -> ModerationFlag:
        from mockserver.dialects.moderations import FlagRule

        FlagRule(self.contains, tuple(self.categories))  # raises naming the nearest category
        return self


class Scenario(Spec):
    version: int
    seed: int = 0
    clock: int = DEFAULT_CLOCK
    strict: bool = False
    models: list[ModelEntry] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    chaos: list[ChaosEntry] = Field(default_factory=list)
    rate_limits: list[RateLimit] = Field(default_factory=list)
    embeddings: EmbeddingsSpec = Field(default_factory=EmbeddingsSpec)
    moderation: list[ModerationFlag] = Field(default_factory=list)

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
                raise _shape(
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
