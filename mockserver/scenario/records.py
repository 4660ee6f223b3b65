"""Validated scenario values as serving reads them, without pydantic.

pydantic validates a scenario file; serving it only reads the values. Importing pydantic and
building its validators is ~0.2 s of a ~0.5 s start-up, so files are served from records
(`mockserver.scenario.snapshot` makes them, and keeps them in the cache folder): one class per
model, with the model's field names as slots, its methods, and the three model methods serving
calls — `model_dump`, `model_copy` and `model_fields_set` — behaving as pydantic's do. The
model classes share their methods with their records through the mixins below:

    rule.kind, rule.step(2), reply.alternatives(), fault.model_dump(exclude_none=True)

Runtime code reads a spec the same way whether it came from the loader or a record; it tells a
fault from a reply with `isinstance(x, FaultLike)`, never with the model class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from mockserver.engine.content.templates import Template, TemplatedValue, compile_template

if TYPE_CHECKING:
    from typing import Self

    from mockserver.engine.content.embeddings import EmbeddingRules
    from mockserver.scenario.outcomes import ChoiceSpec, FaultSpec, ReplySpec, Step

RuleKind = Literal["reply", "sequence", "fault", "fail_times"]


class RuleMethods:
    """What a rule (`Rule` or its record) answers beyond its fields."""

    __slots__ = ()
    if TYPE_CHECKING:  # the fields, declared for the type checker only (pydantic's are the model's)
        reply: ReplySpec | None
        sequence: list[Step] | None
        fault: FaultSpec | None
        fail_times: int | None

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
        assert outcome is not None  # guaranteed by Rule._one_outcome and Step._exactly_one
        return outcome


class ReplyMethods:
    __slots__ = ()
    if TYPE_CHECKING:
        choices: list[ChoiceSpec] | None

    def alternatives(self) -> list[ChoiceSpec]:
        """The choices to cycle through for n > 1 (a single inline reply is one choice)."""
        return list(self.choices) if self.choices is not None else [self]  # type: ignore[list-item]


class FaultLike:
    """Marks a fault (`FaultSpec` or its record): a rule's step is a fault or a reply."""

    __slots__ = ()


class EmbeddingsMethods:
    __slots__ = ()
    if TYPE_CHECKING:
        pinned: dict[str, list[float]]
        near: list[Any]

    def rules(self) -> EmbeddingRules:
        """The embedder's rules; raises ValueError (EmbeddingRuleError) for cycles and clashes."""
        from mockserver.engine.content.embeddings import EmbeddingRules, Near

        return EmbeddingRules(
            pinned={text: tuple(vector) for text, vector in self.pinned.items()},
            near=tuple(Near(n.texts[0], n.texts[1], n.similarity) for n in self.near),
        )


class Record:
    """One validated model's values. Frozen; equal when the class and values are."""

    __slots__ = ("model_fields_set",)
    model_fields_set: set[str]  # the fields the file gave (the others took their defaults)
    model_fields: ClassVar[dict[str, None]] = {}  # field names, in declaration order
    aliases: ClassVar[dict[str, str]] = {}  # field name -> YAML key, where they differ

    def __init__(self, values: dict[str, Any], fields_set: set[str]) -> None:
        for name in self.model_fields:
            object.__setattr__(self, name, values[name])
        object.__setattr__(self, "model_fields_set", fields_set)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.model_fields)

    def model_dump(self, *, exclude_none: bool = False, by_alias: bool = False) -> dict[str, Any]:
        """The values as plain data, nested records and templates included (as pydantic's)."""
        dumped = {}
        for name in self.model_fields:
            value = _dump(getattr(self, name), exclude_none, by_alias)
            if value is None and exclude_none:
                continue
            dumped[self.aliases.get(name, name) if by_alias else name] = value
        return dumped

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        """A copy with `update`'s values in place (not validated, as pydantic's)."""
        values = dict(zip(self.model_fields, self._values(), strict=True))
        values.update(update or {})
        return type(self)(values, self.model_fields_set | set(update or ()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.model_fields)
        return f"{type(self).__name__}({shown})"


def _dump(value: Any, exclude_none: bool, by_alias: bool) -> Any:
    if isinstance(value, Record):
        return value.model_dump(exclude_none=exclude_none, by_alias=by_alias)
    if isinstance(value, list):
        return [_dump(v, exclude_none, by_alias) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, exclude_none, by_alias) for k, v in value.items()}
    if isinstance(value, Template):  # pydantic dumps a template as its source
        return value.source
    if isinstance(value, TemplatedValue):
        return value.value
    return value


class ScenarioRecord(Record):
    """A scenario file's record: its values, where it came from, and where its rules and
    models were written (the lines `ScenarioSet.build` and duplicate names report)."""

    __slots__ = ("_locations", "_source")
    _locations: dict[tuple[str | int, ...], tuple[int, int]]
    _source: str

    def __init__(
        self,
        values: dict[str, Any],
        fields_set: set[str],
        source: str = "<data>",
        locations: dict[tuple[str | int, ...], tuple[int, int]] | None = None,
    ) -> None:
        super().__init__(values, fields_set)
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_locations", locations or {})

    @property
    def source(self) -> str:
        return self._source

    def location(self, path: tuple[str | int, ...]) -> tuple[int | None, int | None]:
        found = self._locations.get(path)
        return found if found is not None else (None, None)

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        copy = super().model_copy(update=update)
        object.__setattr__(copy, "_source", self._source)
        object.__setattr__(copy, "_locations", self._locations)
        return copy


# The mixin each model's record takes (the model classes take the same ones).
_METHODS: dict[str, type] = {
    "Rule": RuleMethods,
    "ReplySpec": ReplyMethods,
    "FaultSpec": FaultLike,
    "EmbeddingsSpec": EmbeddingsMethods,
}
_classes: dict[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], type[Record]] = {}


def record_class(name: str, fields: tuple[str, ...], aliases: dict[str, str]) -> type[Record]:
    """The record class of model `name` with these fields (made once per process)."""
    key = (name, fields, tuple(sorted(aliases.items())))
    found = _classes.get(key)
    if found is None:
        base: type[Record] = ScenarioRecord if name == "Scenario" else Record
        bases = (_METHODS[name], base) if name in _METHODS else (base,)
        namespace = {
            "__slots__": fields,
            "__module__": __name__,
            "model_fields": dict.fromkeys(fields),
            "aliases": aliases,
        }
        found = _classes[key] = type(name, bases, namespace)
    return found


# ReplySpec's fields, in order, for the one reply serving makes up (the tests hold this to the
# model's fields).
REPLY_FIELDS = (
    "content",
    "tool_calls",
    "reasoning",
    "refusal",
    "json_",
    "finish_reason",
    "choices",
)


def empty_reply(finish_reason: str) -> ReplySpec:
    """The reply `ReplySpec.model_validate({"content": "", "finish_reason": ...})` gives, made
    without pydantic: a fault with no reply to end (the content_filter preset) needs one."""
    record = record_class("ReplySpec", REPLY_FIELDS, {"json_": "json"})
    values: dict[str, Any] = dict.fromkeys(REPLY_FIELDS)
    values.update(content=compile_template(""), tool_calls=[], finish_reason=finish_reason)
    return record(values, {"content", "finish_reason"})  # type: ignore[return-value]
