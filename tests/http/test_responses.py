"""Breaking and pacing responses on a real uvicorn server (`transport`, `connection`).

What matters here is the server's side: other clients keep being served while one is stalled
or hanging, a client that leaves mid-stream leaves no task or connection behind, shutdown is not
held up, and intentional aborts log nothing. Timings are only bounded loosely from below.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockserver.http.server_thread import ServerThread
from mockserver.journal.journal import Entry
from tests.conftest import StartServer

SCENARIO = """
version: 1
rules:
  - name: paced
    match: {last_user: paced}
    latency: {ttft: 0.05, chunk_interval: 0.01}
    reply: {content: "One two three four five six seven eight nine ten."}
  - name: slow
    match: {last_user: slow}
    latency: {chunk_interval: 0.2}
    reply: {content: "One two three four five six seven eight nine ten."}
  - name: anything
    reply: {content: "Hello from the mock."}
"""
HEADERS = {"authorization": "Bearer sk-test"}


@pytest.fixture(params=["asyncio", "uvloop"])
def start_server(request: pytest.FixtureRequest, start_server: StartServer) -> StartServer:
    """On both loops: the pytest fixture's server runs the stdlib one, `serve` uvloop, whose
    transports are not asyncio's classes."""
    loop = request.param

    def start(*scenarios: Any, **options: Any) -> ServerThread:
        return start_server(*scenarios, loop=loop, **options)

    return start


def body(text: str, stream: bool = False) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], "stream": stream}


def chat(server: ServerThread, text: str, fault: str | None = None, **options: Any) -> Any:
    headers = {**HEADERS, **({"x-mock-fault": fault} if fault else {})}
    return httpx.post(
        server.url + "/v1/chat/completions",
        json=body(text, options.pop("stream", False)),
        headers=headers,
        timeout=options.pop("timeout", 10),
        **options,
    )


def journal(server: ServerThread) -> list[Entry]:
    app: Any = server.app
    entries: list[Entry] = app.state.mock.journal.entries()
    return entries


def server_tasks(server: ServerThread) -> int:
    return len(server.server.server_state.tasks)


def eventually(check: Callable[[], bool], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


@pytest.fixture
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """Records at WARNING and above from uvicorn and asyncio (uvicorn's loggers don't
    propagate to the root, so caplog alone would not see them)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn", "asyncio")]
    for logger in loggers:
        logger.addHandler(handler)
    yield records
    for logger in loggers:
        logger.removeHandler(handler)


def test_every_connection_fault_breaks_only_its_connection_and_logs_nothing(
    start_server: StartServer, errors_logged: list[logging.LogRecord]
) -> None:
    server = start_server(SCENARIO)
    outcomes = {}
    for fault in ("empty_response", "reset", "garbage"):
        with pytest.raises(httpx.TransportError) as raised:
            chat(server, "hi", f"connection={fault}")
        outcomes[fault] = type(raised.value)
    with pytest.raises(httpx.TimeoutException):  # the client gives up first
        chat(server, "hi", "connection=hang; stall_for=5", timeout=0.2)
    assert chat(server, "hi").status_code == 200

    assert outcomes["reset"] is httpx.ReadError  # ECONNRESET
    assert outcomes["empty_response"] is httpx.RemoteProtocolError
    assert eventually(lambda: server_tasks(server) == 0)
    entries = journal(server)
    assert [e.fault["connection"] for e in entries[:4] if e.fault] == [
        "empty_response",
        "reset",
        "garbage",
        "hang",
    ]
    assert [e.status for e in entries] == [None, None, None, None, 200]
    assert eventually(lambda: journal(server)[3].disconnected)  # the hang noticed the client go
    assert errors_logged == []


def test_mid_stream_aborts_log_nothing(
    start_server: StartServer, errors_logged: list[logging.LogRecord]
) -> None:
    server = start_server(SCENARIO)
    with pytest.raises(httpx.RemoteProtocolError):
        chat(server, "hi", "disconnect_after=2", stream=True)
    with pytest.raises(httpx.RemoteProtocolError):
        chat(server, "hi", "stall_after=2; stall_for=0.05", stream=True)
    truncated = chat(server, "hi", "truncate_after=2", stream=True)
    assert truncated.status_code == 200 and "[DONE]" not in truncated.text
    assert eventually(lambda: server_tasks(server) == 0)
    assert [e.events_sent for e in journal(server)] == [2, 2, 2]
    assert errors_logged == []


def test_other_clients_are_served_while_one_is_stalled(start_server: StartServer) -> None:
    server = start_server(SCENARIO)
    with (
        httpx.Client(timeout=10) as stalled_client,
        stalled_client.stream(
            "POST",
            server.url + "/v1/chat/completions",
            json=body("hi", stream=True),
            headers={**HEADERS, "x-mock-fault": "stall_after=2; stall_for=30"},
        ) as stalled,
    ):
        chunks = stalled.iter_raw()  # kept: a dropped iterator closes the response
        assert next(chunks).startswith(b"data: ")  # the two events before the stall
        for _ in range(3):  # meanwhile everyone else is answered
            assert chat(server, "hi").status_code == 200
        assert eventually(lambda: server_tasks(server) == 1)  # only the stalled one is left
    # The stalled client hung up: its task ends at once, not after 30 s.
    assert eventually(lambda: server_tasks(server) == 0)
    stalled_entry = journal(server)[0]
    assert stalled_entry.disconnected and stalled_entry.events_sent == 2


def test_a_client_leaving_a_paced_stream_leaves_nothing_behind(start_server: StartServer) -> None:
    server = start_server(SCENARIO)
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST", server.url + "/v1/chat/completions", json=body("slow", True), headers=HEADERS
        ) as response,
    ):
        chunks = response.iter_raw()
        next(chunks)
    assert eventually(
        lambda: server_tasks(server) == 0 and not server.server.server_state.connections
    )
    (entry,) = journal(server)
    assert entry.disconnected
    assert 0 < entry.events_sent < 14


def test_paced_stream_arrives_whole_and_not_before_its_time(start_server: StartServer) -> None:
    server = start_server(SCENARIO)
    started = time.monotonic()
    response = chat(server, "paced", stream=True)
    elapsed = time.monotonic() - started
    instant = chat(server, "hi", stream=True)

    assert response.status_code == 200 and response.text.endswith("data: [DONE]\n\n")
    events = response.text.count("data: ")
    assert elapsed >= 0.05 + (events - 4) * 0.01  # loosely: ttft plus the content intervals
    assert instant.status_code == 200
    assert [e.events_sent for e in journal(server)] == [events, instant.text.count("data: ")]


def test_shutdown_is_not_held_up_by_a_hanging_request(start_server: StartServer) -> None:
    server = start_server(SCENARIO)
    failures: list[BaseException] = []

    def hang() -> None:
        try:
            chat(server, "hi", "connection=hang; stall_for=60", timeout=60)
        except httpx.TransportError as error:
            failures.append(error)

    client = threading.Thread(target=hang, daemon=True)
    client.start()
    assert eventually(lambda: len(journal(server)) == 1 and server_tasks(server) == 1)
    server.stop()  # joins the server thread for up to 10 s; the hang alone would take 60

    assert not server.thread.is_alive()
    client.join(timeout=5)
    assert failures and isinstance(failures[0], httpx.RemoteProtocolError)
