"""The server thread the pytest plugin and the integration tests run: ready when `start`
returns, and a start-up that fails is an error, not a wait."""

from __future__ import annotations

import http.client

import pytest

from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.settings import Settings


def test_the_server_answers_as_soon_as_start_returns() -> None:
    with ServerThread(create_app(Settings())) as server:
        assert server.server.started and server.server.ready.is_set()
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        connection.request("GET", "/_mock/health")
        assert connection.getresponse().status == 200
        connection.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_failed_start_up_raises_at_once() -> None:
    server = ServerThread(create_app(Settings()))
    server.sock.close()  # uvicorn cannot serve a closed socket
    with pytest.raises(RuntimeError, match="did not start"):
        server.start(timeout=30)
    server.thread.join(timeout=5)
    assert not server.thread.is_alive()
