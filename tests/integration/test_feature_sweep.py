"""The text-feature sweep: every documented text feature, sent through its official SDK the way
the vendor's (and the gateway's) docs show it, must produce its output field, not only be
accepted. One case per feature; each asserts the field that shows the feature worked.

OpenAI Chat Completions (openai):
  1 system message          2 streaming with include_usage   3 function tools
  4 parallel tool calls     5 structured outputs (json_schema) 6 JSON mode (json_object)
  7 logprobs/top_logprobs   8 n > 1                           9 stop sequences
 10 seed + system_fingerprint 11 max_completion_tokens         12 predicted outputs
 13 audio output            14 image input                    15 PDF file input
 16 web_search_options      17 reasoning_effort               18 automatic prompt caching
 19 input audio             20 chat.completions.parse (pydantic)
OpenAI Responses (openai):
 21 instructions            22 streamed events                23 function tools
 24 web_search tool         25 reasoning summary              26 text.format json_schema
 27 previous_response_id    28 input_image                    29 prompt caching
 30 max_output_tokens (incomplete)
Anthropic Messages (anthropic):
 31 system prompt           32 streaming                      33 tool use
 34 extended thinking       35 web search server tool         36 cache_control
 37 stop_sequences          38 top_k / temperature            39 image input
 40 PDF document input      41 count_tokens                   42 redacted thinking
Gemini (google-genai):
 43 system instruction      44 streaming                      45 function calling
 46 google_search grounding 47 code execution                 48 URL context
 49 thinking budget + thoughts 50 response_schema             51 candidateCount
 52 safety settings         53 explicit cache (cachedContents) 54 image input
 55 stop sequences          56 OpenAI-compatible include_thoughts 57 responseLogprobs
Through the gateway's OpenAI-compatible chat route:
 58 Claude thinking (reasoning_effort -> reasoning_content)  59 Gemini function calling
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest
from google.genai import types
from PIL import Image

from mockserver.testing.handle import MockServer

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
Feature = Callable[[MockServer], None]
FEATURES: dict[str, Feature] = {}


def feature(function: Feature) -> Feature:
    FEATURES[function.__name__] = function
    return function


def png_data(width: int = 640, height: int = 480) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_url() -> str:
    return "data:image/png;base64," + base64.b64encode(png_data()).decode()


PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").decode()
WAV = base64.b64encode(b"RIFF" + bytes(40)).decode()
HANDBOOK = "Section: every employee reads the security policy before the first day. " * 150
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Local time in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "date": {"type": "string"},
        "participants": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "date", "participants"],
    "additionalProperties": False,
}


COUNTING = {
    "version": 1,
    "rules": [
        {
            "name": "counting",
            "match": {"last_user": {"contains": "count"}},
            "reply": {"content": "one, two, three"},
        }
    ],
}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


# --- OpenAI Chat Completions ----------------------------------------------------------------


@feature
def chat_system_message(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "system", "content": "Be brief."}, *user("Hi")],
    )
    assert reply.choices[0].message.content


@feature
def chat_stream_include_usage(mock: MockServer) -> None:
    chunks = list(
        mock.openai_client().chat.completions.create(
            model="gpt-4o-mini",
            messages=user("Hi"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


@feature
def chat_function_tools(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o", messages=user("Weather in Paris?"), tools=[WEATHER], tool_choice="required"
    )
    calls = reply.choices[0].message.tool_calls or []
    assert reply.choices[0].finish_reason == "tool_calls"
    assert calls[0].function.name == "get_weather"  # type: ignore[union-attr]
    assert "city" in json.loads(calls[0].function.arguments)  # type: ignore[union-attr]


@feature
def chat_parallel_tool_calls(mock: MockServer) -> None:
    mock.load(
        {
            "version": 1,
            "rules": [
                {
                    "name": "oslo",
                    "match": {"last_user": {"contains": "Oslo"}},
                    "reply": {
                        "tool_calls": [
                            {"name": "get_weather", "arguments": {"city": "Oslo"}},
                            {"name": "get_time", "arguments": {"city": "Oslo"}},
                        ]
                    },
                }
            ],
        }
    )
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o",
        messages=user("Weather and time in Oslo?"),
        tools=[WEATHER, TIME],
        parallel_tool_calls=True,
    )
    calls = reply.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]  # type: ignore[union-attr]
    assert len({c.id for c in calls}) == 2


@feature
def chat_structured_outputs(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o",
        messages=user("Extract the event: Alice and Bob go to the science fair on Friday."),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "event", "schema": EVENT_SCHEMA, "strict": True},
        },
    )
    event = json.loads(reply.choices[0].message.content or "")
    assert set(event) == {"name", "date", "participants"}
    assert isinstance(event["participants"], list)


@feature
def chat_json_mode(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o-mini",
        messages=user("List three colours as JSON."),
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)


@feature
def chat_logprobs(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o", messages=user("Hi"), logprobs=True, top_logprobs=2
    )
    choice = reply.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content
    tokens = choice.logprobs.content
    assert "".join(t.token for t in tokens) == choice.message.content
    assert all(t.logprob <= 0 and len(t.top_logprobs) == 2 for t in tokens)
    assert all(t.top_logprobs[0].token == t.token for t in tokens)


@feature
def chat_n_choices(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o-mini", messages=user("Hi"), n=3
    )
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert all(c.message.content for c in reply.choices)


@feature
def chat_stop(mock: MockServer) -> None:
    mock.load(COUNTING)
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o", messages=user("count to three"), stop=[", three"]
    )
    assert reply.choices[0].message.content == "one, two"
    assert reply.choices[0].finish_reason == "stop"


@feature
def chat_seed(mock: MockServer) -> None:
    client = mock.openai_client()
    first = client.chat.completions.create(model="gpt-4o", messages=user("Hi"), seed=42)
    again = client.chat.completions.create(model="gpt-4o", messages=user("Hi"), seed=42)
    assert first.system_fingerprint and first.system_fingerprint.startswith("fp_")
    assert first.choices[0].message.content == again.choices[0].message.content


@feature
def chat_max_completion_tokens(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o", messages=user("Tell me a long story."), max_completion_tokens=5
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 5


@feature
def chat_predicted_outputs(mock: MockServer) -> None:
    code = "def add(a, b):\n    return a + b\n"
    mock.load(SCENARIOS / "chat_outputs.yaml")
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o",
        messages=user("rename add to plus:\n" + code),
        prediction={"type": "content", "content": code},
    )
    assert reply.usage is not None and reply.usage.completion_tokens_details is not None
    details = reply.usage.completion_tokens_details
    assert details.accepted_prediction_tokens and details.accepted_prediction_tokens > 0
    assert details.rejected_prediction_tokens is not None


@feature
def chat_audio_output(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
        messages=user("Say hello"),
    )
    audio = reply.choices[0].message.audio
    assert audio is not None and audio.transcript and audio.id
    assert base64.b64decode(audio.data)[:4] == b"RIFF"


@feature
def chat_image_input(mock: MockServer) -> None:
    client = mock.openai_client()
    image = {"type": "image_url", "image_url": {"url": png_url(), "detail": "low"}}
    plain = client.chat.completions.create(model="gpt-4o", messages=user("What is this?"))
    shown = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}],
    )
    assert plain.usage is not None and shown.usage is not None
    assert shown.usage.prompt_tokens - plain.usage.prompt_tokens == 85  # low detail


@feature
def chat_pdf_file_input(mock: MockServer) -> None:
    client = mock.openai_client()
    part = {
        "type": "file",
        "file": {"filename": "a.pdf", "file_data": f"data:application/pdf;base64,{PDF}"},
    }
    plain = client.chat.completions.create(model="gpt-4o", messages=user("Summarise"))
    shown = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": [{"type": "text", "text": "Summarise"}, part]}],
    )
    assert plain.usage is not None and shown.usage is not None
    assert shown.usage.prompt_tokens > plain.usage.prompt_tokens
    assert shown.choices[0].message.content


@feature
def chat_web_search_options(mock: MockServer) -> None:
    mock.load(SCENARIOS / "web_search.yaml")
    reply = mock.openai_client().chat.completions.create(
        model="gpt-4o-search-preview",
        web_search_options={},
        messages=user("Who won the Tour de France in 2024?"),
    )
    annotations = reply.choices[0].message.annotations or []
    assert annotations and annotations[0].type == "url_citation"
    assert annotations[0].url_citation.url.startswith("https://")


@feature
def chat_reasoning_effort(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model="o4-mini", messages=user("Plan my route"), reasoning_effort="high"
    )
    assert reply.usage is not None and reply.usage.completion_tokens_details is not None
    assert (reply.usage.completion_tokens_details.reasoning_tokens or 0) > 0


@feature
def chat_prompt_caching(mock: MockServer) -> None:
    client = mock.openai_client()
    messages = [{"role": "system", "content": HANDBOOK}, *user("Summarise")]
    client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    again = client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    assert again.usage is not None and again.usage.prompt_tokens_details is not None
    cached = again.usage.prompt_tokens_details.cached_tokens or 0
    assert cached >= 1024 and cached % 128 == 0


@feature
def chat_input_audio(mock: MockServer) -> None:
    client = mock.openai_client()
    part = {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}}
    plain = client.chat.completions.create(model="gpt-4o-audio-preview", messages=user("Hi"))
    heard = client.chat.completions.create(
        model="gpt-4o-audio-preview",
        messages=[{"role": "user", "content": [{"type": "text", "text": "Hi"}, part]}],
    )
    assert plain.usage is not None and heard.usage is not None
    assert heard.usage.prompt_tokens > plain.usage.prompt_tokens


class Event(pydantic.BaseModel):
    name: str
    date: str
    participants: list[str]


@feature
def chat_parse_pydantic(mock: MockServer) -> None:
    mock.load(SCENARIOS / "structured_output.yaml")
    reply = mock.openai_client().chat.completions.parse(
        model="gpt-4o",
        messages=user("Alice and Bob are going to a science fair on Friday."),
        response_format=Event,
    )
    assert reply.choices[0].message.parsed == Event(
        name="Science Fair", date="Friday", participants=["Alice", "Bob"]
    )


# --- OpenAI Responses -----------------------------------------------------------------------


@feature
def responses_instructions(mock: MockServer) -> None:
    response = mock.openai_client().responses.create(
        model="gpt-4.1", instructions="Be brief.", input="Hi"
    )
    assert response.output_text and response.status == "completed"


@feature
def responses_stream_events(mock: MockServer) -> None:
    events = list(mock.openai_client().responses.create(model="gpt-4.1", input="Hi", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert [e.sequence_number for e in events] == list(range(len(events)))


@feature
def responses_function_tools(mock: MockServer) -> None:
    tool = {"type": "function", **WEATHER["function"]}  # type: ignore[dict-item]
    response = mock.openai_client().responses.create(
        model="gpt-4.1", input="Weather in Paris?", tools=[tool], tool_choice="required"
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert calls and calls[0].name == "get_weather" and calls[0].call_id.startswith("call_")


@feature
def responses_web_search(mock: MockServer) -> None:
    mock.load(SCENARIOS / "web_search.yaml")
    response = mock.openai_client().responses.create(
        model="gpt-4.1", input="Who won the Tour de France in 2024?", tools=[{"type": "web_search"}]
    )
    kinds = [item.type for item in response.output]
    assert kinds[0] == "web_search_call"
    message = response.output[-1]
    assert message.type == "message"
    annotations = message.content[0].annotations  # type: ignore[union-attr]
    assert annotations and annotations[0].type == "url_citation"


@feature
def responses_reasoning_summary(mock: MockServer) -> None:
    mock.load(SCENARIOS / "reasoning.yaml")
    response = mock.openai_client().responses.create(
        model="o4-mini",
        input="Which route should I take?",
        reasoning={"effort": "medium", "summary": "auto"},
    )
    reasoning = [item for item in response.output if item.type == "reasoning"]
    assert reasoning and reasoning[0].summary
    assert "coastal road" in reasoning[0].summary[0].text
    assert response.usage is not None and response.usage.output_tokens_details.reasoning_tokens > 0


@feature
def responses_json_schema(mock: MockServer) -> None:
    response = mock.openai_client().responses.create(
        model="gpt-4.1",
        input="Extract the event.",
        text={
            "format": {
                "type": "json_schema",
                "name": "event",
                "schema": EVENT_SCHEMA,
                "strict": True,
            }
        },
    )
    assert set(json.loads(response.output_text)) == {"name", "date", "participants"}


@feature
def responses_previous_response_id(mock: MockServer) -> None:
    client = mock.openai_client()
    first = client.responses.create(model="gpt-4.1", input="My name is Ada.")
    second = client.responses.create(
        model="gpt-4.1", input="What is my name?", previous_response_id=first.id
    )
    assert second.previous_response_id == first.id
    assert first.usage is not None and second.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens


@feature
def responses_input_image(mock: MockServer) -> None:
    client = mock.openai_client()
    text = {"type": "input_text", "text": "What is this?"}
    image = {"type": "input_image", "image_url": png_url(), "detail": "high"}
    plain = client.responses.create(model="gpt-4.1", input=[{"role": "user", "content": [text]}])
    shown = client.responses.create(
        model="gpt-4.1",
        input=[{"role": "user", "content": [text, image]}],  # type: ignore[list-item]
    )
    assert plain.usage is not None and shown.usage is not None
    # 640 x 480: short side under 768, 2 x 1 tiles of 512 px.
    assert shown.usage.input_tokens - plain.usage.input_tokens == 85 + 2 * 170


@feature
def responses_prompt_caching(mock: MockServer) -> None:
    client = mock.openai_client()
    client.responses.create(model="gpt-4.1", instructions=HANDBOOK, input="Summarise")
    again = client.responses.create(model="gpt-4.1", instructions=HANDBOOK, input="Summarise")
    assert again.usage is not None
    assert again.usage.input_tokens_details.cached_tokens >= 1024


@feature
def responses_max_output_tokens(mock: MockServer) -> None:
    response = mock.openai_client().responses.create(
        model="gpt-4.1", input="Tell me a long story.", max_output_tokens=16
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"


# --- Anthropic Messages ---------------------------------------------------------------------

CLAUDE = "claude-sonnet-4-5"


@feature
def messages_system(mock: MockServer) -> None:
    message = mock.anthropic_client().messages.create(
        model=CLAUDE, max_tokens=64, system="Be brief.", messages=user("Hi")
    )
    assert message.content[0].type == "text" and message.content[0].text
    assert message.stop_reason == "end_turn"


@feature
def messages_streaming(mock: MockServer) -> None:
    with mock.anthropic_client().messages.stream(
        model=CLAUDE, max_tokens=64, messages=user("Hi")
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].text == text  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0


@feature
def messages_tool_use(mock: MockServer) -> None:
    tool = {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": WEATHER["function"]["parameters"],  # type: ignore[index]
    }
    message = mock.anthropic_client().messages.create(
        model=CLAUDE,
        max_tokens=256,
        messages=user("Weather in Paris?"),
        tools=[tool],  # type: ignore[list-item]
        tool_choice={"type": "any"},
    )
    assert message.stop_reason == "tool_use"
    block = message.content[-1]
    assert block.type == "tool_use" and block.id.startswith("toolu_") and "city" in block.input  # type: ignore[operator]


@feature
def messages_extended_thinking(mock: MockServer) -> None:
    mock.load(SCENARIOS / "reasoning.yaml")
    message = mock.anthropic_client().messages.create(
        model=CLAUDE,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=user("Which route should I take?"),
    )
    thinking = message.content[0]
    assert thinking.type == "thinking" and "coastal road" in thinking.thinking
    assert thinking.signature


@feature
def messages_web_search(mock: MockServer) -> None:
    mock.load(SCENARIOS / "web_search.yaml")
    message = mock.anthropic_client().messages.create(
        model=CLAUDE,
        max_tokens=512,
        messages=user("Who won the Tour de France in 2024?"),
        tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
    )
    kinds = [block.type for block in message.content]
    assert kinds[:2] == ["server_tool_use", "web_search_tool_result"]
    cited = [b for b in message.content if b.type == "text" and b.citations]
    assert cited
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_search_requests == 1


@feature
def messages_cache_control(mock: MockServer) -> None:
    client = mock.anthropic_client()
    system = [{"type": "text", "text": HANDBOOK, "cache_control": {"type": "ephemeral"}}]
    first = client.messages.create(
        model=CLAUDE,
        max_tokens=64,
        system=system,  # type: ignore[arg-type]
        messages=user("Summarise"),
    )
    second = client.messages.create(
        model=CLAUDE,
        max_tokens=64,
        system=system,  # type: ignore[arg-type]
        messages=user("Summarise"),
    )
    assert (first.usage.cache_creation_input_tokens or 0) >= 1024
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens


@feature
def messages_stop_sequences(mock: MockServer) -> None:
    mock.load(COUNTING)
    message = mock.anthropic_client().messages.create(
        model=CLAUDE, max_tokens=64, messages=user("count to three"), stop_sequences=[", three"]
    )
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == ", three"
    assert message.content[0].text == "one, two"  # type: ignore[union-attr]


@feature
def messages_top_k_temperature(mock: MockServer) -> None:
    message = mock.anthropic_client().messages.create(
        model=CLAUDE,
        max_tokens=64,
        messages=user("Hi"),
        extra_body={"top_k": 5, "temperature": 0.2},  # no longer typed parameters of the SDK
    )
    assert message.content[0].text  # type: ignore[union-attr]


@feature
def messages_image_input(mock: MockServer) -> None:
    client = mock.anthropic_client()
    data = base64.b64encode(png_data()).decode()
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    plain = client.messages.count_tokens(model=CLAUDE, messages=user("What is this?"))
    shown = client.messages.create(
        model=CLAUDE,
        max_tokens=64,
        messages=[{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}],  # type: ignore[list-item]
    )
    # 640 x 480 = 307,200 px / 750 = 409.6 -> 410 tokens.
    assert shown.usage.input_tokens - plain.input_tokens == 410


@feature
def messages_pdf_document_citations(mock: MockServer) -> None:
    document = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "The grass is green."},
        "title": "Facts",
        "citations": {"enabled": True},
    }
    mock.load(SCENARIOS / "document_citations.yaml")
    message = mock.anthropic_client().messages.create(
        model=CLAUDE,
        max_tokens=256,
        messages=[
            {
                "role": "user",
                "content": [document, {"type": "text", "text": "What colour is the grass?"}],  # type: ignore[list-item]
            }
        ],
    )
    cited = [b for b in message.content if b.type == "text" and b.citations]
    assert cited and cited[0].text == "The grass is green."  # type: ignore[union-attr]
    citation = cited[0].citations[0]  # type: ignore[union-attr,index]
    assert citation.type == "char_location" and citation.document_index == 0


@feature
def messages_count_tokens(mock: MockServer) -> None:
    counted = mock.anthropic_client().messages.count_tokens(
        model=CLAUDE, system="You are a scientist", messages=user("Hello, Claude")
    )
    assert counted.input_tokens == 14  # Anthropic's documented example


@feature
def messages_redacted_thinking(mock: MockServer) -> None:
    mock.load(SCENARIOS / "reasoning.yaml")
    message = mock.anthropic_client().messages.create(
        model=CLAUDE,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=user("Help with this sensitive question"),
    )
    assert message.content[0].type == "redacted_thinking" and message.content[0].data


# --- Gemini ---------------------------------------------------------------------------------

GEMINI = "gemini-2.5-flash"


@feature
def gemini_system_instruction(mock: MockServer) -> None:
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="Hi",
        config=types.GenerateContentConfig(system_instruction="Be brief."),
    )
    assert reply.text


@feature
def gemini_streaming(mock: MockServer) -> None:
    chunks = list(mock.genai_client().models.generate_content_stream(model=GEMINI, contents="Hi"))
    assert "".join(c.text or "" for c in chunks)
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.STOP


@feature
def gemini_function_calling(mock: MockServer) -> None:
    declaration = types.FunctionDeclaration(
        name="get_weather",
        description="Weather for a city",
        parameters_json_schema=WEATHER["function"]["parameters"],  # type: ignore[index]
    )
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="Weather in Paris?",
        config=types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[declaration])],
            tool_config=types.ToolConfig(
                function_calling_config=types.FunctionCallingConfig(
                    mode=types.FunctionCallingConfigMode.ANY
                )
            ),
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        ),
    )
    calls = reply.function_calls or []
    assert calls and calls[0].name == "get_weather" and "city" in (calls[0].args or {})


@feature
def gemini_google_search(mock: MockServer) -> None:
    mock.load(SCENARIOS / "web_search.yaml")
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="Who won the Tour de France in 2024?",
        config=types.GenerateContentConfig(tools=[types.Tool(google_search=types.GoogleSearch())]),
    )
    metadata = reply.candidates[0].grounding_metadata  # type: ignore[index]
    assert metadata is not None and metadata.grounding_chunks and metadata.grounding_supports
    assert metadata.search_entry_point is not None


@feature
def gemini_code_execution(mock: MockServer) -> None:
    mock.load(SCENARIOS / "gemini_tools.yaml")
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="What is the sum of the first 10 primes?",
        config=types.GenerateContentConfig(
            tools=[types.Tool(code_execution=types.ToolCodeExecution())]
        ),
    )
    assert reply.executable_code and "primes" in reply.executable_code
    assert reply.code_execution_result == "129\n"


@feature
def gemini_url_context(mock: MockServer) -> None:
    mock.load(SCENARIOS / "gemini_tools.yaml")
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="Compare the recipes at https://recipes.example/shortbread",
        config=types.GenerateContentConfig(tools=[types.Tool(url_context=types.UrlContext())]),
    )
    metadata = reply.candidates[0].url_context_metadata  # type: ignore[index]
    assert metadata is not None and metadata.url_metadata
    assert metadata.url_metadata[0].retrieved_url == "https://recipes.example/shortbread"


@feature
def gemini_thinking(mock: MockServer) -> None:
    mock.load(SCENARIOS / "reasoning.yaml")
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="Which route should I take?",
        config=types.GenerateContentConfig(
            thinking_config=types.ThinkingConfig(thinking_budget=1024, include_thoughts=True)
        ),
    )
    parts = reply.candidates[0].content.parts  # type: ignore[index,union-attr]
    assert parts[0].thought and "coastal road" in (parts[0].text or "")  # type: ignore[index]
    assert reply.usage_metadata is not None and (reply.usage_metadata.thoughts_token_count or 0) > 0


@feature
def gemini_response_schema(mock: MockServer) -> None:
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="Extract the event.",
        config=types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=Event
        ),
    )
    assert isinstance(reply.parsed, Event)


@feature
def gemini_candidate_count(mock: MockServer) -> None:
    reply = mock.genai_client().models.generate_content(
        model=GEMINI, contents="Hi", config=types.GenerateContentConfig(candidate_count=2)
    )
    assert reply.candidates is not None and [c.index for c in reply.candidates] == [0, 1]


@feature
def gemini_safety_settings(mock: MockServer) -> None:
    setting = types.SafetySetting(
        category=types.HarmCategory.HARM_CATEGORY_HARASSMENT,
        threshold=types.HarmBlockThreshold.BLOCK_LOW_AND_ABOVE,
    )
    reply = mock.genai_client().models.generate_content(
        model=GEMINI, contents="Hi", config=types.GenerateContentConfig(safety_settings=[setting])
    )
    assert reply.text and reply.candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]


@feature
def gemini_explicit_cache(mock: MockServer) -> None:
    client = mock.genai_client()
    cache = client.caches.create(
        model=GEMINI,
        config=types.CreateCachedContentConfig(contents=[HANDBOOK], ttl="300s"),
    )
    reply = client.models.generate_content(
        model=GEMINI,
        contents="Summarise",
        config=types.GenerateContentConfig(cached_content=cache.name),
    )
    assert reply.usage_metadata is not None and cache.usage_metadata is not None
    expected = cache.usage_metadata.total_token_count
    assert reply.usage_metadata.cached_content_token_count == expected


@feature
def gemini_image_input(mock: MockServer) -> None:
    client = mock.genai_client()
    image = types.Part.from_bytes(data=png_data(), mime_type="image/png")
    counted = client.models.count_tokens(model=GEMINI, contents=["What is this?", image])
    plain = client.models.count_tokens(model=GEMINI, contents=["What is this?"])
    assert counted.total_tokens is not None and plain.total_tokens is not None
    assert counted.total_tokens - plain.total_tokens == 258  # 640 x 480: one 768 px tile


@feature
def gemini_stop_sequences(mock: MockServer) -> None:
    mock.load(COUNTING)
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="count to three",
        config=types.GenerateContentConfig(stop_sequences=[", three"]),
    )
    assert reply.text == "one, two"


@feature
def gemini_openai_compatible_thoughts(mock: MockServer) -> None:
    mock.load(SCENARIOS / "reasoning.yaml")
    reply = mock.openai_client().chat.completions.create(
        model=GEMINI,
        messages=user("Which route should I take?"),
        extra_body={"extra_body": {"google": {"thinking_config": {"include_thoughts": True}}}},
    )
    message = reply.choices[0].message
    assert "coastal road" in json.dumps(message.model_dump())


# --- The new outputs' streamed forms -------------------------------------------------------


def test_streamed_logprobs_one_per_content_chunk(mockserver: MockServer) -> None:
    chunks = list(
        mockserver.openai_client().chat.completions.create(
            model="gpt-4o", messages=user("Hi"), logprobs=True, top_logprobs=3, stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    entries = [
        entry
        for chunk in chunks
        for choice in chunk.choices
        if choice.logprobs is not None
        for entry in choice.logprobs.content or []
    ]
    assert text and "".join(entry.token for entry in entries) == text
    assert all(len(entry.top_logprobs) == 3 for entry in entries)


def test_streamed_document_citation(mockserver: MockServer) -> None:
    document = {
        "type": "document",
        "source": {
            "type": "text",
            "media_type": "text/plain",
            "data": "Grass is green. Sky is blue.",
        },
        "citations": {"enabled": True},
    }
    question = {"type": "text", "text": "What colour is the grass?"}
    with mockserver.anthropic_client().messages.stream(
        model=CLAUDE,
        max_tokens=128,
        messages=[{"role": "user", "content": [document, question]}],  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_message()
    block = final.content[0]
    assert block.type == "text" and block.citations
    assert block.citations[0].cited_text == "Grass is green."  # type: ignore[union-attr]
    assert block.citations[0].end_char_index == len("Grass is green.")  # type: ignore[union-attr]


def test_a_request_seed_repeats_the_content_not_the_ids(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    first = client.chat.completions.create(model="gpt-4o", messages=user("Hi"), seed=7)
    again = client.chat.completions.create(model="gpt-4o", messages=user("Hi"), seed=7)
    other = client.chat.completions.create(model="gpt-4o", messages=user("Hi"), seed=8)
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.id != again.id
    assert other.choices[0].message.content != first.choices[0].message.content


def test_responses_logprobs_when_included(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    asked = {"include": ["message.output_text.logprobs"], "top_logprobs": 2}
    response = client.responses.create(model="gpt-4.1", input="Hi", **asked)  # type: ignore[arg-type]
    part = response.output[-1].content[0]  # type: ignore[union-attr]
    assert part.logprobs and "".join(e.token for e in part.logprobs) == part.text  # type: ignore[union-attr]
    assert all(len(e.top_logprobs) == 2 for e in part.logprobs)  # type: ignore[union-attr]
    events = list(client.responses.create(model="gpt-4.1", input="Hi", stream=True, **asked))  # type: ignore[arg-type]
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert deltas and all(len(e.logprobs) == 1 for e in deltas)  # type: ignore[union-attr]
    plain = client.responses.create(model="gpt-4.1", input="Hi")
    assert plain.output[-1].content[0].logprobs == []  # type: ignore[union-attr]


@feature
def gemini_logprobs(mock: MockServer) -> None:
    reply = mock.genai_client().models.generate_content(
        model=GEMINI,
        contents="Hi",
        config=types.GenerateContentConfig(response_logprobs=True, logprobs=3),
    )
    candidate = reply.candidates[0]  # type: ignore[index]
    result = candidate.logprobs_result
    assert result is not None and result.chosen_candidates and result.top_candidates
    assert "".join(c.token or "" for c in result.chosen_candidates) == reply.text
    assert all(len(top.candidates or []) == 3 for top in result.top_candidates)
    assert candidate.avg_logprobs is not None and candidate.avg_logprobs < 0


# --- Through the gateway's OpenAI-compatible route (other vendors' models) ------------------


@feature
def gateway_claude_thinking_via_chat(mock: MockServer) -> None:
    mock.load(SCENARIOS / "reasoning.yaml")
    reply = mock.openai_client().chat.completions.create(
        model=CLAUDE, messages=user("Which route should I take?"), reasoning_effort="high"
    )
    message = reply.choices[0].message
    assert "coastal road" in str((message.model_extra or {}).get("reasoning_content"))
    assert message.content == "Take the coastal road."


@feature
def gateway_gemini_tools_via_chat(mock: MockServer) -> None:
    reply = mock.openai_client().chat.completions.create(
        model=GEMINI, messages=user("Weather in Paris?"), tools=[WEATHER], tool_choice="required"
    )
    calls = reply.choices[0].message.tool_calls or []
    assert calls and calls[0].function.name == "get_weather"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", list(FEATURES))
def test_feature_produces_its_output(mockserver: MockServer, name: str) -> None:
    FEATURES[name](mockserver)


def test_the_sweep_covers_every_listed_feature() -> None:
    assert len(FEATURES) >= 48


def test_chat_service_tier_is_the_one_that_served(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    flex = client.chat.completions.create(model="o4-mini", messages=user("Hi"), service_tier="flex")
    auto = client.chat.completions.create(model="gpt-4o", messages=user("Hi"), service_tier="auto")
    assert (flex.service_tier, auto.service_tier) == ("flex", "default")
