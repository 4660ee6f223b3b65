"""The fixture's handle on its own, against a real server (the plugin wiring is in
test_pytest_plugin.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.scenario import ScenarioError, load_text
from mockserver.testing.handle import MockServer
from tests.conftest import StartServer

SESSION = """\
version: 1
seed: 5
rules:
  - name: session-greeting
    match: {last_user: hello}
    reply: {content: "Hello from the session."}
"""
MARKER = """\
version: 1
rules:
  - name: marker-greeting
    match: {last_user: hello}
    reply: {content: "Hello from the marker."}
"""

MakeHandle = Callable[..., MockServer]


@pytest.fixture
def make_handle(start_server: StartServer) -> MakeHandle:
    def make(session: str = SESSION, **options: Any) -> MockServer:
        server = start_server(session, **options)
        state = server.app.state.mock  # type: ignore[attr-defined]
        return MockServer(server, state, state.scenarios, "tests/test_x.py::test_y")

    return make


def say(handle: MockServer, text: str) -> str:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    headers = {"authorization": f"Bearer {handle.api_key}"}
    response = httpx.post(handle.base_url() + "/chat/completions", json=body, headers=headers)
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def test_inline_rules_come_first_then_the_marker_then_the_session(
    make_handle: MakeHandle,
) -> None:
    handle = make_handle()
    handle.begin([load_text(MARKER, "marker.yaml")])
    assert say(handle, "hello") == "Hello from the marker."

    handle.add_rule(name="inline", match={"last_user": "hello"}, reply={"content": "Inline."})

    assert handle.rules == ["inline", "marker-greeting", "session-greeting"]
    assert say(handle, "hello") == "Inline."


def test_end_puts_the_session_scenarios_and_settings_back(make_handle: MakeHandle) -> None:
    handle = make_handle()
    state = handle.state
    handle.begin([load_text(MARKER, "marker.yaml")], strict=True, seed=99)
    assert (state.engine.strict, state.engine.seed) == (True, 99)
    say(handle, "hello")

    handle.end()

    assert handle.rules == ["session-greeting"]
    assert (state.engine.strict, state.engine.seed) == (False, 5)
    assert (state.settings.strict, state.settings.seed) == (None, None)
    assert not handle.called


def test_seed_comes_from_the_first_local_scenario_that_sets_it(make_handle: MakeHandle) -> None:
    handle = make_handle()
    handle.begin()
    handle.add_rule(name="plain", reply={"content": "x"})
    assert handle.state.engine.seed == 5  # the inline scenario sets no seed: the session's

    handle.load({"version": 1, "seed": 11, "rules": []})

    assert handle.state.engine.seed == 11


def test_a_bad_inline_rule_is_refused_and_changes_nothing(make_handle: MakeHandle) -> None:
    handle = make_handle()
    handle.begin()

    with pytest.raises(ScenarioError) as error:
        handle.add_rule(name="oops", mach={"last_user": "x"}, reply={"content": "y"})

    assert str(error.value).startswith("<inline: tests/test_x.py::test_y>: unknown key 'mach'")
    assert handle.rules == ["session-greeting"]


def test_a_name_taken_by_the_session_is_refused(make_handle: MakeHandle) -> None:
    handle = make_handle()
    handle.begin()

    with pytest.raises(ScenarioError, match="duplicate rule name 'session-greeting'"):
        handle.add_rule(name="session-greeting", reply={"content": "again"})
    assert handle.rules == ["session-greeting"]


def test_unnamed_inline_rules_are_numbered(make_handle: MakeHandle) -> None:
    handle = make_handle()
    handle.begin()

    names = [handle.add_rule(reply={"content": "a"}), handle.add_rule({"reply": {"content": "b"}})]

    assert names == ["inline-1", "inline-2"]


def test_load_takes_yaml_text_a_mapping_or_a_file(make_handle: MakeHandle, tmp_path: Path) -> None:
    handle = make_handle()
    handle.begin()
    handle.load(
        """
        version: 1
        rules:
          - {name: from-text, reply: {content: a}}
        """
    )
    handle.load({"version": 1, "rules": [{"name": "from-dict", "reply": {"content": "b"}}]})
    (tmp_path / "one.yaml").write_text(MARKER)
    (tmp_path / "two.yml").write_text(MARKER.replace("marker-", "file-"))
    handle.load(tmp_path / "one.yaml")
    handle.load(str(tmp_path / "two.yml"))

    assert handle.rules[:4] == ["from-text", "from-dict", "marker-greeting", "file-greeting"]


def test_urls_and_environment_point_at_the_server(make_handle: MakeHandle) -> None:
    handle = make_handle()

    assert handle.base_url("openai") == handle.url + "/v1"
    assert handle.base_url("anthropic") == handle.url
    assert handle.environment()["OPENAI_BASE_URL"] == handle.url + "/v1"
    assert handle.environment()["GOOGLE_GEMINI_BASE_URL"] == handle.url
    with pytest.raises(ValueError, match="unknown dialect 'cohere'; expected one of openai,"):
        handle.base_url("cohere")


def test_the_journal_api_sees_this_tests_requests_only(make_handle: MakeHandle) -> None:
    handle = make_handle()
    say(handle, "before the test began")
    handle.begin()
    say(handle, "hello")
    say(handle, "bye")

    assert handle.call_count == 2
    assert handle.requests(rule="session-greeting").call_count == 1
    assert handle.last.body["messages"][0]["content"] == "bye"
    assert handle.requests.unmatched.last.near_misses[0]["rule"] == "session-greeting"
    handle.assert_called(rule="session-greeting", times=1)
    handle.reset()
    assert not handle.called


def test_assert_all_rules_used_can_leave_the_session_out(make_handle: MakeHandle) -> None:
    handle = make_handle()
    handle.begin()
    handle.add_rule(name="mine", match={"last_user": "mine"}, reply={"content": "ok"})
    say(handle, "mine")

    handle.assert_all_rules_used(session=False)
    with pytest.raises(AssertionError, match=r"'session-greeting' \(.*scenario_0_0\.yaml:4:5\)"):
        handle.assert_all_rules_used()


def test_ready_made_clients_reach_the_server(make_handle: MakeHandle) -> None:
    handle = make_handle()
    handle.begin()
    messages: Any = [{"role": "user", "content": "hello"}]

    openai_reply = handle.openai_client().chat.completions.create(model="gpt-4o", messages=messages)
    anthropic_reply = handle.anthropic_client().messages.create(
        model="claude-haiku-4-5", max_tokens=50, messages=messages
    )
    gemini_reply = handle.genai_client().models.generate_content(
        model="gemini-2.5-flash", contents="hello"
    )

    assert openai_reply.choices[0].message.content == "Hello from the session."
    assert anthropic_reply.content[0].text == "Hello from the session."  # type: ignore[union-attr]
    assert gemini_reply.text == "Hello from the session."
    assert [e.dialect for e in handle.requests] == ["openai.chat", "anthropic.messages", "gemini"]
    assert {
        e.headers.get("authorization", e.headers.get("x-api-key")) for e in handle.requests
    } <= {
        "Bearer sk-***",
        "sk-***",
        None,
    }
    handle.end()


async def test_async_clients_reach_the_server(make_handle: MakeHandle) -> None:
    handle = make_handle()
    handle.begin()
    messages: Any = [{"role": "user", "content": "hello"}]

    async with handle.async_openai_client() as openai_client:
        reply = await openai_client.chat.completions.create(model="gpt-4o", messages=messages)
    async with handle.async_anthropic_client() as anthropic_client:
        message = await anthropic_client.messages.create(
            model="claude-haiku-4-5", max_tokens=50, messages=messages
        )

    assert reply.choices[0].message.content == "Hello from the session."
    assert message.content[0].text == "Hello from the session."  # type: ignore[union-attr]


def test_end_undoes_scenarios_loaded_through_the_admin_api(make_handle: MakeHandle) -> None:
    handle = make_handle()
    handle.begin()
    httpx.post(handle.url + "/_mock/scenarios?replace=true", content="version: 1\n")
    assert handle.rules == []

    handle.end()

    assert handle.rules == ["session-greeting"]
