"""The recorder's parts in-process: stream capture, redaction, reassembly, rules, the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mockserver.engine.content.templates import CONTEXT_NAMES, compile_template
from mockserver.record.capture import Capture
from mockserver.record.cassette import Cassette
from mockserver.record.redact import Redactor
from mockserver.record.replies import RecordedCall, RecordedChoice, reply_of
from mockserver.record.rules import fault_spec, literal, reply_spec
from mockserver.record.stream_events import carries_content
from mockserver.scenario import load_text


def test_capture_splits_events_across_chunks_and_times_them() -> None:
    capture = Capture(started=10.0)
    capture.feed(b'event: a\ndata: {"n": 1}\n\nda', 10.5)
    capture.feed(b'ta: {"n": 2}\r\n\r\n', 10.7)
    capture.feed(b"data: [DONE]\n\n", 10.9)
    assert capture.events() == ['{"n": 1}', '{"n": 2}']
    assert capture.timing() == (0.5, 0.2)


def test_ttft_times_the_first_event_that_carries_content() -> None:
    capture = Capture(started=0.0)
    capture.feed(b'event: message_start\ndata: {"type": "message_start"}\n\n', 0.1)
    capture.feed(b": ping\n\n", 0.2)
    for at in (0.5, 0.6, 0.8):
        capture.feed(b'data: {"type": "content_block_delta"}\n\n', at)
    capture.feed(b'data: {"type": "message_stop"}\n\n', 0.9)
    assert capture.timing(carries_content("anthropic")) == (0.5, 0.15)
    assert capture.timing() == (0.1, 0.16)  # every event


def test_capture_of_a_body_has_no_timing() -> None:
    capture = Capture(started=0.0)
    capture.feed(b'{"id": 1}', 0.3)
    assert capture.timing() is None
    assert capture.body == b'{"id": 1}'


def test_redactor_scrubs_every_credential_it_saw() -> None:
    redactor = Redactor(extra_headers=["X-Team-Token"], extra_fields=["user_secret"])
    redactor.note_request(
        {
            "authorization": "Bearer sk-abcdef123456",
            "x-api-key": "ant-key-987654",
            "cookie": "a=cookie-value-1; b=cookie-value-2",
            "x-team-token": "team-tok-555",
            "content-type": "application/json",
        },
        {"key": "AIza-query-key-1"},
        {"metadata": {"user_secret": "field-secret-77"}},
    )
    text = (
        "sk-abcdef123456 ant-key-987654 cookie-value-1 cookie-value-2 team-tok-555 "
        "AIza-query-key-1 field-secret-77 application/json"
    )
    assert redactor.scrub(text) == " ".join(["<redacted>"] * 7) + " application/json"
    kept = redactor.headers_kept({"X-Team-Token": "x", "Retry-After": "1", "Set-Cookie": "s"})
    assert kept == {"Retry-After": "1"}


def test_literal_text_renders_to_itself() -> None:
    for text in ("plain", "{{ x }} and {% if %}", "tricky {% endraw %} inside {{ y }}"):
        assert compile_template(literal(text), known_names=CONTEXT_NAMES).render({}) == text


def test_chat_stream_reassembles_parallel_tool_calls_and_usage() -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_1", "function": {"name": "a", "arguments": '{"x"'}},
            {"index": 1, "id": "call_2", "function": {"name": "b", "arguments": ""}},
        ]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": ": 1}"}},
            {"index": 1, "function": {"arguments": "{}"}},
        ]}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4,
                                  "completion_tokens_details": {"reasoning_tokens": 2}}},
    ]  # fmt: skip
    reply = reply_of("chat", None, [json.dumps(chunk) for chunk in chunks])
    assert reply.choices == [
        RecordedChoice(
            tool_calls=[RecordedCall("a", {"x": 1}, "call_1"), RecordedCall("b", {}, "call_2")],
            finish_reason="tool_calls",
        )
    ]
    assert reply.usage == {"prompt_tokens": 9, "completion_tokens": 4, "reasoning_tokens": 2}


def test_anthropic_stream_reassembles_thinking_text_and_tool_input() -> None:
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking"}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "thinking_delta", "thinking": "Hmm."}},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "content_block_start", "index": 2,
         "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}},
        {"type": "content_block_delta", "index": 2,
         "delta": {"type": "input_json_delta", "partial_json": '{"q": "'}},
        {"type": "content_block_delta", "index": 2,
         "delta": {"type": "input_json_delta", "partial_json": 'x"}'}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
         "usage": {"output_tokens": 30}},
    ]  # fmt: skip
    reply = reply_of("anthropic", None, [json.dumps(event) for event in events])
    assert reply.choices == [
        RecordedChoice(
            content="Hi",
            reasoning="Hmm.",
            tool_calls=[RecordedCall("f", {"q": "x"}, "toolu_1")],
            finish_reason="tool_calls",
        )
    ]
    assert reply.usage == {"prompt_tokens": 12, "completion_tokens": 30}


def test_gemini_body_counts_thoughts_as_completion_tokens() -> None:
    body = {
        "candidates": [
            {
                "content": {"parts": [{"text": "think", "thought": True}, {"text": "Done."}]},
                "finishReason": "MAX_TOKENS",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 5,
            "candidatesTokenCount": 2,
            "thoughtsTokenCount": 7,
        },
    }
    reply = reply_of("gemini", json.dumps(body).encode(), None)
    assert reply.choices == [
        RecordedChoice(content="Done.", reasoning="think", finish_reason="length")
    ]
    assert reply.usage == {"prompt_tokens": 5, "completion_tokens": 9, "reasoning_tokens": 7}
    spec = reply_spec(reply)
    assert spec["finish_reason"] == "length"
    assert spec["usage"] == reply.usage


def test_fault_keeps_the_error_words_and_retry_headers() -> None:
    body = (
        b'{"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}}'
    )
    headers = {"Retry-After": "2", "x-ratelimit-remaining-requests": "0", "x-request-id": "req_1"}
    assert fault_spec(429, body, headers) == {
        "status": 429,
        "message": "Rate limit",
        "type": "requests",
        "code": "rate_limit_exceeded",
        "headers": {"retry-after": "2", "x-ratelimit-remaining-requests": "0"},
    }
    assert fault_spec(502, b"Bad gateway", {}) == {"status": 502, "message": "Bad gateway"}


def test_same_match_again_becomes_the_next_sequence_step(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "s.yaml", Redactor())
    match = {"model": "gpt-4o", "turn": 0}
    cassette.add("a", match, "fault", {"status": 503}, None)
    cassette.add("a-2", match, "reply", {"content": "ok"}, {"delay": 0.1})
    cassette.add("b", {"model": "gpt-4o", "turn": 1}, "reply", {"content": "next"}, None)
    cassette.save()
    text = cassette.path.read_text(encoding="utf-8")
    rules = yaml.safe_load(text)["rules"]
    assert rules[0] == {
        "name": "a",
        "match": match,
        "sequence": [{"fault": {"status": 503}}, {"reply": {"content": "ok"}}],
        "latency": {"delay": 0.1},
    }
    assert [rule["name"] for rule in rules] == ["a", "b"]
    load_text(text, "s.yaml")  # the file is a valid scenario


def test_multi_line_text_is_written_as_a_block(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "s.yaml", Redactor())
    cassette.add("a", {"turn": 0}, "reply", {"content": "line one\nline two"}, None)
    assert "content: |-\n      line one\n      line two" in cassette.text()


def test_an_existing_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- just a list\n")
    with pytest.raises(ValueError, match="expected a scenario mapping"):
        Cassette.open(path, Redactor(), fresh=False)
