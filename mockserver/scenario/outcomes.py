"""What a matching request gets: a reply, a fault, how slowly, and `sequence` steps of them.

`ReplySpec` / `ChoiceSpec` write the answer (templates compiled at load), `FaultSpec` an error
response or a broken transport, `LatencySpec` the pacing; `Step` is one of a rule's `sequence:`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mockserver.core.reply import FinishReason
from mockserver.engine.content.templates import TemplatedValue
from mockserver.scenario.spec import (
    Spec,
    TemplatedAny,
    TemplatedMapping,
    TemplateText,
    discriminated,
    header_strings,
    number_or_mapping,
    str_or_mapping,
)

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
    discriminated(
        number_or_mapping,
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
    # Timing recorded from a real API (`mockserver record`): applied only when latency is on
    # (`serve --latency recorded|realistic`, a scenario's `latency:`), so a replay is fast.
    recorded: bool = False

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
        return header_strings(value)

    @model_validator(mode="after")
    def _has_effect(self) -> FaultSpec:
        if not any(getattr(self, key) is not None for key in FAULT_EFFECTS):
            raise ValueError(f"a fault needs at least one effect: {', '.join(FAULT_EFFECTS)}")
        if self.stall_for is not None and self.stall_after is None and self.connection != "hang":
            raise ValueError(
                "stall_for needs stall_after (the event the stream stalls at) or "
                "connection: hang (how long to hang)"
            )
        return self


# ---------------------------------------------------------------------------------------------
# Replies


class FakeTokens(Spec):
    """Generated filler text of exactly `fake_tokens` tokens (the engine writes the words)."""

    fake_tokens: NonNegativeInt


TextOrFake = Annotated[
    Annotated[TemplateText, Tag("<str>")] | Annotated[FakeTokens, Tag("<mapping>")],
    discriminated(str_or_mapping, "expected a string or {fake_tokens: N}"),
]


class ToolCallSpec(Spec):
    """A tool call: JSON `arguments`, or for a freeform (custom) tool its plain-text `input`."""

    name: str
    arguments: TemplatedMapping = Field(default_factory=lambda: TemplatedValue({}))
    input: TemplateText | None = None
    id: str | None = None

    @model_validator(mode="after")
    def _one_payload(self) -> ToolCallSpec:
        if self.input is not None and "arguments" in self.model_fields_set:
            raise ValueError(
                "a tool call takes arguments (a function's JSON) or input (a custom tool's "
                "text), not both"
            )
        return self


class SearchResultSpec(Spec):
    """One web page a hosted web search returns (when the request offers web search)."""

    title: str
    url: str
    snippet: str = ""


class CodeRunSpec(Spec):
    """Code a hosted code-execution tool ran (when the request offers one), and its output."""

    code: str
    output: str = ""
    outcome: Literal["ok", "failed", "deadline_exceeded"] = "ok"


class UrlFetchSpec(Spec):
    """A page a hosted URL-context tool read (when the request offers one)."""

    url: str
    status: Literal["success", "error", "paywall", "unsafe"] = "success"


class ChoiceSpec(Spec):
    """One alternative of a reply. Missing keys are left to the engine's defaults."""

    content: TextOrFake | None = None
    tool_calls: list[ToolCallSpec] = Field(default_factory=list)
    reasoning: TextOrFake | None = None
    # The reasoning is sent encrypted (Anthropic's `redacted_thinking` block), not as text.
    reasoning_redacted: bool | None = None
    refusal: TemplateText | None = None
    json_: TemplatedAny | None = Field(default=None, alias="json")
    finish_reason: FinishReason | None = None
    # What a hosted web search finds, when the request offers one (else fake results).
    web_search: list[SearchResultSpec] | None = None
    # What hosted code execution ran / URL context read (else a fake run / the prompt's URLs).
    code_execution: list[CodeRunSpec] | None = None
    url_context: list[UrlFetchSpec] | None = None
    # Image and speech endpoints: answer with this file (its path relative to the scenario
    # file), converted to the asked size and format when it differs. Checked at load.
    file: str | None = None

    @field_validator("file")
    @classmethod
    def _file_on_disk(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        from mockserver.scenario.media_files import resolve

        return resolve(value, (info.context or {}).get("base_dir"))


class UsageSpec(Spec):
    """Token counts reported instead of the computed ones (a recorded session's, say); the
    counts not given are computed as usual."""

    prompt_tokens: NonNegativeInt | None = None
    completion_tokens: NonNegativeInt | None = None
    reasoning_tokens: NonNegativeInt | None = None


class ReplySpec(ChoiceSpec):
    """A reply: one choice written inline, or `choices:` for distinct answers when n > 1."""

    choices: Annotated[list[ChoiceSpec], Field(min_length=1)] | None = None
    usage: UsageSpec | None = None

    @model_validator(mode="after")
    def _choices_alone(self) -> ReplySpec:
        fields = type(self).model_fields
        mixed = [
            fields[k].alias or k
            for k in fields
            if k not in ("choices", "usage") and getattr(self, k) not in (None, [])
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
# Sequence steps


# ---------------------------------------------------------------------------------------------
# Async tasks (video, Midjourney, Suno): how a submitted task lives


TaskStatus = Literal["NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS"]


class TaskStageSpec(Spec):
    """One stage a task passes through: its status, the progress it shows (percent) and how
    long it lasts on the task clock."""

    status: TaskStatus
    progress: Annotated[int, Field(ge=0, le=99)] | None = None
    seconds: NonNegativeFloat | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"status": data} if isinstance(data, str) else data


class LyricsSpec(Spec):
    """A Suno lyrics task's finished lyrics, as the upstream wrote them (`mockserver record`
    keeps them; a scenario may script them too). Left out, the mock writes its own."""

    id: Annotated[str, Field(min_length=1)] | None = None
    title: str | None = None
    text: str


class TaskSpec(Spec):
    """A task's scripted life. `advance: poll` (the default) moves it one stage per fetch;
    `advance: clock` moves it by the task clock (`stages[].seconds`, default `stage_seconds`),
    which a test advances. `fail_at` ends it in FAILURE with `reason` once it leaves that stage
    (SUCCESS otherwise)."""

    advance: Literal["poll", "clock"] = "poll"
    stages: Annotated[list[TaskStageSpec], Field(min_length=1)] | None = None
    stage_seconds: NonNegativeFloat = 5.0
    fail_at: TaskStatus | None = None
    reason: str = "task failed"
    code: str = "generation_failed"
    poll_after_ms: NonNegativeInt = 0
    # POST the task to the hook the request names (Midjourney's `notifyHook`) on each change
    callbacks: bool = False
    callback_retries: Annotated[int, Field(ge=0, le=10)] = 3
    # A recorded task (`mockserver record`): the upstream's task id, and the file its finished
    # video is (relative to the scenario file; checked at load) — or `files`, one per output
    # when it made several (Suno's two clips, several pictures).
    id: Annotated[str, Field(min_length=1)] | None = None
    file: str | None = None
    files: Annotated[list[str], Field(min_length=1)] | None = None
    lyrics: LyricsSpec | None = None  # a Suno lyrics task's finished lyrics
    # Suno's clips' WAV files (`act/wav`), one per clip in order; null: not recorded, made anew
    wavs: Annotated[list[str | None], Field(min_length=1)] | None = None

    @field_validator("file")
    @classmethod
    def _file_on_disk(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        from mockserver.scenario.media_files import resolve

        return resolve(value, (info.context or {}).get("base_dir"))

    @field_validator("files")
    @classmethod
    def _files_on_disk(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is None:
            return None
        from mockserver.scenario.media_files import resolve

        return [resolve(each, (info.context or {}).get("base_dir")) for each in value]

    @field_validator("wavs")
    @classmethod
    def _wavs_on_disk(
        cls, value: list[str | None] | None, info: ValidationInfo
    ) -> list[str | None] | None:
        if value is None:
            return None
        from mockserver.scenario.media_files import resolve

        base_dir = (info.context or {}).get("base_dir")
        return [None if each is None else resolve(each, base_dir) for each in value]

    @model_validator(mode="after")
    def _fail_at_a_stage(self) -> TaskSpec:
        if self.fail_at is not None and self.stages is not None:
            statuses = [stage.status for stage in self.stages]
            if self.fail_at not in statuses:
                raise ValueError(
                    f"fail_at {self.fail_at} is not one of this task's stages "
                    f"({', '.join(statuses)})"
                )
        return self


class Step(Spec):
    """One step of a `sequence`: exactly one of `reply`, `fault` or `task` (the n-th of
    several identical task submissions, as `mockserver record` writes them)."""

    reply: ReplySpec | None = None
    fault: FaultSpec | None = None
    task: TaskSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Step:
        if [self.reply, self.fault, self.task].count(None) != 2:
            raise ValueError("a sequence step needs exactly one of reply, fault, task")
        return self
