"""How to: drive the mock over HTTP, from any language (here with httpx).

`/_mock/` loads scenarios, reads the journal and resets state; `mockserver serve` exposes the
same routes (protected by `--admin-token` when given). A scenario is sent as
`application/yaml` (or `application/json`): a type no web page can make a browser send
without asking, so no page you visit can load one.
"""

from __future__ import annotations

import httpx

from mockserver.testing.handle import MockServer

SCENARIO = """\
version: 1
rules:
  - name: ping
    match: {last_user: ping}
    reply: {content: pong}
"""


def test_load_a_scenario_and_read_the_journal_over_http(mockserver: MockServer) -> None:
    admin = httpx.Client(base_url=mockserver.url)

    loaded = admin.post(
        "/_mock/scenarios", content=SCENARIO, headers={"content-type": "application/yaml"}
    )
    reply = mockserver.openai_client().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "ping"}]
    )
    journal = admin.get("/_mock/requests", params={"rule": "ping"}).json()

    assert loaded.status_code == 200
    assert reply.choices[0].message.content == "pong"
    assert journal["count"] == 1
    assert journal["requests"][0]["body"]["messages"] == [{"role": "user", "content": "ping"}]
