"""Every wire format the server speaks: one line per protocol.

A protocol is a `Dialect` subclass in its own module (`protocols/<vendor>/<format>.py`) and a
line here naming it and the POST paths it answers through the generation flow
(`http.generation.generate`: parse → match → compose → render). Its module is imported on its
first request, not at start-up. Endpoints that are not generations (token counts, model
listings, stored responses) are routed in `http/app.py`.

    Protocol("anthropic.messages", "mockserver.protocols.anthropic.messages:AnthropicDialect",
             ("/v1/messages",))
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from mockserver.protocols.dialect import Dialect


class Protocol(NamedTuple):
    name: str  # the dialect's name: journal entries and error shapes say it
    dialect: str  # "module:Class" of its Dialect, imported on first use
    generations: tuple[str, ...] = ()  # POST paths answered by the generation flow


PROTOCOLS: tuple[Protocol, ...] = (
    Protocol(
        "openai.chat",
        "mockserver.protocols.openai.chat:ChatDialect",
        # Gemini's OpenAI-compatible endpoint speaks Chat Completions too.
        ("/v1/chat/completions", "/v1beta/openai/chat/completions"),
    ),
    Protocol(
        "openai.responses",
        "mockserver.protocols.openai.responses:ResponsesDialect",
        ("/v1/responses",),
    ),
    Protocol("openai.completions", "mockserver.protocols.openai.completions:CompletionsDialect"),
    Protocol(
        "anthropic.messages",
        "mockserver.protocols.anthropic.messages:AnthropicDialect",
        ("/v1/messages",),
    ),
    # Gemini's generations are `/v1beta/models/{model}:generateContent`: routed by model path.
    Protocol("gemini", "mockserver.protocols.gemini.generate:GeminiDialect"),
    Protocol("gateway", "mockserver.protocols.newapi.errors:GatewayDialect"),
)


def load_dialect(protocol: Protocol) -> Dialect:
    """A new instance of the protocol's dialect (its module imported now)."""
    module, _, name = protocol.dialect.partition(":")
    made: Dialect = getattr(importlib.import_module(module), name)()
    return made


def by_name(protocols: Iterable[Protocol]) -> dict[str, Protocol]:
    found: dict[str, Protocol] = {}
    for protocol in protocols:
        if protocol.name in found:
            raise ValueError(f"two protocols are named {protocol.name!r}: {found[protocol.name]}")
        found[protocol.name] = protocol
    return found
