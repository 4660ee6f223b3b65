"""Scenarios loaded through the admin API, kept on the store so that every worker serves them.

The store's table "scenarios" holds one `Published` record — whether the scenarios given at
start come first, the sources added since (YAML text or JSON data, under the name their errors
and rule locations use), and a generation number — and a counter equal to that number, which
every worker of a shared store reads once per request (`MockState.sync`): one that sees a
newer generation rebuilds its scenarios from the sources. With `--state FILE` they survive a
restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from mockserver.scenario import ScenarioSet
from mockserver.store import Store

if TYPE_CHECKING:
    from mockserver.scenario import Scenario

RECORD = "published"
GENERATION = "generation"
FAILED = "failed"  # the last load refused, until one succeeds
NOTICE = "scenarios"  # the store's notice topic of a publication


class Conflict(Exception):
    """Another worker published scenarios since this one last looked."""


class Source(Struct, frozen=True):
    """One scenario as the admin API received it."""

    name: str  # a file path, or `<POST /_mock/scenarios>`
    text: str | None = None  # YAML
    data: Any = None  # or JSON, parsed

    def load(self) -> Scenario:
        """The validated scenario (`ScenarioError` when it isn't one)."""
        from mockserver.scenario import load_data, load_text  # pydantic: on first use

        if self.text is not None:
            return load_text(self.text, self.name)
        return load_data(self.data, self.name)


class Published(Struct, frozen=True):
    generation: int = 0
    startup: bool = True  # the scenarios given at start come first
    added: tuple[Source, ...] = ()

    def build(self, startup: ScenarioSet) -> ScenarioSet:
        """The scenario set this record describes (`ScenarioError` if it no longer builds)."""
        scenarios = [*(startup.scenarios if self.startup else ()), *(s.load() for s in self.added)]
        return ScenarioSet.build(scenarios)

    def then(self, added: Sequence[Source], *, replace: bool, startup: bool | None) -> Published:
        """The next record: `added` after what is there (or instead of it, with `replace`);
        `startup` None keeps whether the start-up scenarios come first."""
        return Published(
            self.generation + 1,
            self.startup if startup is None else startup,
            (*(() if replace else self.added), *added),
        )


class FailedLoad(Struct, frozen=True):
    """A load the admin API refused: its error and each issue's location (the dashboard shows
    them until a load succeeds)."""

    message: str
    issues: tuple[dict[str, Any], ...]


class PublishedScenarios:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.table = store.table("scenarios", 3)

    def refused(self, failure: FailedLoad) -> None:
        self.table.set(FAILED, failure)

    def last_refused(self) -> FailedLoad | None:
        return self.table.get(FAILED, FailedLoad)

    def generation(self) -> int:
        return self.table.count(GENERATION)

    def current(self) -> Published:
        return self.table.get(RECORD, Published) or Published()

    def publish(
        self,
        expected: int,
        added: Sequence[Source] = (),
        *,
        replace: bool = False,
        startup: bool | None = None,
    ) -> Published:
        """Record the next generation (call inside a store transaction); `Conflict` when the
        current one isn't `expected`, the generation the caller built its scenarios on."""
        current = self.current()
        if current.generation != expected:
            raise Conflict(f"generation {current.generation}, expected {expected}")
        published = current.then(added, replace=replace, startup=startup)
        self.table.set(RECORD, published)
        self.table.incr(GENERATION)
        self.table.delete(FAILED)
        self.store.notify(NOTICE)  # every worker's `sync` looks again once this commits
        return published

    def notices(self) -> int:
        """Moves after each publication (a memory read, no query): `sync` checks the
        generation only then."""
        return self.store.notices(NOTICE)
