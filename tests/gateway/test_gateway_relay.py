"""Gateway mode on the relay routes, through the official SDKs and raw HTTP: the gateway's own
errors (status, envelope, message) and the bill, computed here independently from tiktoken
counts and new-api's formula."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import anthropic
import httpx
import openai
import pytest
import tiktoken

from tests.gateway.gateway_scenario import KEYS, REPLY, SCENARIO, http

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread

REQUEST_ID = r"\(request id: \d{14}\d+[0-9a-f]{8}[0-9A-Za-z]{8}\)"


@pytest.fixture
def server(start_server: Callable[..., ServerThread]) -> ServerThread:
    return start_server(SCENARIO)


def chat(
    server: ServerThread, key: str, model: str = "gpt-4o-mini", **extra: Any
) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}], **extra}
    return http.post(
        f"{server.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"} if key else {},
    )


def expected_quota(
    prompt: int, completion: int, model_ratio: str, completion_ratio: str, group_ratio: str = "1"
) -> int:
    """new-api's text quota, written out here: (prompt + completion × completion_ratio) ×
    model_ratio × group_ratio, rounded half away from zero."""
    total = (
        (Decimal(prompt) + Decimal(completion) * Decimal(completion_ratio))
        * Decimal(model_ratio)
        * Decimal(group_ratio)
    )
    return max(1, int(total.quantize(Decimal(1), ROUND_HALF_UP)))


def chat_counts(encoding: tiktoken.Encoding) -> tuple[int, int]:
    """OpenAI's chat framing: 3 per message + role and content, + 3 for the reply priming."""
    prompt = 3 + len(encoding.encode("user")) + len(encoding.encode("hello")) + 3
    return prompt, len(encoding.encode(REPLY))


def token_usage(server: ServerThread, key: str) -> dict[str, Any]:
    response = http.get(
        f"{server.url}/api/usage/token/", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200
    data: dict[str, Any] = response.json()["data"]
    return data


# --- Admission errors ------------------------------------------------------------------------


def assert_middleware_error(response: httpx.Response, status: int, message: str, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code"}  # abortWithOpenAiMessage: no param
    assert error["type"] == "new_api_error"
    assert error["code"] == code
    assert re.fullmatch(re.escape(message) + " " + REQUEST_ID, error["message"]), error["message"]
    request_id = re.search(r"request id: (\w+)", error["message"])
    assert request_id is not None
    assert response.headers["x-oneapi-request-id"] == request_id.group(1)


@pytest.mark.parametrize(
    "key", ["sk-unknown000000000000000000000000000", KEYS["off"], KEYS["old"], ""]
)
def test_unusable_keys_get_401_invalid_token(server: ServerThread, key: str) -> None:
    assert_middleware_error(chat(server, key), 401, "Invalid token", "")


def test_openai_sdk_sees_authentication_error(server: ServerThread) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["off"], max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
        )
    assert caught.value.status_code == 401
    assert "Invalid token (request id:" in str(caught.value)


def test_model_outside_the_token_limits_is_403(server: ServerThread) -> None:
    response = chat(server, KEYS["limited"], model="claude-3-5-haiku-20241022")
    message = "This token has no access to model claude-3-5-haiku-20241022"
    assert_middleware_error(response, 403, message, "")
    assert chat(server, KEYS["limited"]).status_code == 200


def test_no_channel_for_group_and_model_is_503(server: ServerThread) -> None:
    response = chat(server, KEYS["main"], model="gpt-4o")  # priced for vip only
    message = "No available channel for model gpt-4o under group default (distributor)"
    assert_middleware_error(response, 503, message, "model_not_found")
    assert chat(server, KEYS["vip"], model="gpt-4o").status_code == 200
    unpriced = chat(server, KEYS["main"], model="gpt-4.1-mini")
    assert unpriced.status_code == 503


def test_ip_outside_allow_ips_is_403(server: ServerThread) -> None:
    response = chat(server, KEYS["ipbound"])
    assert_middleware_error(response, 403, "您的 IP 不在令牌允许访问的列表中", "access_denied")


def test_user_without_quota_is_403_insufficient_user_quota(server: ServerThread) -> None:
    response = chat(server, KEYS["poor"])
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "insufficient_user_quota"
    assert error["param"] == ""  # a relay error: OpenAI's shape in full
    assert error["message"].startswith("用户额度不足, 剩余额度: ＄0.000000 (request id: ")


def test_messages_route_errors(server: ServerThread) -> None:
    """On /v1/messages the middleware's errors keep OpenAI's shape (new-api's
    abortWithOpenAiMessage); relay errors are Anthropic-shaped."""
    client = anthropic.Anthropic(base_url=server.url, api_key=KEYS["off"], max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        client.messages.create(
            model="claude-3-5-haiku-20241022",
            max_tokens=50,
            messages=[{"role": "user", "content": "hello"}],
        )
    assert caught.value.body["error"]["type"] == "new_api_error"  # type: ignore[index]
    response = http.post(
        f"{server.url}/v1/messages",
        headers={"x-api-key": KEYS["poor"], "anthropic-version": "2023-06-01"},
        json={
            "model": "claude-3-5-haiku-20241022",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "hello"}],
        },
    )
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "new_api_error"
    assert body["error"]["message"].startswith("用户额度不足")


def test_gemini_key_from_query_and_header(server: ServerThread) -> None:
    path = "/v1beta/models/gpt-4o-mini:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
    ok = http.post(f"{server.url}{path}?key={KEYS['main']}", json=body)
    assert ok.status_code == 200, ok.text
    bad = http.post(f"{server.url}{path}", json=body, headers={"x-goog-api-key": KEYS["off"]})
    assert_middleware_error(bad, 401, "Invalid token", "")


# --- Billing ---------------------------------------------------------------------------------


def test_chat_is_billed_by_the_formula(server: ServerThread, reference: dict[str, Any]) -> None:
    prompt, completion = chat_counts(reference["o200k_base"])
    expected = expected_quota(prompt, completion, "0.075", "4")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["main"])
    answer = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
    )
    assert answer.usage is not None
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (prompt, completion)
    usage = token_usage(server, KEYS["main"])
    assert usage["total_used"] == expected
    assert usage["total_available"] == 1_000_000 - expected
    entry = server.app.state.mock.journal.entries()[0]
    assert (entry.key_name, entry.quota, entry.cost) == ("main", expected, expected / 500_000)
    assert "main000" not in str(entry.to_dict())  # the key itself is never journaled


def test_stream_is_billed_by_the_formula(server: ServerThread, reference: dict[str, Any]) -> None:
    prompt, completion = chat_counts(reference["o200k_base"])
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["main"])
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == REPLY
    assert token_usage(server, KEYS["main"])["total_used"] == expected_quota(
        prompt, completion, "0.075", "4"
    )


def test_group_ratio_applies(server: ServerThread, reference: dict[str, Any]) -> None:
    prompt, completion = chat_counts(reference["o200k_base"])
    assert chat(server, KEYS["vip"], model="gpt-4o").status_code == 200
    logs = http.get(
        f"{server.url}/api/log/token", headers={"Authorization": f"Bearer {KEYS['vip']}"}
    ).json()["data"]
    assert [log["quota"] for log in logs] == [
        expected_quota(prompt, completion, "1.25", "4", "0.5")
    ]


def test_anthropic_is_billed_by_the_formula(server: ServerThread) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key=KEYS["main"])
    message = client.messages.create(
        model="claude-3-5-haiku-20241022",
        max_tokens=50,
        messages=[{"role": "user", "content": "hello"}],
    )
    expected = expected_quota(message.usage.input_tokens, message.usage.output_tokens, "0.4", "5")
    assert token_usage(server, KEYS["main"])["total_used"] == expected


def test_fixed_price_model(server: ServerThread) -> None:
    assert chat(server, KEYS["main"], model="gpt-4.1").status_code == 200
    assert token_usage(server, KEYS["main"])["total_used"] == 10_000  # $0.02 × 500,000


def test_embeddings_are_billed(server: ServerThread, reference: dict[str, Any]) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["main"])
    result = client.embeddings.create(model="text-embedding-3-small", input="hello world")
    tokens = len(reference["cl100k_base"].encode("hello world"))
    assert result.usage.prompt_tokens == tokens
    assert token_usage(server, KEYS["main"])["total_used"] == expected_quota(tokens, 0, "0.01", "1")


def test_small_quota_runs_out_then_the_gateway_refuses(
    server: ServerThread, reference: dict[str, Any]
) -> None:
    """1500 quota: each request pre-charges (max(prompt, 500) × 0.075 = 37) and costs
    (prompt + completion × 4) × 0.075; once the rest can't cover the pre-charge, 403
    pre_consume_token_quota_failed; once it is spent, 401."""
    prompt, completion = chat_counts(reference["o200k_base"])
    cost = expected_quota(prompt, completion, "0.075", "4")
    pre_charge = int(500 * 0.075)
    statuses = [chat(server, KEYS["small"]).status_code for _ in range(1500 // cost + 2)]
    served = statuses.count(200)
    assert statuses[:served] == [200] * served
    remaining = token_usage(server, KEYS["small"])["total_available"]
    assert remaining == 1500 - served * cost
    assert remaining < pre_charge
    refused = chat(server, KEYS["small"])
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "pre_consume_token_quota_failed"
    assert refused.json()["error"]["message"].startswith(
        f"token quota is not enough, token remain quota: ＄{remaining / 500000:.6f}, "
        f"need quota: ＄{pre_charge / 500000:.6f} (request id: "
    )
    assert token_usage(server, KEYS["small"])["total_available"] == remaining  # refused: free


def test_request_ids_are_deterministic(start_server: Callable[..., ServerThread]) -> None:
    first, second = start_server(SCENARIO), start_server(SCENARIO)
    a = [chat(first, KEYS["off"]).json() for _ in range(2)]
    b = [chat(second, KEYS["off"]).json() for _ in range(2)]
    assert a == b
    assert a[0] != a[1]


def test_gateway_mode_is_off_without_the_section(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server("version: 1\n")
    assert chat(server, "anything").status_code == 200
    assert http.get(f"{server.url}/api/user/self").status_code == 404


def test_cut_stream_bills_only_what_was_sent(
    server: ServerThread, reference: dict[str, Any]
) -> None:
    """A stream cut after a few events bills its prompt and the content chunks the client
    received (one token each), not the whole reply."""
    prompt, completion = chat_counts(reference["o200k_base"])
    pieces: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream(
            "POST",
            f"{server.url}/v1/chat/completions",
            headers={
                "Authorization": f"Bearer {KEYS['main']}",
                "x-mock-fault": "disconnect_after=3",
            },
            json={
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "hello"}],
                "stream": True,
            },
        ) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line[6:])
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    pieces.append(chunk["choices"][0]["delta"]["content"])
    assert 0 < len(pieces) < completion
    assert token_usage(server, KEYS["main"])["total_used"] == expected_quota(
        prompt, len(pieces), "0.075", "4"
    )


def test_broken_connection_is_refunded(server: ServerThread) -> None:
    with pytest.raises(httpx.TransportError):
        http.post(
            f"{server.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {KEYS['main']}", "x-mock-fault": "connection=reset"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
        )
    usage = token_usage(server, KEYS["main"])
    assert (usage["total_used"], usage["total_available"]) == (0, 1_000_000)


def test_status_fault_is_refunded(server: ServerThread) -> None:
    response = chat(server, KEYS["small"])
    assert response.status_code == 200
    before = token_usage(server, KEYS["small"])["total_available"]
    failed = http.post(
        f"{server.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {KEYS['small']}", "x-mock-fault": "status=503"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
    )
    assert failed.status_code == 503
    assert token_usage(server, KEYS["small"])["total_available"] == before


def test_body_too_large(start_server: Callable[..., ServerThread]) -> None:
    """The distributor reads JSON bodies for the model: 400 there; Gemini's routes carry the
    model in the path and reach the relay's 413 read_request_body_failed."""
    server = start_server(SCENARIO, max_body_bytes=2 << 20)
    text = "x" * (3 << 20)
    reason = "request body exceeds 2 MB: request body too large"
    response = chat(server, KEYS["main"], messages=[{"role": "user", "content": text}])
    assert_middleware_error(response, 400, f"Invalid request: Invalid request: {reason}", "")
    gemini = http.post(
        f"{server.url}/v1beta/models/gpt-4o-mini:generateContent",
        headers={"x-goog-api-key": KEYS["main"]},
        json={"contents": [{"role": "user", "parts": [{"text": text}]}]},
    )
    assert gemini.status_code == 413
    error = gemini.json()["error"]
    assert (error["code"], error["param"], error["type"]) == (
        "read_request_body_failed",
        "",
        "new_api_error",
    )
    assert error["message"].startswith(f"{reason} (request id: ")


def test_responses_completions_and_rerank_are_billed(server: ServerThread) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["main"])
    response = client.responses.create(model="gpt-4o-mini", input="hello")
    assert response.usage is not None
    expected = expected_quota(
        response.usage.input_tokens, response.usage.output_tokens, "0.075", "4"
    )
    assert token_usage(server, KEYS["main"])["total_used"] == expected
    completion = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="hello", max_tokens=5
    )
    assert completion.usage is not None
    expected += expected_quota(
        completion.usage.prompt_tokens, completion.usage.completion_tokens, "0.75", "1.33"
    )
    assert token_usage(server, KEYS["main"])["total_used"] == expected
    refused = http.post(
        f"{server.url}/v1/rerank",
        headers={"Authorization": f"Bearer {KEYS['off']}"},
        json={"model": "gpt-4o-mini", "query": "q", "documents": ["a", "b"]},
    )
    assert_middleware_error(refused, 401, "Invalid token", "")


def test_model_lists_show_what_the_key_may_use(server: ServerThread) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["main"])
    listed = [model.id for model in client.models.list()]
    assert listed == [
        "gpt-4o-mini",
        "claude-3-5-haiku-20241022",
        "text-embedding-3-small",
        "gpt-4.1",
        "gpt-3.5-turbo-instruct",
        "gemini-2.5-flash",
    ]  # gpt-4o is served to vip only
    limited = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["limited"])
    assert [model.id for model in limited.models.list()] == ["gpt-4o-mini"]
    claude = anthropic.Anthropic(base_url=server.url, api_key=KEYS["vip"])
    assert "gpt-4o" in [model.id for model in claude.models.list()]
    gemini = http.get(f"{server.url}/v1beta/models?key={KEYS['limited']}").json()
    assert gemini == {
        "models": [{"name": "gpt-4o-mini", "displayName": "gpt-4o-mini"}],
        "nextPageToken": None,
    }
    refused = http.get(f"{server.url}/v1/models", headers={"Authorization": "Bearer sk-nope"})
    assert_middleware_error(refused, 401, "Invalid token", "")


def test_token_counts_and_model_details_need_a_key(server: ServerThread) -> None:
    """Relay routes all: behind `TokenAuth` like the generations (gateway mode only)."""
    claude = anthropic.Anthropic(base_url=server.url, api_key=KEYS["main"], max_retries=0)
    messages: Any = [{"role": "user", "content": "hello"}]
    counted = claude.messages.count_tokens(model="claude-3-5-haiku-20241022", messages=messages)
    assert counted.input_tokens > 0
    stranger = anthropic.Anthropic(base_url=server.url, api_key="sk-nope", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as refused_count:
        stranger.messages.count_tokens(model="claude-3-5-haiku-20241022", messages=messages)
    assert_middleware_error(refused_count.value.response, 401, "Invalid token", "")

    gemini_count = "/v1beta/models/gemini-2.5-flash:countTokens"
    body = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
    good = http.post(f"{server.url}{gemini_count}?key={KEYS['main']}", json=body)
    assert good.status_code == 200 and good.json()["totalTokens"] > 0
    off = http.post(
        f"{server.url}{gemini_count}", json=body, headers={"x-goog-api-key": KEYS["off"]}
    )
    assert_middleware_error(off, 401, "Invalid token", "")

    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["main"], max_retries=0)
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    nobody = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused_model:
        nobody.models.retrieve("gpt-4o-mini")
    assert_middleware_error(refused_model.value.response, 401, "Invalid token", "")
    detail = http.get(f"{server.url}/v1beta/models/gemini-2.5-flash?key={KEYS['old']}")
    assert_middleware_error(detail, 401, "Invalid token", "")


def test_image_and_audio_routes_need_a_key(server: ServerThread) -> None:
    """The media relay routes sit behind `TokenAuth` too: the gateway's 401 for a bad key."""
    nobody = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as image:
        nobody.images.generate(model="dall-e-3", prompt="an owl")
    assert_middleware_error(image.value.response, 401, "Invalid token", "")
    with pytest.raises(openai.AuthenticationError) as speech:
        nobody.audio.speech.create(model="tts-1", voice="alloy", input="hello")
    assert_middleware_error(speech.value.response, 401, "Invalid token", "")
    ideogram = http.post(
        f"{server.url}/ideogram/generate",
        json={"image_request": {"prompt": "an owl"}},
        headers={"Authorization": f"Bearer {KEYS['off']}"},
    )
    assert_middleware_error(ideogram, 401, "Invalid token", "")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS["main"], max_retries=0)
    with pytest.raises(openai.InternalServerError) as unpriced:  # a good key: on to admission
        client.images.generate(model="dall-e-3", prompt="an owl")
    message = "No available channel for model dall-e-3 under group default (distributor)"
    assert_middleware_error(unpriced.value.response, 503, message, "model_not_found")


def test_cors_as_new_api_answers_it(server: ServerThread) -> None:
    preflight = http.options(
        f"{server.url}/v1/chat/completions",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST,PUT,DELETE,OPTIONS"
    assert preflight.headers["access-control-allow-headers"] == "*"
    assert preflight.headers["access-control-max-age"] == "43200"
    response = chat(server, KEYS["main"], stream=False)
    assert "access-control-allow-origin" not in response.headers  # no Origin: no CORS
    cross = http.post(
        f"{server.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {KEYS['main']}", "Origin": "https://app.example"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
    )
    assert cross.headers["access-control-allow-origin"] == "*"
    assert cross.headers["access-control-allow-credentials"] == "true"


def test_gemini_is_billed_by_the_formula(server: ServerThread) -> None:
    from google import genai
    from google.genai import types

    client = genai.Client(
        api_key=KEYS["main"],
        http_options=types.HttpOptions(base_url=server.url, api_version="v1beta"),
    )
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="hello")
    usage = answer.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    completion = usage.candidates_token_count + (usage.thoughts_token_count or 0)
    expected = expected_quota(usage.prompt_token_count, completion, "0.15", "8.33")
    assert token_usage(server, KEYS["main"])["total_used"] == expected


def test_gemini_caches_are_not_relayed(server: ServerThread) -> None:
    """new-api relays Gemini's `models/*` actions only: `cachedContents` is its unknown URL."""
    for method, path in (("GET", "/v1beta/cachedContents"), ("POST", "/v1/cachedContents")):
        response = http.request(
            method, f"{server.url}{path}", headers={"x-goog-api-key": KEYS["main"]}, json={}
        )
        assert response.status_code == 404
        assert response.json()["error"]["message"] == f"Invalid URL ({method} {path})"
