"""Latency: how long before a response starts, and how a stream is paced.

A latency profile (`LatencySpec`) has `delay` (before the response starts), `ttft` (from then
to the first event that carries content), `tokens_per_second` or `chunk_interval` (between
content events; each carries one token piece) and `jitter` (each event lands up to that many
seconds after its slot). `delay` and `ttft` may be distributions. Profiles come from, weakest
first: the realistic per-model profile (`--latency realistic`, `data/latency_profiles.yaml`),
the model's catalog entry (`latency:` of a scenario's `models:` entry), the rule, the fault;
each overrides the fields it sets.

Every draw comes from a `random.Random` seeded by the reply's key (scenario seed, request
content, occurrence), so a request is paced the same way on every run. A non-streamed reply
waits `delay + ttft + tokens × interval` before it starts; an error waits `delay`. Waits count
from the request's arrival: the time the server took to answer is part of them, as it is of a
real API's time to first token.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import math
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

if TYPE_CHECKING:
    from mockserver.core.exchange import Exchange
    from mockserver.core.reply import Choice, Reply
    from mockserver.protocols.dialect import Dialect
    from mockserver.scenario import Distribution, LatencySpec

PROFILES_RESOURCE = "data/latency_profiles.yaml"
# none: only what rules, models and faults script; realistic: a per-model profile under them;
# recorded: none, but timing a recording wrote (`latency: {recorded: true}`) is kept.
LATENCY_MODES = ("none", "realistic", "recorded")
_RATES = ("tokens_per_second", "chunk_interval")  # two ways to say one thing: the later wins


class Pacing(Struct, frozen=True):
    """A profile with its distributions drawn: seconds, ready to schedule."""

    delay: float = 0.0
    ttft: float = 0.0
    interval: float = 0.0
    jitter: float = 0.0

    @property
    def paces_events(self) -> bool:
        return bool(self.ttft or self.interval or self.jitter)

    def schedule(self, count: int, lead: int, rng: random.Random) -> Sequence[float] | None:
        """Send offsets (from the response start) of `count` events whose first content
        event is `lead`: events up to `lead` at `ttft`, then one `interval` apart. None when
        nothing is paced (the frames go out at once)."""
        if not self.paces_events:
            return None
        if not self.jitter:
            return _steady_schedule(self.ttft, self.interval, count, lead)
        offsets: list[float] = []
        latest = 0.0
        for index in range(count):
            slot = self.ttft + max(0, index - lead) * self.interval
            if index > lead:
                slot += rng.uniform(0, self.jitter)
            latest = max(latest, slot)  # jitter never reorders events
            offsets.append(latest)
        return offsets

    def body_wait(self, tokens: int, rng: random.Random) -> float:
        """How long a non-streamed reply of `tokens` completion tokens takes to start."""
        jitter = rng.uniform(0, self.jitter) if self.jitter else 0.0
        return self.delay + self.ttft + tokens * self.interval + jitter


NO_PACING = Pacing()


@functools.lru_cache(maxsize=256)
def _steady_schedule(ttft: float, interval: float, count: int, lead: int) -> tuple[float, ...]:
    """`Pacing.schedule` without jitter: the same for every request of a profile and length,
    so it is computed once (a tuple, as it is shared)."""
    slots = (ttft + max(0, index - lead) * interval for index in range(count))
    return tuple(itertools.accumulate(slots, max))


def mode_of(server: str | None, scenarios: str | None) -> str:
    """The latency mode in force: the server's (`--latency`) when set, else the scenarios'."""
    return server or scenarios or "none"


def applied(spec: LatencySpec | None, mode: str) -> LatencySpec | None:
    """A rule's latency as `mode` applies it: recorded timing only when latency is on."""
    if spec is not None and spec.recorded and mode == "none":
        return None
    return spec


def merge(*specs: LatencySpec | None) -> LatencySpec | None:
    """Overlay profiles field by field, later ones winning; None when none sets anything.

    merge({ttft: 0.5, tokens_per_second: 50}, {chunk_interval: 0.1}) -> {ttft: 0.5,
    chunk_interval: 0.1} (a rate given later replaces the other way of giving it).
    """
    given = [spec for spec in specs if spec is not None]
    if not given:
        return None
    names = type(given[-1]).model_fields  # a model's or its record's: the same names
    fields: dict[str, Any] = {}
    for spec in given:
        for name in names:
            value = getattr(spec, name)
            if value is None:
                continue
            if name in _RATES:
                for rate in _RATES:
                    fields.pop(rate, None)
            fields[name] = value
    if not fields:
        return None
    # A copy, not a new model: the profiles may be records, and pydantic need not be loaded.
    return given[-1].model_copy(update={name: fields.get(name) for name in names})


def pacing(spec: LatencySpec | None, rng: random.Random) -> Pacing:
    """Draw a profile's distributions (delay first, then ttft: the order is part of the
    determinism contract)."""
    if spec is None:
        return NO_PACING
    if spec.chunk_interval is not None:
        interval = spec.chunk_interval
    elif spec.tokens_per_second:
        interval = 1 / spec.tokens_per_second
    else:
        interval = 0.0
    return Pacing(draw(spec.delay, rng), draw(spec.ttft, rng), interval, spec.jitter or 0.0)


def draw(duration: float | Distribution | None, rng: random.Random) -> float:
    """Seconds: a number as is, `uniform: [a, b]`, or `lognormal: {median, sigma}`."""
    if duration is None:
        return 0.0
    if isinstance(duration, int | float):
        return float(duration)
    if duration.uniform is not None:
        low, high = duration.uniform
        return rng.uniform(low, high)
    assert duration.lognormal is not None  # Distribution requires exactly one
    return rng.lognormvariate(math.log(duration.lognormal.median), duration.lognormal.sigma)


def rng_for(key: str) -> random.Random:
    """The generator for one reply's latency draws (never the global one)."""
    return random.Random(int(key[:16], 16) ^ 0x1A7E)


def realistic(model_id: str) -> LatencySpec | None:
    """The plausible profile `--latency realistic` gives a model (first matching glob)."""
    for globs, spec in realistic_profiles():
        if any(fnmatch.fnmatchcase(model_id, glob) for glob in globs):
            return spec
    return None


@functools.cache
def realistic_profiles() -> tuple[tuple[tuple[str, ...], LatencySpec], ...]:
    """`data/latency_profiles.yaml`, validated once per process."""
    import importlib.resources

    import yaml

    from mockserver.scenario import LatencySpec

    resource = importlib.resources.files("mockserver").joinpath(PROFILES_RESOURCE)
    document = yaml.safe_load(resource.read_text(encoding="utf-8"))
    where = f"mockserver/{PROFILES_RESOURCE}"
    profiles = []
    for index, entry in enumerate(document["profiles"]):
        models = entry.get("models")
        if not isinstance(models, list) or not models:
            raise ValueError(f"{where} profiles[{index}]: expected a non-empty `models` list")
        profiles.append((tuple(models), LatencySpec.model_validate(entry["latency"])))
    return tuple(profiles)


def first_content_frame(
    dialect: Dialect, reply: Reply, exchange: Exchange, frames: Sequence[bytes]
) -> int:
    """Index of the first event that carries reply content: the events before it (role
    chunk, `message_start`, `response.created`...) go out with it at `ttft`.

    Found without knowing the dialect: the stream is rendered again with every first piece
    changed, and the first frame that differs is the first one carrying content (0 when no
    frame does). That costs a second rendering, so the answer is remembered per stream shape
    (dialect, content type, and which kinds of content each choice has)."""
    shape = (dialect.name, dialect.stream_media_type(exchange), *map(_shape, reply.choices))
    lead = _LEADS.get(shape)
    if lead is None:
        lead = _differing_frame(dialect, reply, exchange, frames)
        if len(_LEADS) >= _LEADS_KEPT:
            _LEADS.clear()
        _LEADS[shape] = lead
    return min(lead, max(len(frames) - 1, 0))


_LEADS: dict[tuple[object, ...], int] = {}
_LEADS_KEPT = 512


def _shape(choice: Choice) -> tuple[bool, bool, bool, int]:
    return (
        bool(choice.reasoning_pieces),
        bool(choice.text_pieces),
        bool(choice.refusal_pieces),
        len(choice.argument_pieces),
    )


def _differing_frame(
    dialect: Dialect, reply: Reply, exchange: Exchange, frames: Sequence[bytes]
) -> int:
    probe = replace(reply, choices=[_probe(choice) for choice in reply.choices])
    for index, (frame, other) in enumerate(
        zip(frames, dialect.render_stream(probe, exchange), strict=False)
    ):
        if frame != other:
            return index
    return 0


def _probe(choice: Choice) -> Choice:
    return replace(
        choice,
        text_pieces=_changed(choice.text_pieces),
        reasoning_pieces=_changed(choice.reasoning_pieces),
        refusal_pieces=_changed(choice.refusal_pieces),
        argument_pieces=[_changed(pieces) for pieces in choice.argument_pieces],
    )


def _changed(pieces: list[str]) -> list[str]:
    return ["\u2063" + pieces[0], *pieces[1:]] if pieces else pieces
