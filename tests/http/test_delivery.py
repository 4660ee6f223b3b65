"""How an answer goes out under faults and latency: `pipeline.answer` filling a `Delivery`,
and the ASGI apps of `delivery` / `transport` (driven here without a server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

import orjson
import pytest

from mockserver.core.errors import APIError
from mockserver.engine.pipeline import answer
from mockserver.http.delivery import Delivery, body_app, error_frame, stream_app
from mockserver.http.responses import BrokenConnection, Delayed, EventStream, remaining
from mockserver.journal.journal import Entry
from mockserver.protocols.dialect import Dialect, Inbound
from mockserver.scenario import ScenarioSet, load_data
from mockserver.server_state import MockState
from mockserver.settings import Settings

RULES = {
    "version": 1,
    "models": [{"id": "slow-model", "latency": {"ttft": 0.3, "tokens_per_second": 10}}],
    "rules": [
        {
            "name": "quick",
            "match": {"last_user": "quick"},
            "latency": {"ttft": 0.01},
            "reply": {"content": "Fast."},
        },
        {"name": "hello", "reply": {"content": "Hello there."}},
    ],
}
OPENAI = {"authorization": "Bearer sk-x"}


def make_state(**settings: Any) -> MockState:
    return MockState(Settings(**settings), ScenarioSet.build([load_data(RULES, "t.yaml")]))


def chat(
    state: MockState,
    text: str,
    model: str = "gpt-4o",
    fault: str | None = None,
    stream: bool = False,
) -> tuple[Any, Entry, Delivery]:
    headers = {**OPENAI, **({"x-mock-fault": fault} if fault else {})}
    body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}
    dialect = state.dialects.chat
    exchange = dialect.parse(body, Inbound("/v1/chat/completions", headers=headers))
    entry = Entry(1, 0.0, "POST", "/v1/chat/completions")
    delivery = Delivery(headers)
    reply = answer(state, dialect, exchange, entry, delivery)
    return (reply, exchange), entry, delivery


def test_nothing_configured_means_nothing_to_deliver() -> None:
    _, entry, delivery = chat(make_state(), "hi")
    assert (delivery.latency, delivery.fault, delivery.headers, entry.fault) == (
        None,
        None,
        {},
        None,
    )


def test_latency_layers_realistic_then_model_then_rule() -> None:
    realistic = make_state(latency="realistic")
    _, _, plain = chat(realistic, "hi")
    assert plain.latency is not None and plain.latency.tokens_per_second == 80  # gpt-4o's
    _, _, quick = chat(realistic, "quick")
    assert quick.latency is not None
    assert (quick.latency.ttft, quick.latency.tokens_per_second) == (0.01, 80)
    _, _, model = chat(make_state(), "hi", model="slow-model")
    assert model.latency is not None and model.latency.ttft == 0.3
    _, _, fault = chat(make_state(), "hi", fault="latency.delay=0.2")
    assert fault.latency is not None and fault.latency.delay == 0.2


def test_status_faults_raise_and_are_journaled() -> None:
    with pytest.raises(APIError) as raised:
        chat(make_state(), "hi", fault="preset=overloaded")
    assert raised.value.status == 503


def test_an_error_event_on_a_non_streamed_request_is_an_error_response() -> None:
    with pytest.raises(APIError) as raised:
        chat(make_state(), "hi", fault="error_event_after=2")
    assert raised.value.status == 500


def test_stream_and_connection_faults_travel_to_delivery() -> None:
    _, entry, delivery = chat(
        make_state(), "hi", fault="error_event_after=2; preset=overloaded", stream=True
    )
    assert delivery.fault is not None and delivery.stream_error is not None
    assert delivery.stream_error.status == 503
    assert entry.fault == {"error_event_after": 2, "preset": "overloaded", "source": "header"}
    _, _, broken = chat(make_state(), "hi", fault="connection=reset")
    assert broken.fault is not None and broken.fault.connection == "reset"


def render(dialect: Dialect, body: dict[str, Any], inbound: Inbound) -> Any:
    state = make_state()
    inbound.headers = {**inbound.headers, "x-mock-fault": "preset=content_filter"}
    exchange = dialect.parse(body, inbound)
    reply = answer(state, dialect, exchange, Entry(1, 0.0, "POST", inbound.path))
    return dialect.render(reply, exchange)


def test_content_filter_is_each_dialects_finish_reason() -> None:
    state = make_state()
    d = state.dialects
    message = [{"role": "user", "content": "hi"}]
    chat_body = render(
        d.chat,
        {"model": "gpt-4o", "messages": message},
        Inbound("/v1/chat/completions", headers=OPENAI),
    )
    assert chat_body["choices"][0]["finish_reason"] == "content_filter"
    claude = render(
        d.anthropic,
        {"model": "claude-haiku-4-5", "max_tokens": 20, "messages": message},
        Inbound("/v1/messages", headers={"x-api-key": "k", "anthropic-version": "2023-06-01"}),
    )
    assert claude["stop_reason"] == "refusal"
    gemini = render(
        d.gemini,
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        Inbound(
            "/v1beta/models/gemini-2.0-flash:generateContent",
            headers={"x-goog-api-key": "k"},
            path_params={"model": "gemini-2.0-flash:generateContent"},
        ),
    )
    assert gemini["candidates"][0]["finishReason"] == "SAFETY"
    responses = render(
        d.responses, {"model": "gpt-4o", "input": "hi"}, Inbound("/v1/responses", headers=OPENAI)
    )
    assert responses["status"] == "incomplete"
    assert responses["incomplete_details"] == {"reason": "content_filter"}


# --- The ASGI apps, driven by hand ---------------------------------------------------------------


class Wire:
    """A fake server side: records what the app sends; `receive` reports a disconnect when
    `gone` is set (as a server does once the client leaves)."""

    def __init__(self) -> None:
        self.sent: list[MutableMapping[str, Any]] = []
        self.gone = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(message)

    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.sent if m["type"] == "http.response.body"]


def run(app: Any, wire: Wire | None = None) -> Wire:
    wire = wire or Wire()
    asyncio.run(app({"type": "http"}, wire.receive, wire.send))
    return wire


FRAMES = [b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n"]


def test_an_unpaced_stream_is_one_body_message() -> None:
    entry = Entry(1, 0.0, "POST", "/")
    wire = run(EventStream(FRAMES, entry=entry))
    assert len(wire.sent) == 2
    assert wire.bodies() == [b"".join(FRAMES)]
    assert entry.events_sent == 3


def test_a_paced_stream_sends_whole_events_and_ends_cleanly() -> None:
    wire = run(EventStream(FRAMES, schedule=[0.0, 0.05, 0.1]))
    *events, end = wire.bodies()
    assert b"".join(events) == b"".join(FRAMES) and end == b""
    assert all(body.endswith(b"\n\n") for body in events)  # never half an event
    assert all(m.get("more_body") for m in wire.sent[1:-1])


def test_events_that_are_due_together_go_out_in_one_write() -> None:
    wire = run(EventStream(FRAMES, schedule=[0.01, 0.01, 0.01]))
    assert wire.bodies() == [b"".join(FRAMES), b""]


def test_a_client_leaving_stops_the_stream_and_is_journaled() -> None:
    entry = Entry(1, 0.0, "POST", "/")

    async def scenario() -> Wire:
        wire = Wire()
        task = asyncio.ensure_future(
            EventStream(FRAMES, schedule=[0, 10, 20], entry=entry)({}, wire.receive, wire.send)
        )
        await asyncio.sleep(0.05)
        wire.gone.set()
        await asyncio.wait_for(task, 2)
        return wire

    wire = asyncio.run(scenario())
    assert wire.bodies() == [FRAMES[0]]
    assert entry.disconnected and entry.events_sent == 1


def test_waits_count_from_the_requests_arrival() -> None:
    # The request arrived a minute ago (answering it was slow): every frame is overdue, so
    # they all go out at once, in one message, and the delay is not waited again.
    arrived = time.monotonic() - 60
    stream = EventStream(FRAMES, schedule=[0.0, 5.0, 10.0], delay=1.0, arrived=arrived)
    assert run(stream).bodies() == [b"".join(FRAMES), b""]
    assert run(Delayed(EventStream(FRAMES), 30.0, arrived=arrived)).bodies() == [b"".join(FRAMES)]
    assert remaining(30.0, arrived) < 0 and remaining(30.0, None) == 30.0
    broken = BrokenConnection("reset", delay=30.0, arrived=arrived)  # breaks at once
    asyncio.run(asyncio.wait_for(broken({"type": "http"}, Wire().receive, Wire().send), 5))


def test_without_a_raw_transport_an_abort_just_ends_the_app() -> None:
    wire = run(EventStream(FRAMES[:1], ending="abort"))
    assert wire.bodies() == [FRAMES[0]]  # the server closes the unfinished response
    assert run(BrokenConnection("reset")).sent == []


def test_delayed_waits_then_answers() -> None:
    wire = run(Delayed(EventStream(FRAMES), 0.001))
    assert wire.bodies() == [b"".join(FRAMES)]


def test_body_app_cuts_and_delays() -> None:
    body = orjson.dumps({"id": "x", "choices": [1, 2, 3]})
    plain = body_app(body, {}, 5, Entry(1, 0.0, "POST", "/"), Delivery())
    assert type(plain).__name__ == "RawResponse"
    cut = Delivery(fault=load_fault("truncate_after=0"))
    wire = run(body_app(body, {}, 5, Entry(1, 0.0, "POST", "/"), cut))
    start = wire.sent[0]
    assert (b"content-length", str(len(body) // 2).encode()) in start["headers"]
    assert wire.bodies() == [body[: len(body) // 2]]


def load_fault(raw: str) -> Any:
    from mockserver.faults import parse_fault_header

    return parse_fault_header(raw)


def test_error_frames_fit_the_stream() -> None:
    state = make_state()
    error = APIError(503, "Overloaded")
    assert error_frame(state.dialects.anthropic, error, 3, sse=True).startswith(b"event: error\n")
    responses = error_frame(state.dialects.responses, error, 7, sse=True)
    assert b'"sequence_number":7' in responses
    first = error_frame(state.dialects.gemini, error, 0, sse=False)
    later = error_frame(state.dialects.gemini, error, 2, sse=False)
    assert orjson.loads(first)[0]["error"]["code"] == 503
    assert later.startswith(b",\r\n{") and later.endswith(b"]")


def test_stream_app_paces_from_the_first_content_event() -> None:
    state = make_state()
    (reply, exchange), entry, delivery = chat(state, "quick", stream=True)
    app = stream_app(state.dialects.chat, reply, exchange, {}, entry, delivery)
    assert isinstance(app, EventStream) and app.schedule is not None
    assert app.schedule[0] == app.schedule[1] == 0.01  # the role chunk goes with the first token
