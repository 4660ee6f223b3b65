"""A new wire format is its module (a `Dialect`) and one line in the registry."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, Message
from mockserver.core.reply import Reply
from mockserver.http.app import create_app
from mockserver.protocols.dialect import Dialect, Inbound
from mockserver.protocols.registry import PROTOCOLS, Protocol, by_name
from mockserver.scenario import load_data
from mockserver.scenario.scenario_set import ScenarioSet
from mockserver.server_state import MockState
from mockserver.settings import Settings


class EchoDialect(Dialect):
    """A made-up vendor: `{"model", "say"}` in, `{"said", "tokens"}` out."""

    name: ClassVar[str] = "echo"

    def parse(self, body: Any, inbound: Inbound) -> Exchange:
        if not isinstance(body, dict) or not isinstance(body.get("say"), str):
            raise APIError(400, "say: expected a string")
        return Exchange(
            dialect=self.name,
            endpoint=inbound.path,
            model=str(body.get("model", "gpt-4o-mini")),
            messages=[Message("user", body["say"])],
            body=body,
            headers=inbound.headers,
        )

    def render(self, reply: Reply, exchange: Exchange) -> dict[str, Any]:
        choice = reply.choices[0]
        return {"said": choice.text, "tokens": reply.usage.completion_tokens}

    def render_error(self, error: APIError) -> dict[str, Any]:
        return {"oops": error.message}


ECHO = Protocol("echo", "tests.protocols.test_registry:EchoDialect", ("/echo",))
RULE = {
    "version": 1,
    "rules": [{"name": "hi", "match": {"last_user": "hi"}, "reply": {"content": "hello"}}],
}


def test_a_protocol_added_with_one_line_is_served_through_the_whole_flow() -> None:
    scenarios = ScenarioSet.build([load_data(RULE, "inline")])
    state = MockState(Settings(), scenarios, protocols=[*PROTOCOLS, ECHO])
    with TestClient(create_app(state=state)) as client:
        answer = client.post("/echo", json={"say": "hi there"})
        refused = client.post("/echo", json={"say": 3})
    assert answer.status_code == 200
    assert orjson.loads(answer.content) == {"said": "hello", "tokens": 1}
    assert refused.status_code == 400 and refused.json() == {"oops": "say: expected a string"}
    [first, second] = state.journal.entries()
    assert (first.dialect, first.rule, first.status) == ("echo", "hi", 200)
    assert (second.dialect, second.status) == ("echo", 400)


def test_two_protocols_cannot_share_a_name() -> None:
    with pytest.raises(ValueError, match="two protocols are named 'echo'"):
        by_name([ECHO, ECHO])


def test_every_registered_dialect_loads_and_is_named_as_registered() -> None:
    state = MockState(Settings(), ScenarioSet())
    for protocol in PROTOCOLS:
        assert state.dialects.get(protocol.name).name == protocol.name
