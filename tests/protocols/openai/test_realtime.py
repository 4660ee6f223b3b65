"""`RealtimeSession` in-process: client events in, server events out, without a socket."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from mockserver.core.exchange import ToolCall
from mockserver.core.reply import Choice, Reply, Usage
from mockserver.protocols.dialect import Inbound
from mockserver.protocols.openai.realtime import RealtimeDialect, RealtimeSession


def session(beta: bool = False) -> RealtimeSession:
    return RealtimeSession("gpt-realtime", "a" * 40, 1_700_000_000, beta=beta)


def send(s: RealtimeSession, event: dict[str, Any] | str) -> list[dict[str, Any]]:
    step = s.handle(event if isinstance(event, str) else json.dumps(event))
    return step.events


def user(text: str) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item}


def silent_speaker(text: str, voice: str) -> bytes:
    return bytes(9_600)  # 0.2 s of pcm16


def test_ids_come_from_the_key_and_the_order() -> None:
    first, second = session(), session()
    assert first.id == second.id and first.id.startswith("sess_")
    assert send(first, user("hi")) == send(second, user("hi"))
    other = RealtimeSession("gpt-realtime", "b" * 40, 0, beta=False)
    assert other.id != first.id
    stamped = [json.loads(first.stamped({"type": "x"})) for _ in range(3)]
    assert len({event["event_id"] for event in stamped}) == 3
    assert list(stamped[0]) == ["type", "event_id"]


@pytest.mark.parametrize(
    ("event", "code", "param"),
    [
        ("{not json", "invalid_json", None),
        ({"event_id": "e1"}, "invalid_event", None),
        ({"type": "session.create"}, "invalid_value", "type"),
        (
            {"type": "session.update", "session": {"type": "realtime", "voices": 1}},
            "unknown_parameter",
            "session.voices",
        ),
        (
            {
                "type": "session.update",
                "session": {"type": "realtime", "output_modalities": ["video"]},
            },
            "invalid_value",
            "session.output_modalities",
        ),
        (
            {"type": "conversation.item.create", "item": {"role": "user"}},
            "missing_required_parameter",
            "item.type",
        ),
        (
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "output_text"}]},
            },
            "invalid_value",
            "item.content[0].type",
        ),
        ({"type": "input_audio_buffer.append", "audio": "@@@"}, "invalid_value", "audio"),
        (
            {"type": "response.create", "response": {"conversation": "other"}},
            "invalid_value",
            "response.conversation",
        ),
        (
            {"type": "response.create", "response": {"max_output_tokens": 0}},
            "invalid_value",
            "response.max_output_tokens",
        ),
    ],
)
def test_bad_events_are_error_events(event: Any, code: str, param: str | None) -> None:
    s = session()
    (error,) = send(s, event)
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert (error["error"]["code"], error["error"]["param"]) == (code, param)
    assert send(s, user("still here"))[0]["type"] == "conversation.item.added"


def test_the_error_names_the_client_event() -> None:
    (error,) = send(session(), {"type": "nope", "event_id": "evt_42"})
    assert error["error"]["event_id"] == "evt_42"


def test_items_are_placed_after_the_previous_item() -> None:
    s = session()
    first = send(s, user("one"))[0]["item"]["id"]
    third = send(s, user("three"))[0]["item"]["id"]
    added = send(s, {**user("two"), "previous_item_id": first})
    assert added[0]["previous_item_id"] == first
    assert [item["content"][0]["text"] for item in s.items] == ["one", "two", "three"]
    assert send(s, {"type": "conversation.item.delete", "item_id": third}) == [
        {"type": "conversation.item.deleted", "item_id": third}
    ]
    (missing,) = send(s, {"type": "conversation.item.delete", "item_id": third})
    assert missing["error"]["code"] == "item_not_found"


def test_a_commit_of_too_little_audio_is_refused() -> None:
    s = session()
    send(s, {"type": "input_audio_buffer.append", "audio": base64.b64encode(bytes(2400)).decode()})
    (error,) = send(s, {"type": "input_audio_buffer.commit"})
    assert error["error"]["code"] == "input_audio_buffer_commit_empty"
    assert "buffer only has 50.00ms of audio" in error["error"]["message"]


def test_the_response_body_is_the_conversation() -> None:
    s = session()
    send(
        s, {"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}}
    )
    send(s, user("hello"))
    step = s.handle(
        json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}})
    )
    assert step.request is not None
    exchange = RealtimeDialect().parse(step.request.body, Inbound(path="/v1/realtime"))
    assert [(m.role, m.text) for m in exchange.messages] == [
        ("system", "Be brief."),
        ("user", "hello"),
    ]
    assert step.request.modalities == ["text"]


def test_out_of_band_responses_stay_out_of_the_conversation() -> None:
    s = session()
    send(s, user("hello"))
    options = {
        "conversation": "none",
        "input": [{"type": "item_reference", "id": s.items[0]["id"]}],
    }
    step = s.handle(json.dumps({"type": "response.create", "response": options}))
    assert step.request is not None and not step.request.into_conversation
    reply = Reply([Choice(text="Hi.", text_pieces=["Hi", "."])], "k" * 40, 0, "fp", Usage(5, 2))
    done = s.finish(step.request, reply, silent_speaker)[-1]["response"]
    assert done["conversation_id"] is None
    assert len(s.items) == 1


def test_a_reply_with_calls_and_a_cut_reply() -> None:
    s = session(beta=True)
    send(s, user("weather"))
    request = s.handle(json.dumps({"type": "response.create"})).request
    assert request is not None
    calls = Choice(
        tool_calls=[ToolCall("call_1", "get_weather", '{"city":"Paris"}')],
        finish_reason="tool_calls",
        argument_pieces=[['{"city":', '"Paris"}']],
    )
    events = s.finish(request, Reply([calls], "k" * 40, 0, "fp", Usage(9, 6)), silent_speaker)
    types = [event["type"] for event in events]
    assert types.count("response.function_call_arguments.delta") == 2
    assert "conversation.item.created" in types
    done = events[-1]["response"]
    assert done["output"][0]["type"] == "function_call"
    assert done["output"][0]["call_id"] == "call_1"
    cut = Choice(text="It is", finish_reason="length", text_pieces=["It", " is"])
    request = s.handle(json.dumps({"type": "response.create"})).request
    assert request is not None
    done = s.finish(request, Reply([cut], "j" * 40, 0, "fp", Usage(9, 2)), silent_speaker)[-1]
    assert done["response"]["status"] == "incomplete"
    assert done["response"]["status_details"] == {
        "type": "incomplete",
        "reason": "max_output_tokens",
    }
    assert done["response"]["output"][0]["content"][0] == {"type": "audio", "transcript": "It is"}
    assert done["response"]["usage"]["output_token_details"] == {
        "text_tokens": 2,
        "audio_tokens": 2,
    }


def test_audio_sent_in_an_item_is_counted_and_kept_out_of_the_body() -> None:
    s = session()
    audio = base64.b64encode(bytes(96_000)).decode()  # 2 s of pcm16
    part = {"type": "input_audio", "audio": audio, "transcript": "hello"}
    send(
        s,
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [part]},
        },
    )
    retrieved = send(s, {"type": "conversation.item.retrieve", "item_id": s.items[0]["id"]})
    assert retrieved[0]["item"]["content"][0]["audio"] == audio  # the session keeps it
    step = s.handle(json.dumps({"type": "response.create"}))
    assert step.request is not None
    body = step.request.body
    assert body["input_audio_tokens"] == 20
    assert body["items"][0]["content"][0]["audio"] == f"<{len(audio)} base64 characters>"
    exchange = RealtimeDialect().parse(body, Inbound(path="/v1/realtime"))
    assert exchange.messages[-1].text == "hello"  # the transcript is what rules see
