"""Hosted web search through each official SDK, on the copyable `scenarios/web_search.yaml`.

Each dialect shows the same scripted search its own way; the bodies are checked with the SDKs'
own models (and, for OpenAI, the OpenAPI spec), streamed and not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from mockserver.http.server_thread import ServerThread
from tests.integration.every_dialect import OPENAI_HEADERS, sse_events
from tests.openapi_spec import validate

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "web_search.yaml"
QUESTION = "Who won the Tour de France in 2024?"
ANSWER = "Tadej Pogacar won the 2024 Tour de France. It was his third overall victory."
FIRST = "Tadej Pogacar won the 2024 Tour de France."
SECOND = "It was his third overall victory."
WIKI = "https://en.wikipedia.org/wiki/2024_Tour_de_France"
REUTERS = "https://www.reuters.com/sports/cycling/pogacar-third-tour-title"
QUERY = "Who won the Tour de France in 2024"
ANTHROPIC_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    from mockserver.http.app import create_app
    from mockserver.settings import Settings

    settings = Settings(scenario_paths=[str(SCENARIO)], port=0)
    with ServerThread(create_app(settings)) as running:
        yield running


@pytest.fixture(scope="module")
def oai(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-test", max_retries=0)


# --- Chat Completions ----------------------------------------------------------------------


def test_chat_search_model_cites_each_page(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(
        model="gpt-4o-search-preview",
        web_search_options={"search_context_size": "low"},
        messages=[{"role": "user", "content": QUESTION}],
    )

    message = reply.choices[0].message
    assert message.content == ANSWER
    citations = [a.url_citation for a in message.annotations or []]
    assert [(c.url, c.title) for c in citations] == [
        (WIKI, "2024 Tour de France - Wikipedia"),
        (REUTERS, "Pogacar seals third Tour de France title"),
    ]
    assert [ANSWER[c.start_index : c.end_index] for c in citations] == [FIRST, SECOND]
    validate("CreateChatCompletionResponse", reply.model_dump(mode="json", exclude_unset=True))


def test_chat_without_search_gets_the_offline_rule(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": QUESTION}]
    )

    assert reply.choices[0].message.content == "I can't look that up without web search."
    assert reply.choices[0].message.annotations == []


def test_chat_stream_sends_annotations_after_the_text(server: ServerThread) -> None:
    body = {
        "model": "gpt-4o-mini-search-preview",
        "stream": True,
        "web_search_options": {},
        "messages": [{"role": "user", "content": QUESTION}],
    }
    events = sse_events(
        httpx.post(f"{server.url}/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
    )
    chunks = [e.data for e in events if e.data != "[DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    text = "".join(d.get("content") or "" for d in deltas)
    annotations = [a for d in deltas for a in d.get("annotations", [])]
    assert text == ANSWER
    assert [a["url_citation"]["url"] for a in annotations] == [WIKI, REUTERS]
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)


def test_fake_results_without_a_script_are_the_same_every_time(oai: openai.OpenAI) -> None:
    def ask() -> Any:
        return oai.chat.completions.create(
            model="gpt-4o-search-preview",
            messages=[{"role": "user", "content": "Tell me about the history of cats."}],
        )

    def pages(reply: Any) -> list[tuple[str, str]]:
        return [
            (a.url_citation.url, a.url_citation.title) for a in reply.choices[0].message.annotations
        ]

    first, second = pages(ask()), pages(ask())  # the fake prose differs, the pages don't
    assert len(first) == 3 and all(url.startswith("https://") for url, _ in first)
    assert first == second


# --- Responses -----------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["web_search", "web_search_preview"])
def test_responses_web_search_call_then_cited_text(oai: openai.OpenAI, tool: str) -> None:
    response = oai.responses.create(
        model="gpt-4.1",
        tools=[{"type": tool}],  # type: ignore[list-item]
        include=["web_search_call.action.sources"],
        input=QUESTION,
    )

    call, message = response.output
    assert call.type == "web_search_call" and call.status == "completed"
    assert call.id.startswith("ws_")
    assert call.action.type == "search" and call.action.query == QUERY
    assert [s.url for s in call.action.sources or []] == [WIKI, REUTERS]
    assert message.type == "message"
    part = message.content[0]
    assert part.type == "output_text" and part.text == ANSWER
    assert [(a.type, a.url) for a in part.annotations] == [
        ("url_citation", WIKI),
        ("url_citation", REUTERS),
    ]
    assert [ANSWER[a.start_index : a.end_index] for a in part.annotations] == [FIRST, SECOND]
    validate("Response", response.model_dump(mode="json", exclude_unset=True))


@pytest.mark.parametrize("choice", ["required", {"type": "web_search_preview"}])
def test_responses_a_hosted_tool_can_be_required(oai: openai.OpenAI, choice: Any) -> None:
    response = oai.responses.create(
        model="gpt-4.1",
        tools=[{"type": "web_search_preview"}],
        tool_choice=choice,
        input=QUESTION,
    )

    assert [item.type for item in response.output] == ["web_search_call", "message"]


def test_responses_stream_has_search_and_annotation_events(oai: openai.OpenAI) -> None:
    with oai.responses.stream(
        model="gpt-4.1", tools=[{"type": "web_search"}], input=QUESTION
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()

    searching = [k for k in kinds if k.startswith("response.web_search_call.")]
    assert searching == [
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
    ]
    assert kinds.count("response.output_text.annotation.added") == 2
    assert final.output[0].type == "web_search_call"
    assert final.output_text == ANSWER


# --- Anthropic -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def claude(server: ServerThread) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


def claude_request() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "tools": [ANTHROPIC_SEARCH],
        "messages": [{"role": "user", "content": QUESTION}],
    }


def check_claude_message(message: Any) -> None:
    use, result, *texts = message.content
    assert use.type == "server_tool_use" and use.name == "web_search"
    assert use.id.startswith("srvtoolu_") and use.input == {"query": QUERY}
    assert result.type == "web_search_tool_result" and result.tool_use_id == use.id
    assert [(r.type, r.url) for r in result.content] == [
        ("web_search_result", WIKI),
        ("web_search_result", REUTERS),
    ]
    assert "".join(t.text for t in texts) == ANSWER
    cited = [(c.type, c.url, c.cited_text) for t in texts for c in t.citations or []]
    assert cited == [
        ("web_search_result_location", WIKI, FIRST),
        ("web_search_result_location", REUTERS, SECOND),
    ]
    assert message.usage.server_tool_use.web_search_requests == 1


def test_anthropic_server_tool_blocks_and_citations(claude: anthropic.Anthropic) -> None:
    check_claude_message(claude.messages.create(**claude_request()))


def test_anthropic_stream_builds_the_same_message(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(**claude_request()) as stream:
        deltas = [e.delta.type for e in stream if e.type == "content_block_delta"]
        message = stream.get_final_message()

    check_claude_message(message)
    assert deltas.count("citations_delta") == 2


def test_anthropic_without_the_tool_has_no_search(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(**{**claude_request(), "tools": []})

    assert [b.type for b in message.content] == ["text"]
    assert message.usage.server_tool_use is None


# --- Gemini --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemini(server: ServerThread) -> genai.Client:
    return genai.Client(api_key="g-test", http_options={"base_url": server.url})


SEARCH_CONFIG = genai_types.GenerateContentConfig(
    tools=[genai_types.Tool(google_search=genai_types.GoogleSearch())]
)


def check_grounding(metadata: Any, text: str) -> None:
    assert metadata.web_search_queries == [QUERY]
    assert [c.web.uri for c in metadata.grounding_chunks] == [WIKI, REUTERS]
    assert [c.web.domain for c in metadata.grounding_chunks] == [
        "en.wikipedia.org",
        "www.reuters.com",
    ]
    encoded = text.encode()
    segments = [(s.segment, s.grounding_chunk_indices) for s in metadata.grounding_supports]
    assert [(seg.text, idx) for seg, idx in segments] == [(FIRST, [0]), (SECOND, [1])]
    for segment, _ in segments:
        assert encoded[segment.start_index or 0 : segment.end_index].decode() == segment.text
    assert "Tour de France" in metadata.search_entry_point.rendered_content


def test_gemini_google_search_grounding(gemini: genai.Client) -> None:
    reply = gemini.models.generate_content(
        model="gemini-2.5-flash", contents=QUESTION, config=SEARCH_CONFIG
    )

    assert reply.text == ANSWER
    check_grounding(reply.candidates[0].grounding_metadata, ANSWER)  # type: ignore[index]


def test_gemini_stream_grounds_the_last_chunk(gemini: genai.Client) -> None:
    chunks = list(
        gemini.models.generate_content_stream(
            model="gemini-2.5-flash", contents=QUESTION, config=SEARCH_CONFIG
        )
    )

    text = "".join(chunk.text or "" for chunk in chunks)
    grounded = [c for c in chunks if c.candidates and c.candidates[0].grounding_metadata]
    assert text == ANSWER
    assert grounded == [chunks[-1]]
    check_grounding(chunks[-1].candidates[0].grounding_metadata, ANSWER)  # type: ignore[index]
