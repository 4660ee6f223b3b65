"""Everything one server instance holds: settings, catalog, engine, journal, dialect instances.

Scenarios are swapped as a whole (`load`): a request sees either the old set or the new one,
never half of each. What every worker process must agree on lives on the store
(`mockserver.store`): the journal, the engine's counters, stored Responses, async tasks and
their clock, and the scenarios published through the admin API, which each worker checks for
once per request (`sync`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from mockserver.admin.published import PublishedScenarios, Source
from mockserver.core.catalog import load_builtin
from mockserver.engine import prompt_cache
from mockserver.engine.counters import Counters
from mockserver.engine.decide import Engine
from mockserver.engine.memo import Memo
from mockserver.engine.prompt_cache import PromptCache
from mockserver.journal.journal import Journal
from mockserver.media import files as media_files
from mockserver.media.files import MediaStore
from mockserver.protocols.gemini import cached_contents
from mockserver.protocols.gemini.cached_contents import CachedContents
from mockserver.protocols.openai.response_store import ResponseStore
from mockserver.protocols.registry import PROTOCOLS, Protocol, by_name, load_dialect
from mockserver.scenario import ScenarioError, ScenarioSet, load_paths
from mockserver.settings import Settings
from mockserver.store import MemoryStore, Store, open_store
from mockserver.tasks import repository

if TYPE_CHECKING:
    from mockserver.gateway.admission import Gateway
    from mockserver.protocols.anthropic.messages import AnthropicDialect
    from mockserver.protocols.dialect import Dialect
    from mockserver.protocols.gemini.generate import GeminiDialect
    from mockserver.protocols.newapi.errors import GatewayDialect
    from mockserver.protocols.openai.completions import CompletionsDialect
    from mockserver.protocols.openai.responses import ResponsesDialect
    from mockserver.tasks.callbacks import Notifier
    from mockserver.tasks.task import Task

log = logging.getLogger("mockserver")


class Dialects:
    """One instance of each protocol's dialect (`protocols.registry`), shared by every request
    of a server. Each but Chat Completions' is made, and its module imported, on first use:
    most servers only ever speak one or two. Server-side state a dialect keeps (Responses'
    stored responses) lives in the shared store, handed to it through `Dialect.use_state`."""

    def __init__(
        self,
        protocols: Iterable[Protocol] = PROTOCOLS,
        response_store: ResponseStore | None = None,
        gemini_caches: CachedContents | None = None,
    ) -> None:
        self.protocols = by_name(protocols)
        self.response_store = response_store if response_store is not None else ResponseStore()
        if gemini_caches is None:  # a private table, on a clock that never moves
            table = MemoryStore().table("gemini_caches", cached_contents.CAPACITY)
            gemini_caches = CachedContents(table, lambda: 0.0, lambda: 0)
        self.gemini_caches = gemini_caches
        self._made: dict[str, Dialect] = {}
        self.chat = self.get("openai.chat")

    def get(self, name: str) -> Dialect:
        """The dialect of the protocol `name` (made now if it wasn't)."""
        made = self._made.get(name)
        if made is None:
            made = load_dialect(self.protocols[name])
            made.use_state(self)
            self._made[name] = made
        return made

    @property
    def responses(self) -> ResponsesDialect:
        return self.get("openai.responses")  # type: ignore[return-value]

    @property
    def anthropic(self) -> AnthropicDialect:
        return self.get("anthropic.messages")  # type: ignore[return-value]

    @property
    def gemini(self) -> GeminiDialect:
        return self.get("gemini")  # type: ignore[return-value]

    @property
    def completions(self) -> CompletionsDialect:
        return self.get("openai.completions")  # type: ignore[return-value]

    @property
    def rerank(self) -> GatewayDialect:
        return self.get("gateway")  # type: ignore[return-value]

    def reset(self) -> None:
        """Forget the responses kept for `previous_response_id` and Gemini's explicit caches
        (by any worker)."""
        self.response_store.clear()
        self.gemini_caches.clear()

    def for_path(self, path: str) -> Dialect:
        """The dialect whose error shape a path's errors (404, 405, 413) should take."""
        if path.startswith("/v1/messages"):
            return self.anthropic
        if path.startswith("/v1beta/openai/"):
            return self.chat
        if path.startswith("/v1beta/") or (path.startswith("/v1/models/") and ":" in path):
            return self.gemini
        return self.chat


class MockState:
    def __init__(
        self,
        settings: Settings,
        scenarios: ScenarioSet,
        store: Store | None = None,
        *,
        protocols: Iterable[Protocol] = PROTOCOLS,
    ) -> None:
        self.settings = settings
        self.store = store if store is not None else open_store(settings)
        self.shared = self.store.shared  # other processes may publish scenarios: `sync`
        self.startup = scenarios  # the scenarios given at start (DELETE /_mock/scenarios)
        self.published = PublishedScenarios(self.store)
        self.counters = Counters(self.store, settings.counters_size)
        responses = self.store.table("responses", settings.responses_size)
        self.dialects = Dialects(protocols, ResponseStore(responses), self._gemini_caches())
        self.journal = Journal(
            settings.journal_size,
            self.store.log("journal", settings.journal_size),
            shared=self.store.shared,
        )
        self.builtin_catalog = load_builtin()
        # Generated files: bytes cached per process, recipes shared (any worker serves a URL).
        self.media = MediaStore(
            settings.media_cache_bytes, self.store.table("media", media_files.RECIPES_KEPT)
        )
        # async tasks (video, Midjourney...), their clock, and the callbacks they send
        self.tasks = repository.TaskRepository(
            self.store.table("tasks", repository.CAPACITY),
            self.store.table("task_counters", 16),
            on_change=self.task_changed,
            on_finish=self.task_finished,
        )
        self.prompt_cache = PromptCache(
            self.store.table("prompt_cache", prompt_cache.CAPACITY), self.tasks.now
        )
        self.generation = 0  # of the published scenarios this process serves
        self.gateway: Gateway | None = None  # gateway mode: a scenario's `gateway:` section
        self._install(scenarios)
        if self.published.generation():  # published before: by another worker, or a past run
            self._adopt()

    def _gemini_caches(self) -> CachedContents:
        """Gemini's explicit caches: expiring on the task clock, shown from the scenario's."""
        table = self.store.table("gemini_caches", cached_contents.CAPACITY)
        return CachedContents(table, lambda: self.tasks.now(), lambda: self.scenarios.clock)

    @functools.cached_property
    def notifier(self) -> Notifier:
        from mockserver.tasks.callbacks import Notifier

        return Notifier(self.journal)

    def task_changed(self, task: Task) -> None:
        """POST a changed task to its callback URL, in its family's shape."""
        from mockserver.http.task_endpoints import callback_body

        if task.callback_url:
            self.notifier.send(task.callback_url, callback_body(task), task.callback_retries)

    def task_finished(self, task: Task) -> None:
        """A task ended: in gateway mode a failed one's charge goes back."""
        from mockserver.tasks import billing

        billing.finished(self, task)

    @classmethod
    def from_settings(cls, settings: Settings) -> MockState:
        return cls(settings, load_paths(settings.scenario_paths))

    def _install(self, scenarios: ScenarioSet) -> None:
        """Serve `scenarios` (already validated as a whole) in this process."""
        settings = self.settings
        strict_catalog = scenarios.strict_catalog
        if settings.catalog is not None:
            strict_catalog = settings.catalog == "strict"
        catalog = self.builtin_catalog.with_extra(scenarios.model_infos()).strict(strict_catalog)
        engine = Engine(
            scenarios, seed=settings.seed, strict=settings.strict, counters=self.counters
        )
        memo = Memo(name for rule in scenarios.rules for name in rule.matcher.header_names)
        strict_validation = scenarios.strict_validation
        if settings.validation is not None:
            strict_validation = settings.validation == "strict"
        gateway = None
        if scenarios.gateway is not None:
            from mockserver.gateway.admission import Gateway

            gateway = Gateway(scenarios.gateway, engine.seed, scenarios.clock, self.store)
        elif self.gateway is not None:  # gateway mode ends: its keys and balances go with it
            self.gateway.accounts.clear()
        # One assignment: a request sees the old scenarios, catalog and memo or the new ones
        # (the memo is new with the validation mode: a memoized request was parsed in one).
        (
            self.scenarios,
            self.catalog,
            self.engine,
            self.memo,
            self.strict_validation,
            self.gateway,
        ) = (scenarios, catalog, engine, memo, strict_validation, gateway)

    def load(self, scenarios: ScenarioSet) -> None:
        """Replace the scenarios in this process and reset sequence state (the pytest plugin's
        way; the admin API's is `publish`, which every worker follows)."""
        self.counters.clear()
        self._install(scenarios)

    def publish(
        self,
        scenarios: ScenarioSet,
        added: Sequence[Source] = (),
        *,
        replace: bool = False,
        startup: bool | None = None,
    ) -> None:
        """Serve `scenarios` — this process's scenarios changed as `added`, `replace` and
        `startup` say (`Published.then`) — in every worker, and reset sequence state.
        `Conflict` when another worker published first: `sync`, then build them again."""
        with self.store.transaction():
            published = self.published.publish(
                self.generation, added, replace=replace, startup=startup
            )
            self.counters.clear()
        self._install(scenarios)
        self.generation = published.generation

    def sync(self) -> None:
        """Adopt the scenarios another worker published since this one last looked."""
        if self.published.generation() != self.generation:
            self._adopt()

    def _adopt(self) -> None:
        published = self.published.current()
        try:
            scenarios = published.build(self.startup)
        except ScenarioError as error:
            # The scenario files given at start changed since the others were published (a
            # restart with `--state`): keep what this process serves, and say why once.
            log.error(
                "mockserver: the scenarios published through the admin API (generation %d) "
                "don't load with the scenario files given at start; keeping those files "
                "alone:\n%s",
                published.generation,
                error,
            )
        else:
            self._install(scenarios)
        self.generation = published.generation

    def reset(self) -> None:
        """Forget the journal, every sequence cursor and counter, the stored responses and
        every task (for every worker); keep the scenarios."""
        self.engine.reset()
        self.tasks.reset()
        self.prompt_cache.clear()
        self.journal.reset()
        self.dialects.reset()
        if self.gateway is not None:
            self.gateway.reset()  # keys, balances and usage back to the scenario's
