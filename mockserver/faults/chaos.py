"""Scenario-level `chaos:`: a seeded share of the matching requests fails.

    chaos:
      - probability: 0.2
        match: {model: gpt-4o*}
        fault: {preset: overloaded}

Each entry rolls one number per request from `random.Random` seeded with the scenario seed,
the entry's position, the request's retry group (its canonical body) and its occurrence in that
group. The same request list therefore fails at the same places on every run, while an SDK's
retry of a failed call (the next occurrence) rolls afresh. Entries are tried in order; the
first that fires wins.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from msgspec import Struct

from mockserver.core import ids
from mockserver.core.exchange import Exchange
from mockserver.scenario import Matcher

if TYPE_CHECKING:
    from mockserver.scenario import ChaosEntry, FaultSpec


class ChaosHit(Struct, frozen=True):
    index: int  # position in the scenarios' `chaos:` lists, in load order
    fault: FaultSpec


class Chaos:
    __slots__ = ("_entries", "seed")

    def __init__(self, entries: Sequence[ChaosEntry], seed: int) -> None:
        self.seed = seed
        self._entries = [
            (entry, Matcher(entry.match, f"chaos[{index}]")) for index, entry in enumerate(entries)
        ]

    def __bool__(self) -> bool:
        return bool(self._entries)

    def draw(self, exchange: Exchange, retry_group: str, occurrence: int) -> ChaosHit | None:
        """The fault this request gets from chaos, if any entry fires."""
        for index, (entry, matcher) in enumerate(self._entries):
            if entry.probability <= 0 or matcher.match(exchange) is None:
                continue
            if roll(self.seed, index, retry_group, occurrence) < entry.probability:
                return ChaosHit(index, entry.fault)
        return None


def roll(seed: int, index: int, retry_group: str, occurrence: int) -> float:
    """A number in [0, 1) that depends only on its arguments."""
    return seeded_random("chaos", seed, index, retry_group, occurrence).random()


def seeded_random(*parts: object) -> random.Random:
    """A private generator seeded from `parts` (never the global one)."""
    return random.Random(int(ids.digest(*parts)[:16], 16))
