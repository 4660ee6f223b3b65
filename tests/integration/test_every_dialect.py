"""One scenario rule, every dialect: the official SDKs against a real server.

`scenarios/every_dialect.yaml` is written once, with no vendor in it. Here every SDK asks it the
same thing, sync and async, streamed and not, and must get the same words back, cut the same
way by a token limit or a stop sequence; the server's journal confirms which dialect parsed each
request and which rule answered it. Vendor-shaped errors and per-vendor model listings come
through the SDKs' own exception types and models.

Beside this module: test_tool_agents (the same tool call and answer in every dialect), and the
wire-level checks of each dialect (spec or SDK-model validation of every body and event);
Chat Completions' wire is checked here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors
from google.genai import types

from mockserver.http.server_thread import ServerThread
from tests.integration.every_dialect import (
    ANTHROPIC_HEADERS,
    CHAT_MODEL,
    CHAT_TOOL,
    CLAUDE_MODEL,
    FORECAST,
    FORECAST_QUESTION,
    GEMINI_MODEL,
    INSTRUCT_MODEL,
    OPENAI_HEADERS,
    WEATHER_QUESTION,
    AsyncClients,
    Clients,
    async_sdk_clients,
    journal,
    post,
    post_json,
    sdk_clients,
    serve,
    sse_events,
    user,
)
from tests.openapi_spec import validate


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    # A strict catalog: the tests of each vendor's unknown-model error need one.
    with serve(catalog="strict") as running:
        yield running


@pytest.fixture(scope="module")
def clients(server: ServerThread) -> Iterator[Clients]:
    with sdk_clients(server) as made:
        yield made


@pytest.fixture
async def aclients(server: ServerThread) -> AsyncIterator[AsyncClients]:
    async with async_sdk_clients(server) as made:
        yield made


# --- The same text, from every dialect ------------------------------------------------------


def chat(c: Clients, q: str) -> str:
    completion = c.openai.chat.completions.create(model=CHAT_MODEL, messages=user(q))
    return completion.choices[0].message.content or ""


def chat_stream(c: Clients, q: str) -> str:
    stream = c.openai.chat.completions.create(model=CHAT_MODEL, messages=user(q), stream=True)
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def responses(c: Clients, q: str) -> str:
    return c.openai.responses.create(model=CHAT_MODEL, input=q).output_text


def responses_stream(c: Clients, q: str) -> str:
    with c.openai.responses.stream(model=CHAT_MODEL, input=q) as stream:
        deltas = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        assert stream.get_final_response().output_text == deltas
    return deltas


def completions(c: Clients, q: str) -> str:
    return (
        c.openai.completions.create(model=INSTRUCT_MODEL, prompt=q, max_tokens=64).choices[0].text
    )


def completions_stream(c: Clients, q: str) -> str:
    stream = c.openai.completions.create(model=INSTRUCT_MODEL, prompt=q, max_tokens=64, stream=True)
    return "".join(chunk.choices[0].text for chunk in stream)


def messages(c: Clients, q: str) -> str:
    message = c.anthropic.messages.create(model=CLAUDE_MODEL, max_tokens=256, messages=user(q))
    return "".join(block.text for block in message.content if block.type == "text")


def messages_stream(c: Clients, q: str) -> str:
    with c.anthropic.messages.stream(model=CLAUDE_MODEL, max_tokens=256, messages=user(q)) as s:
        deltas = "".join(s.text_stream)
        assert s.get_final_text() == deltas
    return deltas


def gemini(c: Clients, q: str) -> str:
    return c.genai.models.generate_content(model=GEMINI_MODEL, contents=q).text or ""


def gemini_stream(c: Clients, q: str) -> str:
    chunks = c.genai.models.generate_content_stream(model=GEMINI_MODEL, contents=q)
    return "".join(chunk.text or "" for chunk in chunks)


SYNC: dict[str, Callable[[Clients, str], str]] = {
    f.__name__: f
    for f in (
        chat,
        chat_stream,
        responses,
        responses_stream,
        completions,
        completions_stream,
        messages,
        messages_stream,
        gemini,
        gemini_stream,
    )
}


DIALECT_OF = {
    "chat": "openai.chat",
    "responses": "openai.responses",
    "completions": "openai.completions",
    "messages": "anthropic.messages",
    "gemini": "gemini",
}


@pytest.mark.parametrize("ask", SYNC.values(), ids=SYNC.keys())
def test_one_rule_gives_the_same_text_in_every_dialect(
    server: ServerThread, clients: Clients, ask: Callable[[Clients, str], str]
) -> None:
    assert ask(clients, FORECAST_QUESTION) == FORECAST
    # The server's journal says which dialect parsed the request and which rule answered it.
    last = journal(server)[-1]
    assert (last.dialect, last.rule, last.status) == (
        DIALECT_OF[ask.__name__.removesuffix("_stream")],
        "forecast",
        200,
    )
    assert last.stream is ask.__name__.endswith("_stream")


async def achat(c: AsyncClients, q: str) -> str:
    completion = await c.openai.chat.completions.create(model=CHAT_MODEL, messages=user(q))
    return completion.choices[0].message.content or ""


async def achat_stream(c: AsyncClients, q: str) -> str:
    stream = await c.openai.chat.completions.create(model=CHAT_MODEL, messages=user(q), stream=True)
    return "".join([chunk.choices[0].delta.content or "" async for chunk in stream])


async def aresponses(c: AsyncClients, q: str) -> str:
    return (await c.openai.responses.create(model=CHAT_MODEL, input=q)).output_text


async def aresponses_stream(c: AsyncClients, q: str) -> str:
    async with c.openai.responses.stream(model=CHAT_MODEL, input=q) as stream:
        return (await stream.get_final_response()).output_text


async def acompletions(c: AsyncClients, q: str) -> str:
    completion = await c.openai.completions.create(model=INSTRUCT_MODEL, prompt=q, max_tokens=64)
    return completion.choices[0].text


async def amessages(c: AsyncClients, q: str) -> str:
    message = await c.anthropic.messages.create(
        model=CLAUDE_MODEL, max_tokens=256, messages=user(q)
    )
    return "".join(block.text for block in message.content if block.type == "text")


async def amessages_stream(c: AsyncClients, q: str) -> str:
    async with c.anthropic.messages.stream(
        model=CLAUDE_MODEL, max_tokens=256, messages=user(q)
    ) as stream:
        return await stream.get_final_text()


async def agemini(c: AsyncClients, q: str) -> str:
    return (await c.genai.aio.models.generate_content(model=GEMINI_MODEL, contents=q)).text or ""


async def agemini_stream(c: AsyncClients, q: str) -> str:
    chunks = await c.genai.aio.models.generate_content_stream(model=GEMINI_MODEL, contents=q)
    return "".join([chunk.text or "" async for chunk in chunks])


ASYNC: dict[str, Callable[[AsyncClients, str], Awaitable[str]]] = {
    f.__name__: f
    for f in (
        achat,
        achat_stream,
        aresponses,
        aresponses_stream,
        acompletions,
        amessages,
        amessages_stream,
        agemini,
        agemini_stream,
    )
}


@pytest.mark.parametrize("ask", ASYNC.values(), ids=ASYNC.keys())
async def test_async_clients_get_the_same_text(
    aclients: AsyncClients, ask: Callable[[AsyncClients, str], Awaitable[str]]
) -> None:
    assert await ask(aclients, FORECAST_QUESTION) == FORECAST


def test_a_token_limit_and_a_stop_sequence_cut_the_same_text_everywhere(clients: Clients) -> None:
    """16 tokens (Responses' minimum) is one short of the forecast: every dialect stops one
    token early and says so in its own words; a stop sequence cuts before itself."""
    c, cut, q = clients, FORECAST[:-1], FORECAST_QUESTION
    chat_cut = c.openai.chat.completions.create(model=CHAT_MODEL, messages=user(q), max_tokens=16)
    assert (chat_cut.choices[0].message.content, chat_cut.choices[0].finish_reason) == (
        cut,
        "length",
    )
    legacy = c.openai.completions.create(model=INSTRUCT_MODEL, prompt=q, max_tokens=16)
    assert (legacy.choices[0].text, legacy.choices[0].finish_reason) == (cut, "length")
    response = c.openai.responses.create(model=CHAT_MODEL, input=q, max_output_tokens=16)
    assert (response.output_text, response.status) == (cut, "incomplete")
    assert response.incomplete_details and response.incomplete_details.reason == "max_output_tokens"
    message = c.anthropic.messages.create(model=CLAUDE_MODEL, max_tokens=16, messages=user(q))
    assert (message.content[0].text, message.stop_reason) == (cut, "max_tokens")  # type: ignore[union-attr]
    config = types.GenerateContentConfig(max_output_tokens=16)
    gemini_cut = c.genai.models.generate_content(model=GEMINI_MODEL, contents=q, config=config)
    assert gemini_cut.candidates
    assert (gemini_cut.text, gemini_cut.candidates[0].finish_reason) == (
        cut,
        types.FinishReason.MAX_TOKENS,
    )

    before = FORECAST[: FORECAST.index(" degrees")]
    stop = [" degrees"]
    chat_stop = c.openai.chat.completions.create(model=CHAT_MODEL, messages=user(q), stop=stop)
    assert chat_stop.choices[0].message.content == before
    legacy = c.openai.completions.create(model=INSTRUCT_MODEL, prompt=q, max_tokens=64, stop=stop)
    assert legacy.choices[0].text == before
    message = c.anthropic.messages.create(
        model=CLAUDE_MODEL, max_tokens=64, messages=user(q), stop_sequences=stop
    )
    assert (message.content[0].text, message.stop_reason) == (before, "stop_sequence")  # type: ignore[union-attr]
    assert message.stop_sequence == " degrees"
    config = types.GenerateContentConfig(stop_sequences=stop)
    gemini_stop = c.genai.models.generate_content(model=GEMINI_MODEL, contents=q, config=config)
    assert gemini_stop.text == before


def test_chat_bodies_and_chunks_for_the_same_rules_follow_the_spec(server: ServerThread) -> None:
    """The Chat Completions wire for the rules above (Responses, completions, embeddings are
    validated in their own modules, Anthropic and Gemini with their SDKs' models)."""
    url = server.url + "/v1/chat/completions"
    plain = {"model": CHAT_MODEL, "messages": user(FORECAST_QUESTION)}
    tool_call = {"model": CHAT_MODEL, "messages": user(WEATHER_QUESTION), "tools": [CHAT_TOOL]}
    for body in (plain, tool_call):
        validate("CreateChatCompletionResponse", post_json(url, OPENAI_HEADERS, body))
        options = {"stream": True, "stream_options": {"include_usage": True}}
        events = sse_events(post(url, OPENAI_HEADERS, body | options))
        assert events[-1].data == "[DONE]"
        for event in events[:-1]:
            validate("CreateChatCompletionStreamResponse", event.data)


# --- Listings and errors in each vendor's shape ----------------------------------------------


def test_each_sdk_lists_models_in_its_own_shape(clients: Clients) -> None:
    openai_ids = [model.id for model in clients.openai.models.list()]
    claude = [
        model for model in clients.anthropic.models.list(limit=1000) if model.id == CLAUDE_MODEL
    ]
    gemini_names = [model.name for model in clients.genai.models.list()]
    assert {CHAT_MODEL, CLAUDE_MODEL, GEMINI_MODEL} <= set(openai_ids)
    assert len(claude) == 1 and claude[0].type == "model"
    assert claude[0].display_name == "Claude Haiku 4.5"
    assert f"models/{GEMINI_MODEL}" in gemini_names
    one = clients.genai.models.get(model=GEMINI_MODEL)
    assert one.name == f"models/{GEMINI_MODEL}" and one.input_token_limit


def test_unknown_models_raise_each_sdks_not_found(clients: Clients) -> None:
    with pytest.raises(openai.NotFoundError) as openai_error:
        clients.openai.chat.completions.create(model="gpt-unknown", messages=user("hi"))
    assert openai_error.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        clients.openai.responses.create(model="gpt-unknown", input="hi")
    with pytest.raises(anthropic.NotFoundError) as anthropic_error:
        clients.anthropic.messages.create(model="claude-unknown", max_tokens=8, messages=user("hi"))
    assert anthropic_error.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert anthropic_error.value.request_id is not None
    with pytest.raises(genai_errors.ClientError) as gemini_error:
        clients.genai.models.generate_content(model="gemini-unknown", contents="hi")
    assert (gemini_error.value.code, gemini_error.value.status) == (404, "NOT_FOUND")
    assert "models/gemini-unknown is not found" in (gemini_error.value.message or "")


def test_missing_anthropic_version_is_a_400_in_anthropics_shape(server: ServerThread) -> None:
    headers = {"x-api-key": ANTHROPIC_HEADERS["x-api-key"]}
    body = {"model": CLAUDE_MODEL, "max_tokens": 8, "messages": user("hi")}
    response = post(server.url + "/v1/messages", headers, body)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error"
    assert error["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }
    assert error["request_id"] == response.headers["request-id"]
    assert response.headers["x-should-retry"] == "false"
