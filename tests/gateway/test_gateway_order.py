"""The gateway's middleware answers before the relay validates a request, on every relay route,
over HTTP (raw and the official SDKs): a body both invalid and for a forbidden model gets the
model's 403, for a model no channel serves the 503; a body Go can't read, or without a model,
the distributor's 400. And usable groups as clients meet them: the 403 for a token's group,
`GET /api/user/self/groups`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anthropic
import httpx
import openai
import pytest

from tests.gateway.gateway_scenario import ALICE_ACCESS, KEYS, SCENARIO, http

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread

REQUEST_ID = r" \(request id: \d{14}\d+[0-9a-f]{8}[0-9A-Za-z]{8}\)"
FORBIDDEN = "claude-3-5-haiku-20241022"  # priced, outside the `limited` key's model limits


@pytest.fixture
def server(start_server: Callable[..., ServerThread]) -> ServerThread:
    return start_server(SCENARIO)


def middleware_error(response: httpx.Response, status: int, message: str, code: str = "") -> None:
    """`abortWithOpenAiMessage`'s body: no `param`, the request id after the message."""
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code"}
    assert (error["type"], error["code"]) == ("new_api_error", code)
    assert re.fullmatch(re.escape(message) + REQUEST_ID, error["message"]), error["message"]
    assert response.headers["x-oneapi-request-id"] in error["message"]


def post(server: ServerThread, path: str, key: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return http.post(f"{server.url}{path}", headers=headers, **kwargs)


# Each relay route with a body its relay refuses (400 without gateway mode's checks).
INVALID_BODIES = [
    ("/v1/chat/completions", {"model": FORBIDDEN, "messages": "nope"}),
    ("/v1/completions", {"model": FORBIDDEN, "prompt": {"not": "a prompt"}}),
    ("/v1/responses", {"model": FORBIDDEN, "input": 5}),
    ("/v1/messages", {"model": FORBIDDEN, "messages": []}),
    ("/v1/embeddings", {"model": FORBIDDEN}),
    ("/v1/rerank", {"model": FORBIDDEN, "documents": 5}),
    ("/v1/moderations", {"model": FORBIDDEN}),
    ("/v1/images/generations", {"model": FORBIDDEN, "n": "many"}),
    ("/v1/audio/speech", {"model": FORBIDDEN}),
]


@pytest.mark.parametrize(("path", "body"), INVALID_BODIES, ids=[p for p, _ in INVALID_BODIES])
def test_a_forbidden_model_is_refused_before_the_body_is_validated(
    server: ServerThread, path: str, body: dict[str, Any]
) -> None:
    response = post(server, path, KEYS["limited"], json=body)
    middleware_error(response, 403, f"This token has no access to model {FORBIDDEN}")


@pytest.mark.parametrize(("path", "body"), INVALID_BODIES, ids=[p for p, _ in INVALID_BODIES])
def test_a_model_no_channel_serves_is_refused_before_the_body_is_validated(
    server: ServerThread, path: str, body: dict[str, Any]
) -> None:
    body = {**body, "model": "gpt-4o"}  # priced for vip only
    response = post(server, path, KEYS["main"], json=body)
    message = "No available channel for model gpt-4o under group default (distributor)"
    middleware_error(response, 503, message, "model_not_found")


def test_gemini_reads_the_model_from_the_path(server: ServerThread) -> None:
    response = http.post(
        f"{server.url}/v1beta/models/{FORBIDDEN}:generateContent",
        headers={"x-goog-api-key": KEYS["limited"]},
        json={"contents": "nope"},
    )
    middleware_error(response, 403, f"This token has no access to model {FORBIDDEN}")
    response = http.post(
        f"{server.url}/v1beta/models/gpt-4o:streamGenerateContent?key={KEYS['main']}",
        content=b"not json",
        headers={"content-type": "application/json"},
    )
    message = "No available channel for model gpt-4o under group default (distributor)"
    middleware_error(response, 503, message, "model_not_found")


@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/v1/images/edits"])
def test_multipart_routes_read_the_model_from_the_form(server: ServerThread, path: str) -> None:
    """No file at all: the relay's 400, after the model's 403."""
    response = post(server, path, KEYS["limited"], files={"model": (None, FORBIDDEN)})
    middleware_error(response, 403, f"This token has no access to model {FORBIDDEN}")


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/v1/images/generations", "dall-e"),
        ("/v1/audio/speech", "tts-1"),
        ("/v1/moderations", "text-moderation-stable"),
        ("/v1/audio/transcriptions", "whisper-1"),
    ],
)
def test_a_route_without_a_model_takes_new_apis_default(
    server: ServerThread, path: str, model: str
) -> None:
    if path == "/v1/audio/transcriptions":
        response = post(server, path, KEYS["limited"], files={"language": (None, "en")})
    else:
        response = post(server, path, KEYS["limited"], json={"input": "hi", "prompt": "a cat"})
    middleware_error(response, 403, f"This token has no access to model {model}")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"hello", "invalid character 'h' looking for beginning of value"),
        (b"", "unexpected end of JSON input"),
        (
            b'{"model": "gpt-4o-mini",}',
            "invalid character '}' looking for beginning of object key string",
        ),
        (
            b'{"model": 4}',
            "json: cannot unmarshal number into Go struct field ModelRequest.model of type string",
        ),
        (b"[]", "json: cannot unmarshal array into Go value of type middleware.ModelRequest"),
    ],
)
def test_a_body_go_cannot_read_is_the_distributors_400(
    server: ServerThread, raw: bytes, problem: str
) -> None:
    for path in ("/v1/chat/completions", "/v1/messages", "/v1/embeddings"):
        response = post(
            server, path, KEYS["main"], content=raw, headers={"content-type": "application/json"}
        )
        middleware_error(response, 400, f"Invalid request: Invalid request: {problem}")


def test_no_model_is_the_distributors_400_after_the_limits(server: ServerThread) -> None:
    body = {"messages": [{"role": "user", "content": "hello"}]}
    response = post(server, "/v1/chat/completions", KEYS["main"], json=body)
    middleware_error(response, 400, "Model name not specified, model name cannot be empty")
    response = post(server, "/v1/chat/completions", KEYS["limited"], json=body)
    middleware_error(response, 403, "This token has no access to model ")


def test_a_body_not_sent_as_json_names_no_model(server: ServerThread) -> None:
    """new-api reads the model only from JSON (by its Content-Type) and url-encoded forms."""
    raw = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}'
    response = post(server, "/v1/chat/completions", KEYS["main"], content=raw)
    middleware_error(response, 400, "Model name not specified, model name cannot be empty")
    form = post(server, "/v1/chat/completions", KEYS["limited"], data={"model": FORBIDDEN})
    middleware_error(form, 403, f"This token has no access to model {FORBIDDEN}")
    sent = post(
        server,
        "/v1/chat/completions",
        KEYS["main"],
        content=raw,
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert sent.status_code == 200, sent.text


def test_a_valid_request_is_still_answered(server: ServerThread) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
    assert post(server, "/v1/chat/completions", KEYS["limited"], json=body).status_code == 200
    invalid = post(server, "/v1/chat/completions", KEYS["limited"], json={**body, "messages": 5})
    assert invalid.status_code == 400  # an allowed model: the relay's own validation
    assert invalid.json()["error"]["type"] == "invalid_request_error"


# --- the official SDKs ------------------------------------------------------------------------


def test_openai_sdk_sees_the_403_for_an_invalid_request(server: ServerThread) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["limited"], max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model=FORBIDDEN, messages="nope")  # type: ignore[arg-type]
    body: Any = caught.value.body
    assert body["type"] == "new_api_error"
    assert re.fullmatch(
        re.escape(f"This token has no access to model {FORBIDDEN}") + REQUEST_ID, body["message"]
    )
    with pytest.raises(openai.PermissionDeniedError):
        client.embeddings.create(model=FORBIDDEN, input=[])
    with pytest.raises(openai.PermissionDeniedError):
        client.responses.create(model=FORBIDDEN, input=5)  # type: ignore[arg-type]


async def test_async_openai_sdk_sees_the_503_for_an_invalid_request(server: ServerThread) -> None:
    client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key=KEYS["main"], max_retries=0)
    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=[], stream=True)
    assert caught.value.status_code == 503
    body: Any = caught.value.body
    assert body["code"] == "model_not_found"


def test_anthropic_sdk_sees_the_403_for_an_invalid_request(server: ServerThread) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key=KEYS["limited"], max_retries=0)
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        client.messages.create(model=FORBIDDEN, max_tokens=-1, messages=[])
    body: Any = caught.value.body
    assert set(body) == {"error"}  # the middleware's OpenAI shape, on /v1/messages too
    assert body["error"]["message"].startswith(f"This token has no access to model {FORBIDDEN} (")


# --- usable groups over HTTP ------------------------------------------------------------------

GROUPS_SCENARIO = SCENARIO.replace(
    "  groups: {default: 1, vip: 0.5}\n",
    "  groups: {default: 1, vip: 0.5, svip: 0.8}\n"
    "  auto_groups: [svip, vip, default]\n"
    "  user_usable_groups: {default: 默认分组, vip: vip分组, auto: 自动}\n",
).replace(
    "  tokens:\n",
    "  tokens:\n"
    "    - {name: auto, key: sk-autoauto01, unlimited_quota: true, group: auto}\n"
    "    - {name: svip, key: sk-svipsvip01, unlimited_quota: true, group: svip}\n",
)


def test_a_group_the_user_cannot_use_is_403(start_server: Callable[..., ServerThread]) -> None:
    server = start_server(GROUPS_SCENARIO)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
    response = post(server, "/v1/chat/completions", "sk-svipsvip01", json=body)
    middleware_error(response, 403, "无权访问 svip 分组")
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-svipsvip01", max_retries=0)
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        client.messages.create(model=FORBIDDEN, max_tokens=5, messages=[])
    assert "无权访问 svip 分组 (request id: " in str(caught.value)
    auto = post(server, "/v1/chat/completions", "sk-autoauto01", json=body)
    assert auto.status_code == 200, auto.text  # served in vip: svip is not alice's
    logs = http.get(
        f"{server.url}/api/log/self",
        headers={"Authorization": ALICE_ACCESS, "New-Api-User": "1"},
    ).json()["data"]["items"]
    assert [log["group"] for log in logs if log["token_name"] == "auto"] == ["vip"]


def test_the_default_setting_refuses_an_auto_token(
    start_server: Callable[..., ServerThread],
) -> None:
    text = GROUPS_SCENARIO.replace(
        "  user_usable_groups: {default: 默认分组, vip: vip分组, auto: 自动}\n", ""
    )
    server = start_server(text)
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-autoauto01", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    body: Any = caught.value.body
    assert body["message"].startswith("无权访问 auto 分组 (request id: ")


def test_system_api_shows_the_usable_groups(start_server: Callable[..., ServerThread]) -> None:
    server = start_server(GROUPS_SCENARIO)
    response = http.get(
        f"{server.url}/api/user/self/groups",
        headers={"Authorization": ALICE_ACCESS, "New-Api-User": "1"},
    )
    assert response.json() == {
        "success": True,
        "message": "",
        "data": {
            "auto": {"ratio": "自动", "desc": "自动"},
            "default": {"ratio": 1, "desc": "默认分组"},
            "vip": {"ratio": 0.5, "desc": "vip分组"},
        },
    }
    assert http.get(f"{server.url}/api/user/groups").json()["data"] == response.json()["data"]
    refused = http.get(
        f"{server.url}/api/user/self/groups", headers={"Authorization": ALICE_ACCESS}
    )
    assert refused.status_code == 401
    models = http.get(
        f"{server.url}/api/user/models",
        headers={"Authorization": ALICE_ACCESS, "New-Api-User": "1"},
    ).json()["data"]
    assert "gpt-4o" in models  # served to vip, a group alice may use


@pytest.mark.parametrize("path", ["/v1/videos", "/v1/video/generations"])
def test_a_video_submission_is_checked_before_it_is_validated(
    server: ServerThread, path: str
) -> None:
    """No prompt: the task's own 400, after the model's 403 and 503."""
    response = post(server, path, KEYS["limited"], json={"model": FORBIDDEN})
    middleware_error(response, 403, f"This token has no access to model {FORBIDDEN}")
    response = post(server, path, KEYS["main"], json={"model": "gpt-4o"})
    message = "No available channel for model gpt-4o under group default (distributor)"
    middleware_error(response, 503, message, "model_not_found")
