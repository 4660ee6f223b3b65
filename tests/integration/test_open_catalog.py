"""The open model catalog through the official SDKs: any model name is served, a strict catalog
gives each vendor's 404, a rule naming a model decides before the catalog, and families that
think only when asked spend no hidden reasoning tokens."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google.genai import errors as genai_errors

from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.settings import Settings
from tests.integration.every_dialect import (
    ANTHROPIC_HEADERS,
    GEMINI_HEADERS,
    OPENAI_HEADERS,
    Clients,
    sdk_clients,
    user,
)

SCENARIO = """\
version: 1
rules:
  - name: the-new-model
    match: {model: "gpt-9*"}
    reply: {content: "Served by a rule."}
  - name: the-new-claude
    match: {model: claude-opus-9}
    reply: {content: "Claude, by a rule."}
"""
STRICT = SCENARIO.replace("version: 1\n", "version: 1\ncatalog: strict\n")
# Names from real clients and the gateway's own model list that the built-in catalog doesn't list.
UNLISTED = [
    "gpt-5.1",
    "gpt-5-codex",
    "gpt-6.2-sol",
    "chatgpt-4o-latest",
    "ft:gpt-4o-mini:acme::BAC123",
    "gpt-4o-audio-preview",
    "gpt-4o-search-preview",
    "claude-3-5-sonnet-20240620",
    "claude-3-haiku-20240307",
    "claude-opus-4-8",
    "qwen-mt-turbo",
    "deepseek-ocr",
    "gemini-2.5-flash-image",
]


def serve(tmp_path: Path, text: str) -> ServerThread:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return ServerThread(create_app(Settings(scenario_paths=[str(path)], port=0))).start()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = serve(tmp_path_factory.mktemp("open"), SCENARIO)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = serve(tmp_path_factory.mktemp("strict"), STRICT)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clients(open_server: ServerThread) -> Iterator[Clients]:
    with sdk_clients(open_server) as made:
        yield made


@pytest.fixture(scope="module")
def strict_clients(strict_server: ServerThread) -> Iterator[Clients]:
    with sdk_clients(strict_server) as made:
        yield made


@pytest.mark.parametrize("model", UNLISTED)
def test_an_unlisted_model_is_served_on_chat_completions(clients: Clients, model: str) -> None:
    completion = clients.openai.chat.completions.create(
        model=model, messages=user("hi"), max_completion_tokens=2000
    )
    assert completion.model == model
    assert completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_unlisted_models_on_every_native_route(clients: Clients) -> None:
    response = clients.openai.responses.create(model="gpt-5-codex", input="hi")
    assert response.model == "gpt-5-codex"
    assert response.output_text
    assert response.usage is not None and response.usage.output_tokens_details.reasoning_tokens > 0
    message = clients.anthropic.messages.create(
        model="claude-opus-4-8", max_tokens=64, messages=user("hi")
    )
    assert message.model == "claude-opus-4-8" and message.content
    generated = clients.genai.models.generate_content(model="gemini-3-flash", contents="hi")
    assert generated.text


def test_the_listing_shows_the_known_models_only(open_server: ServerThread) -> None:
    listed = httpx.get(open_server.url + "/v1/models", headers=OPENAI_HEADERS, timeout=10).json()
    ids = {model["id"] for model in listed["data"]}
    assert "gpt-4o" in ids and "gpt-5.1" not in ids
    # A name it serves can be looked up, as clients do before they call it.
    one = httpx.get(open_server.url + "/v1/models/gpt-5.1", headers=OPENAI_HEADERS, timeout=10)
    assert one.status_code == 200 and one.json()["owned_by"] == "openai"


def test_a_strict_catalog_gives_each_vendors_404(strict_clients: Clients) -> None:
    with pytest.raises(openai.NotFoundError) as chat:
        strict_clients.openai.chat.completions.create(model="gpt-5.1", messages=user("hi"))
    assert chat.value.code == "model_not_found"
    assert "The model `gpt-5.1` does not exist" in chat.value.message
    with pytest.raises(openai.NotFoundError):
        strict_clients.openai.responses.create(model="gpt-5.1", input="hi")
    with pytest.raises(anthropic.NotFoundError) as claude:
        strict_clients.anthropic.messages.create(
            model="claude-opus-4-8", max_tokens=8, messages=user("hi")
        )
    assert claude.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    with pytest.raises(genai_errors.ClientError) as gemini:
        strict_clients.genai.models.generate_content(model="gemini-3-flash", contents="hi")
    assert gemini.value.code == 404
    # What the catalog lists (and fine-tunes of it) is served as ever.
    assert strict_clients.openai.chat.completions.create(model="gpt-4o", messages=user("hi"))
    tuned = strict_clients.openai.chat.completions.create(
        model="ft:gpt-4o-mini:acme::x1", messages=user("hi")
    )
    assert tuned.model == "ft:gpt-4o-mini:acme::x1"


def test_a_rule_naming_the_model_decides_before_the_catalog(strict_clients: Clients) -> None:
    chat = strict_clients.openai.chat.completions.create(model="gpt-9-mini", messages=user("hi"))
    assert chat.choices[0].message.content == "Served by a rule."
    responses = strict_clients.openai.responses.create(model="gpt-9", input="hi")
    assert responses.output_text == "Served by a rule."
    message = strict_clients.anthropic.messages.create(
        model="claude-opus-9", max_tokens=64, messages=user("hi")
    )
    assert message.content[0].text == "Claude, by a rule."  # type: ignore[union-attr]
    # The rule's glob doesn't reach other names.
    with pytest.raises(openai.NotFoundError):
        strict_clients.openai.chat.completions.create(model="gpt-8", messages=user("hi"))


@pytest.mark.parametrize(
    "model", ["claude-sonnet-4-5", "claude-opus-4-8", "gemini-2.5-flash", "gemini-3-pro-preview"]
)
def test_claude_and_gemini_on_chat_answer_text_within_max_tokens(
    clients: Clients, model: str
) -> None:
    completion = clients.openai.chat.completions.create(
        model=model, messages=user("hi"), max_tokens=20
    )
    usage = completion.usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 0
    assert completion.choices[0].message.content
    # Asked to think, they do (the gateway maps reasoning_effort to their thinking).
    thinking = clients.openai.chat.completions.create(
        model=model, messages=user("hi"), reasoning_effort="low"
    )
    assert thinking.usage is not None and thinking.usage.completion_tokens_details is not None
    assert thinking.usage.completion_tokens_details.reasoning_tokens > 0


def test_openai_reasoning_models_still_reason_unasked(clients: Clients) -> None:
    completion = clients.openai.chat.completions.create(
        model="o4-mini", messages=user("hi"), max_completion_tokens=2000
    )
    assert completion.usage is not None and completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens > 0
    message = completion.choices[0].message
    assert message.content and not hasattr(message, "reasoning_content")  # hidden, as live


def test_counting_tokens_of_an_unlisted_model(open_server: ServerThread) -> None:
    body: dict[str, Any] = {"model": "claude-opus-4-8", "messages": user("Hello, Claude")}
    counted = httpx.post(
        open_server.url + "/v1/messages/count_tokens",
        headers=ANTHROPIC_HEADERS,
        json=body,
        timeout=10,
    )
    assert counted.status_code == 200 and counted.json()["input_tokens"] > 0
    gemini = httpx.post(
        open_server.url + "/v1beta/models/gemini-3-flash:countTokens",
        headers=GEMINI_HEADERS,
        json={"contents": [{"parts": [{"text": "hi"}]}]},
        timeout=10,
    )
    assert gemini.status_code == 200 and gemini.json()["totalTokens"] > 0


def test_unlisted_names_on_the_other_endpoints(clients: Clients) -> None:
    embedded = clients.openai.embeddings.create(model="text-embedding-4-large", input="hi")
    assert embedded.model == "text-embedding-4-large" and embedded.data[0].embedding
    completed = clients.openai.completions.create(model="my-local-model", prompt="hi")
    assert completed.choices[0].text
    # OpenAI's own chat models stay refused there, with the API's pointer.
    with pytest.raises(openai.NotFoundError, match="This is a chat model"):
        clients.openai.completions.create(model="gpt-5.1", prompt="hi")
