"""Everything one server instance holds: settings, catalog, engine, journal, dialect instances.

Scenarios are swapped as a whole (`load`): a request sees either the old set or the new one,
never half of each.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from mockserver.core.catalog import Catalog, load_builtin
from mockserver.engine.decide import Engine
from mockserver.engine.memo import Memo
from mockserver.journal.journal import Journal
from mockserver.protocols.openai.chat import ChatDialect
from mockserver.scenario import ScenarioSet, load_paths
from mockserver.settings import Settings

if TYPE_CHECKING:
    from mockserver.gateway.admission import Gateway
    from mockserver.protocols.anthropic.messages import AnthropicDialect
    from mockserver.protocols.dialect import Dialect
    from mockserver.protocols.gemini.generate import GeminiDialect
    from mockserver.protocols.newapi.errors import GatewayDialect
    from mockserver.protocols.openai.completions import CompletionsDialect
    from mockserver.protocols.openai.responses import ResponsesDialect


class Dialects:
    """One instance of each dialect, shared by every request of a server. Each but Chat
    Completions' is made, and its module imported, on first use: most servers only ever speak
    one or two, and importing the others is ~20 ms of every start-up."""

    def __init__(self) -> None:
        self.chat = ChatDialect()

    @functools.cached_property
    def responses(self) -> ResponsesDialect:
        from mockserver.protocols.openai.responses import ResponsesDialect

        return ResponsesDialect()

    @functools.cached_property
    def anthropic(self) -> AnthropicDialect:
        from mockserver.protocols.anthropic.messages import AnthropicDialect

        return AnthropicDialect()

    @functools.cached_property
    def gemini(self) -> GeminiDialect:
        from mockserver.protocols.gemini.generate import GeminiDialect

        return GeminiDialect()

    @functools.cached_property
    def completions(self) -> CompletionsDialect:
        from mockserver.protocols.openai.completions import CompletionsDialect

        return CompletionsDialect()

    @functools.cached_property
    def rerank(self) -> GatewayDialect:
        from mockserver.protocols.newapi.errors import GatewayDialect

        return GatewayDialect()

    def reset(self) -> None:
        """Forget the responses kept for `previous_response_id` (if Responses was ever used)."""
        responses = self.__dict__.get("responses")  # where cached_property keeps the one made
        if responses is not None:
            responses.store.clear()

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
    def __init__(self, settings: Settings, scenarios: ScenarioSet) -> None:
        self.settings = settings
        self.dialects = Dialects()
        self.journal = Journal(settings.journal_size)
        self.builtin_catalog = load_builtin()
        self.scenarios = scenarios
        self.catalog: Catalog = self.builtin_catalog
        self.engine = Engine(scenarios, seed=settings.seed, strict=settings.strict)
        self.memo = Memo()
        self.gateway: Gateway | None = None  # gateway mode: a scenario's `gateway:` section
        self.load(scenarios)

    @classmethod
    def from_settings(cls, settings: Settings) -> MockState:
        return cls(settings, load_paths(settings.scenario_paths))

    def load(self, scenarios: ScenarioSet) -> None:
        """Replace the scenarios (already validated as a whole) and reset sequence state."""
        catalog = self.builtin_catalog.with_extra(scenarios.model_infos())
        engine = Engine(scenarios, seed=self.settings.seed, strict=self.settings.strict)
        memo = Memo(name for rule in scenarios.rules for name in rule.matcher.header_names)
        gateway = None
        if scenarios.gateway is not None:
            from mockserver.gateway.admission import Gateway

            gateway = Gateway(scenarios.gateway, engine.seed, scenarios.clock)
        # One assignment: a request sees the old scenarios, catalog and memo or the new ones.
        self.scenarios, self.catalog, self.engine, self.memo, self.gateway = (
            scenarios,
            catalog,
            engine,
            memo,
            gateway,
        )

    def reset(self) -> None:
        """Forget the journal and every sequence cursor; keep the scenarios."""
        self.engine.reset()
        self.journal.reset()
        self.dialects.reset()
