"""Endpoints that are not generations: token counts, model listings, stored responses, and the
Gemini `{model}:{action}` dispatcher. Generations go through `mockserver.http.generation`;
every endpoint is journaled by `mockserver.http.journaled`.

Dialect modules other than Chat Completions' are imported by the endpoints that use them, on
their first request (`on_first_use` for those that hold a dialect): most servers only ever
speak one or two, and importing the rest is ~20 ms of every start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope

from mockserver.core.catalog import ModelInfo
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Usage
from mockserver.engine.memo import Answered
from mockserver.engine.pipeline import (
    answer,
    error_response,
    inbound_from_scope,
    inbound_of,
    parse_json,
)
from mockserver.http.generation import generate
from mockserver.http.journaled import Call, journaled, journaled_endpoint
from mockserver.http.responses import EventStream, RawResponse, json_response
from mockserver.journal.journal import Entry
from mockserver.protocols import leniency
from mockserver.protocols.dialect import Dialect, Inbound
from mockserver.tokens.tokenizer import Tokenizer, get_tokenizer

if TYPE_CHECKING:
    from mockserver.server_state import MockState

Endpoint = Callable[[Request], Awaitable[ASGIApp]]
Handler = Callable[[Scope, Receive], Awaitable[ASGIApp]]  # an endpoint below Starlette's Request
Parse = Callable[[Any, Inbound], Exchange]
Count = Callable[[Exchange, Tokenizer], dict[str, Any]]


def count_tokens(
    state: MockState,
    dialect: Dialect,
    parse: Parse,
    count: Count,
    not_found: Callable[[str, Request], APIError] | None = None,
) -> Endpoint:
    """A token-count endpoint: parse as the dialect does, then count with its own counter, so
    the count equals the `usage` a generation of the same request reports. `not_found` words
    the unknown-model error when the dialect's default can't (Gemini names action and version).
    """

    async def answer(call: Call) -> ASGIApp:
        request, entry = call.request, call.entry
        assert request is not None
        body = parse_json(await call.body(), dialect)
        entry.body = body
        with leniency.reading(strict=state.strict_validation) as notes:
            exchange = parse(body, inbound_of(request))
        entry.notes = notes
        entry.model = exchange.model
        model = state.catalog.get(exchange.model)
        if model is None:
            if not_found is not None:
                raise not_found(exchange.model, request)
            raise dialect.model_not_found(exchange.model)
        result = count(exchange, get_tokenizer(model.encoding))
        entry.status = 200
        return json_response(result, headers=dialect.reply_headers(None, exchange))

    # A relay route: behind the key in gateway mode (the gateway's `TokenAuth`).
    return journaled_endpoint(state, dialect.name, answer, dialect, relay=True)


def _prompt_count(dialect: Dialect, render: Callable[[int], dict[str, Any]]) -> Count:
    return lambda exchange, tokenizer: render(dialect.prompt_tokens(exchange, tokenizer))


def anthropic_count(state: MockState) -> Endpoint:
    from mockserver.protocols.anthropic import messages as anthropic

    d = state.dialects.anthropic
    return count_tokens(
        state, d, d.parse_count_tokens, _prompt_count(d, anthropic.render_count_tokens)
    )


def responses_input_tokens(state: MockState) -> Endpoint:
    from mockserver.protocols.openai.responses import render_input_tokens

    d = state.dialects.responses
    return count_tokens(state, d, d.parse, _prompt_count(d, render_input_tokens))


def stored_response(state: MockState) -> Endpoint:
    """`GET` / `DELETE /v1/responses/{response_id}`."""

    async def endpoint(request: Request) -> ASGIApp:
        d = state.dialects.responses
        response_id = request.path_params["response_id"]
        try:
            if request.method == "DELETE":
                return json_response(d.delete(response_id))
            return json_response(d.retrieve(response_id))
        except APIError as error:
            return error_response(d, error)

    return endpoint


# --- Model listings ------------------------------------------------------------------------


def openai_model(info: ModelInfo) -> dict[str, Any]:
    return {"id": info.id, "object": "model", "created": info.created, "owned_by": info.owned_by}


def _vendor(request: Request) -> str:
    """Which vendor's shape a `/v1/models` call wants, read from its credentials (the gateway
    answers Claude's shape to `x-api-key` + `anthropic-version`, Gemini's to a Google key).

    `anthropic-version` alone is enough: anthropic-python 2.x authenticates with
    `Authorization: Bearer` and no `x-api-key`, and only Anthropic clients send the version."""
    headers = request.headers
    if "x-goog-api-key" in headers or "key" in request.query_params:
        return "gemini"
    if "anthropic-version" in headers:
        return "anthropic"
    return "openai"


def list_models(state: MockState) -> Endpoint:
    async def endpoint(request: Request) -> ASGIApp:
        from mockserver.protocols.anthropic import messages as anthropic
        from mockserver.protocols.gemini import extras as gemini_extras

        infos = state.catalog.all()
        vendor = _vendor(request) if not request.url.path.startswith("/v1beta/") else "gemini"
        if request.url.path.startswith("/v1beta/openai/"):
            vendor = "openai"
        if state.gateway is not None:  # behind the key: only what it may use
            return _gateway_models(state, request, vendor)
        query = request.query_params
        try:
            if vendor == "anthropic":
                body = anthropic.render_model_list(
                    infos,
                    limit=int(query.get("limit", 20)),
                    after_id=query.get("after_id"),
                    before_id=query.get("before_id"),
                )
            elif vendor == "gemini":
                body = gemini_extras.render_model_list(
                    infos, query.get("pageSize"), query.get("pageToken")
                )
            else:
                body = {"object": "list", "data": [openai_model(info) for info in infos]}
        except APIError as error:
            return error_response(_dialect_for(state, vendor), error)
        return json_response(body)

    return endpoint


def _gateway_models(state: MockState, request: Request, vendor: str) -> ASGIApp:
    from mockserver.gateway.models import list_models

    if vendor == "anthropic" and "x-api-key" not in request.headers:
        vendor = "openai"  # new-api answers Claude's shape to x-api-key + anthropic-version
    try:
        return json_response(list_models(state, request, vendor))
    except APIError as error:
        return error_response(_dialect_for(state, vendor), error)


def get_model(state: MockState) -> Endpoint:
    async def endpoint(request: Request) -> ASGIApp:
        from mockserver.protocols.anthropic import messages as anthropic
        from mockserver.protocols.gemini import extras as gemini_extras

        model_id = request.path_params["model"].removeprefix("models/")
        vendor = "gemini" if request.url.path.startswith("/v1beta/") else _vendor(request)
        dialect = _dialect_for(state, vendor)
        if state.gateway is not None:  # behind the key, as the list is (`TokenAuth`)
            try:
                state.gateway.authenticate(request.scope)
            except APIError as error:
                return error_response(dialect, error)
        info = state.catalog.get(model_id)
        if info is None:
            return error_response(dialect, dialect.model_not_found(model_id))
        if vendor == "anthropic":
            return json_response(anthropic.render_model(info))
        if vendor == "gemini":
            return json_response(gemini_extras.render_model(info))
        return json_response(openai_model(info) | {"id": model_id})

    return endpoint


def _dialect_for(state: MockState, vendor: str) -> Dialect:
    d = state.dialects
    return {"anthropic": d.anthropic, "gemini": d.gemini}.get(vendor, d.chat)


# --- Gemini ----------------------------------------------------------------------------------


def gemini_action(state: MockState) -> Endpoint:
    """`POST /v1beta/models/{model}:{action}`: generations, counts and embeddings."""
    from mockserver.protocols.gemini import extras as gemini_extras
    from mockserver.protocols.gemini import generate as gemini

    d = state.dialects.gemini

    def count_not_found(model: str, request: Request) -> APIError:
        return d.model_not_found(model, "countTokens", gemini.api_version(request.url.path))

    count = count_tokens(
        state, d, d.parse_count_tokens, gemini_extras.count_tokens_body, count_not_found
    )
    embed = journaled_endpoint(state, d.name, _gemini_embed, d)

    async def endpoint(request: Request) -> ASGIApp:
        model, action = gemini.split_model_action(request.path_params["model"])
        if action in ("generateContent", "streamGenerateContent"):
            return await generate(request.scope, request.receive, d, state, request.path_params)
        if action == "countTokens":
            return await count(request)
        if action in ("embedContent", "batchEmbedContents"):
            return await embed(request)
        version = gemini.api_version(request.url.path)
        return error_response(d, d.model_not_found(model, action or "generateContent", version))

    return endpoint


async def _gemini_embed(call: Call) -> ASGIApp:
    from mockserver.engine.content.embeddings import Embedder, EmbeddingRuleError
    from mockserver.protocols.gemini import extras as gemini_extras
    from mockserver.protocols.gemini import generate as gemini

    state, request, entry = call.state, call.request, call.entry
    assert request is not None
    d = state.dialects.gemini
    model, action = gemini.split_model_action(request.path_params["model"])
    entry.model = model
    inbound = inbound_of(request)
    gemini.require_api_key(inbound)
    body = parse_json(await call.body(), d)
    entry.body = body
    info = state.catalog.get(model)
    if info is None:
        raise d.model_not_found(model, action, gemini.api_version(request.url.path))
    with leniency.reading(strict=state.strict_validation) as notes:
        parsed = gemini_extras.parse_embed_request(body, gemini.api_version(request.url.path))
    entry.notes = notes
    dimensions = parsed.output_dimensionality or info.dimensions or 768
    try:
        embedder = Embedder(state.engine.seed, state.scenarios.embedding_rules)
        vectors = embedder.vectors(parsed.texts, dimensions)
    except EmbeddingRuleError as error:  # the scenario pinned a vector shorter than asked for
        raise APIError(400, str(error)) from None
    entry.status = 200
    if action == "embedContent":
        return json_response(gemini_extras.render_embed(vectors[0]))
    return json_response(gemini_extras.render_batch_embed(vectors))


# --- OpenAI legacy and utility endpoints -----------------------------------------------------


def completions(state: MockState) -> Endpoint:
    """`POST /v1/completions`: one engine answer per prompt, rendered as one text_completion."""
    d = state.dialects.completions

    async def respond(call: Call) -> ASGIApp:
        request, entry = call.request, call.entry
        assert request is not None
        body = parse_json(await call.body(), d)
        entry.body = body
        exchanges = d.parse_prompts(body, inbound_of(request))
        first = exchanges[0]
        call.admit(first.model, 0, first.max_tokens)
        replies = [answer(state, d, exchange, entry) for exchange in exchanges]
        entry.status = 200
        headers = d.reply_headers(replies[0], first)
        if call.charge is not None:
            usage = Usage(
                sum(r.usage.prompt_tokens for r in replies),
                sum(r.usage.completion_tokens for r in replies),
            )
            call.settle(usage, headers)
        if first.stream:
            frames = d.render_stream_many(replies, exchanges)
            entry.events_sent = len(frames)
            return EventStream(frames, headers=headers)
        return json_response(d.render_many(replies, exchanges), headers=headers)

    return journaled_endpoint(state, d.name, respond, d, relay=True)


def utility(
    state: MockState,
    name: str,
    produce: Callable[[MockState, Any, Inbound, Entry], dict[str, Any]],
    dialect: Dialect | None = None,
    *,
    memoizable: bool = False,
) -> Handler:
    """A JSON-in, JSON-out endpoint answered by `produce`, journaled, errors in OpenAI's shape
    (or `dialect`'s). `memoizable`: the same request always gets the same response, which is
    then kept in the memo and sent again as it is."""
    shape = dialect or state.dialects.chat

    async def respond(call: Call) -> ASGIApp:
        scope, entry, memo = call.scope, call.entry, state.memo
        raw = await call.body()
        key = memo.key(scope, raw) if memoizable and call.caller is None else None
        known = memo.answered(key)
        if known is not None:
            entry.body, entry.model, entry.status = known.request, known.model, 200
            return RawResponse(known.body, 200, known.headers)
        body = parse_json(raw, shape)
        entry.body = body
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            entry.model = body["model"]
        call.admit(entry.model or "")
        result = produce(state, body, inbound_from_scope(scope), entry)
        entry.status = 200
        headers = shape.reply_headers(None, None)
        call.settle(usage_of(result), headers)
        response = Answered(orjson.dumps(result), headers, body, entry.model)
        memo.put(key, response)
        return RawResponse(response.body, 200, response.headers)

    return journaled(state, name, respond, shape, relay=True)


def usage_of(result: dict[str, Any]) -> Usage:
    """The usage an embeddings / rerank / moderation answer reports (for the gateway's bill)."""
    usage = result.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    prompt = int(usage.get("prompt_tokens") or usage.get("total_tokens") or 0)
    return Usage(prompt_tokens=prompt, completion_tokens=int(usage.get("completion_tokens") or 0))


def on_first_use(make: Callable[[], Endpoint]) -> Endpoint:
    """The endpoint `make` returns, made on its first request (with its dialect's module)."""
    made: list[Endpoint] = []

    async def endpoint(request: Request) -> ASGIApp:
        if not made:  # two first requests at once may both make one: either will do
            made.append(make())
        return await made[0](request)

    return endpoint


def endpoint_of(handle: Handler) -> Endpoint:
    """A Starlette endpoint for an ASGI-level handler."""

    async def endpoint(request: Request) -> ASGIApp:
        return await handle(request.scope, request.receive)

    return endpoint


def _known_model(state: MockState, model: str) -> ModelInfo:
    info = state.catalog.get(model)
    if info is None:
        raise state.dialects.chat.model_not_found(model)
    return info


def _embeddings(state: MockState, body: Any, inbound: Inbound, entry: Entry) -> dict[str, Any]:
    from mockserver.protocols.openai import embeddings as openai_embeddings

    parsed = openai_embeddings.parse_embeddings(body, inbound.headers)
    info = _known_model(state, parsed.model)
    return openai_embeddings.create_embeddings(
        parsed,
        info,
        get_tokenizer(info.encoding),
        state.engine.seed,
        state.scenarios.embedding_rules,
    )


def _moderations(state: MockState, body: Any, inbound: Inbound, entry: Entry) -> dict[str, Any]:
    from mockserver.protocols.openai import moderations

    parsed = moderations.parse_moderation(body, inbound.headers)
    _known_model(state, parsed.model)
    occurrence = state.engine.occurrence(("moderation", parsed.model, body))
    return moderations.moderate(
        parsed, state.engine.seed, state.scenarios.moderation_rules, occurrence
    )


def _rerank(state: MockState, body: Any, inbound: Inbound, entry: Entry) -> dict[str, Any]:
    from mockserver.protocols.newapi import rerank

    parsed = rerank.parse_rerank(body)
    tokenizer = get_tokenizer(state.catalog.encoding_for(parsed.model))
    return rerank.rerank(parsed, tokenizer, state.engine.seed)


def embeddings_handler(state: MockState) -> Handler:
    return utility(state, "openai.embeddings", _embeddings, memoizable=True)


def moderations_handler(state: MockState) -> Handler:
    # Not memoizable: every moderation result has its own id.
    return utility(state, "openai.moderations", _moderations)


def rerank_handler(state: MockState) -> Handler:
    return utility(state, "rerank", _rerank, dialect=state.dialects.rerank, memoizable=True)
