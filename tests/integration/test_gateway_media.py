"""Gateway mode on the picture and audio routes, through the official SDKs (`openai`,
`volcenginesdkarkruntime`, `dashscope`) and raw HTTP: the quota of each answer equals new-api's
formula written out here (a fixed price × DALL·E's size and quality ratio × `n`; gpt-image's
tokens; speech by characters and by `ceil(seconds) / 60 × 1000` audio tokens; transcription by
the upload's length or the answer's tokens), the gateway's 401 and 403 on every family, the
pre-charge refused or given back, and `auto` tokens routed and billed in their first group."""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import dashscope
import openai
import pytest
from dashscope import ImageSynthesis, MultiModalConversation
from volcenginesdkarkruntime import Ark
from volcenginesdkarkruntime._exceptions import ArkAPIError

from tests.gateway.gateway_scenario import http

if TYPE_CHECKING:
    import tiktoken

    from mockserver.http.server_thread import ServerThread

MAIN = "sk-mediamain00000000000000000000000000000000000000"
SMALL = "sk-mediasmall0000000000000000000000000000000000000"
LIMITED = "sk-medialimited00000000000000000000000000000000000"
AUTO = "sk-mediaauto00000000000000000000000000000000000000"
BAD = "sk-nobody000000000000000000000000000000000000000000"
ALICE = {"Authorization": "alice-access", "New-Api-User": "1"}
SEEDREAM = "doubao-seedream-4-0-250828"
SCENARIO = f"""
version: 1
seed: 11
rules:
  - name: broken
    match: {{last_user: {{contains: broken}}}}
    fault: {{status: 500}}
gateway:
  groups: {{default: 1, vip: 0.5, svip: 0.8, ent: 2}}
  auto_groups: [svip, vip, default]
  user_usable_groups: {{default: d, vip: v, svip: s, auto: a}}
  users:
    - {{id: 1, username: alice, quota: 100000000, access_token: alice-access}}
  models:
    dall-e-3: {{model_price: 0.04}}
    dall-e-2: {{model_price: 0.02}}
    gpt-image-1: {{model_ratio: 5, completion_ratio: 8, image_ratio: 2}}
    tts-1: {{model_ratio: 7.5}}
    gpt-4o-mini-tts: {{model_ratio: 0.3, completion_ratio: 4}}
    whisper-1: {{model_ratio: 3}}
    gpt-4o-transcribe: {{model_ratio: 1.25, completion_ratio: 4}}
    ideogram-v3-generate: {{model_price: 0.06}}
    {SEEDREAM}: {{model_price: 0.03}}
    qwen-image-plus: {{model_price: 0.25}}
    wanx2.1-t2i-turbo: {{model_price: 0.02}}
    gpt-4o-mini: {{model_ratio: 0.075, completion_ratio: 4, groups: [vip, default]}}
    gpt-4o: {{model_ratio: 1.25, completion_ratio: 4, groups: [ent]}}
  tokens:
    - {{name: main, key: {MAIN}, remain_quota: 4000000}}
    - {{name: small, key: {SMALL}, remain_quota: 15000}}
    - {{name: limited, key: {LIMITED}, unlimited_quota: true, model_limits: [gpt-4o-mini]}}
    - {{name: auto, key: {AUTO}, unlimited_quota: true, group: auto}}
"""
START = 4_000_000


def per_call(dollars: str, group: str = "1", n: int = 1) -> int:
    """new-api's fixed-price quota: dollars × 500000 × group × n, rounded half away."""
    total = Decimal(dollars) * 500_000 * Decimal(group) * n
    return int(total.quantize(Decimal(1), ROUND_HALF_UP))


def per_token(prompt: int, completion: int, ratio: str, completion_ratio: str = "1") -> int:
    total = (Decimal(prompt) + Decimal(completion) * Decimal(completion_ratio)) * Decimal(ratio)
    return max(1, int(total.quantize(Decimal(1), ROUND_HALF_UP)))


def audio_tokens(seconds: float) -> int:
    """1000 tokens a minute of audio, whole seconds rounded up."""
    return int(math.ceil(seconds) / 60 * 1000 + 0.5)


@pytest.fixture
def server(start_server: Callable[..., ServerThread]) -> ServerThread:
    return start_server(SCENARIO)


def client(server: ServerThread, key: str = MAIN) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def used(server: ServerThread, key: str = MAIN) -> int:
    response = http.get(
        f"{server.url}/api/usage/token/", headers={"Authorization": f"Bearer {key}"}
    )
    found: int = response.json()["data"]["total_used"]
    return found


def consume_logs(server: ServerThread) -> list[dict[str, Any]]:
    items = http.get(f"{server.url}/api/log/self", headers=ALICE).json()["data"]["items"]
    return [item for item in items if item["type"] == 2]


def journaled(server: ServerThread, path: str) -> dict[str, Any]:
    found = http.get(f"{server.url}/_mock/requests").json()["requests"]
    entries = [e for e in found if e["endpoint"] == path]
    assert entries, found
    return entries[-1]  # type: ignore[no-any-return]


def assert_gateway_error(status: int, body: Any, message: str, code: str = "") -> None:
    assert status in (401, 403, 503), status
    error = body["error"]
    assert error["type"] == "new_api_error" and error["code"] == code
    assert error["message"].startswith(f"{message} (request id: "), error["message"]


def silence_wav(seconds: float, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


# --- OpenAI images ---------------------------------------------------------------------------


def test_dall_e_is_billed_at_its_price_times_size_quality_and_n(server: ServerThread) -> None:
    sdk = client(server)
    raw = sdk.images.with_raw_response.generate(
        model="dall-e-3", prompt="an owl", size="1792x1024", quality="hd"
    )
    assert raw.parse().data
    tall_hd = per_call("0.04") * 2 * 3 // 2  # size ×2, hd on a tall size ×1.5
    assert used(server) == tall_hd == 60_000
    assert raw.headers["x-oneapi-request-id"]
    sdk.images.generate(model="dall-e-2", prompt="an owl", size="256x256", n=3)
    small_three = per_call("0.008", n=3)  # 0.02 × 0.4 for 256x256
    assert used(server) == tall_hd + small_three
    entry = journaled(server, "/v1/images/generations")
    assert (entry["key_name"], entry["quota"], entry["cost"]) == (
        "main",
        small_three,
        small_three / 500_000,
    )
    logs = consume_logs(server)
    assert [(log["model_name"], log["quota"], log["group"]) for log in logs[:2]] == [
        ("dall-e-2", small_three, "default"),
        ("dall-e-3", tall_hd, "default"),
    ]


def test_gpt_image_is_billed_by_its_tokens(server: ServerThread) -> None:
    sdk = client(server)
    made = sdk.images.generate(model="gpt-image-1", prompt="a lighthouse at dusk", size="1024x1024")
    assert made.usage is not None
    first = per_token(made.usage.input_tokens, made.usage.output_tokens, "5", "8")
    assert used(server) == first
    picture = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (512, 512), "red").save(picture, "PNG")
    edited = sdk.images.edit(
        model="gpt-image-1", image=("in.png", picture.getvalue(), "image/png"), prompt="bluer"
    )
    assert edited.usage is not None
    details = edited.usage.input_tokens_details
    assert details.image_tokens > 0
    prompt = Decimal(details.text_tokens) + Decimal(details.image_tokens) * 2
    second = int(
        ((prompt + Decimal(edited.usage.output_tokens) * 8) * 5).quantize(Decimal(1), ROUND_HALF_UP)
    )
    assert used(server) == first + second


def test_a_fault_gives_the_pre_charge_back(server: ServerThread) -> None:
    sdk = client(server)
    with pytest.raises(openai.InternalServerError):
        sdk.images.generate(model="dall-e-3", prompt="a broken owl")
    assert used(server) == 0
    entry = journaled(server, "/v1/images/generations")
    assert (entry["key_name"], entry["quota"], entry["status"]) == ("main", 0, 500)
    with pytest.raises(openai.InternalServerError):
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="broken speech")
    assert used(server) == 0 and consume_logs(server) == []
    http_status = http.post(
        f"{server.url}/api/v3/images/generations",
        json={"model": SEEDREAM, "prompt": "a broken fox"},
        headers={"Authorization": f"Bearer {MAIN}"},
    )
    assert http_status.status_code == 500
    assert used(server) == 0


def test_the_pre_charge_a_key_cannot_pay_is_refused(server: ServerThread) -> None:
    """`small` has $0.03 left: a $0.12 picture is refused before it is made, a $0.02 one
    (pre-charged without its `n`) goes through."""
    sdk = client(server, SMALL)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        sdk.images.generate(model="dall-e-3", prompt="an owl", size="1024x1792", quality="hd")
    error = caught.value.response.json()["error"]
    assert error["code"] == "pre_consume_token_quota_failed"
    assert error["message"].startswith(
        "token quota is not enough, token remain quota: ＄0.030000, need quota: ＄0.120000"
    )
    sdk.images.generate(model="dall-e-2", prompt="an owl", size="512x512")
    assert used(server, SMALL) == per_call("0.009")  # 0.02 × 0.45


# --- audio -----------------------------------------------------------------------------------


def test_speech_is_billed_by_characters_and_audio_seconds(
    server: ServerThread, reference: dict[str, tiktoken.Encoding]
) -> None:
    sdk = client(server)
    text = "The quick brown fox jumps over the lazy dog, twice."
    sdk.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="pcm")
    # tts-1: audio completion ratio 0 by default: only the characters count.
    assert used(server) == per_token(len(text), 0, "7.5")
    spoken = sdk.audio.speech.create(
        model="gpt-4o-mini-tts", voice="coral", input=text, response_format="wav"
    ).read()
    with wave.open(io.BytesIO(spoken)) as played:
        seconds = played.getnframes() / played.getframerate()
    tokens = len(reference["o200k_base"].encode(text))  # gpt-4o-: o200k
    # gpt-4o-mini-tts: audio ratio 25 and audio completion ratio 1 by default.
    expected = Decimal(tokens) + Decimal(audio_tokens(seconds)) * 25
    second = int((expected * Decimal("0.3")).quantize(Decimal(1), ROUND_HALF_UP))
    assert used(server) == per_token(len(text), 0, "7.5") + second


def test_transcriptions_are_billed_by_the_uploads_length_or_the_answers_tokens(
    server: ServerThread,
) -> None:
    sdk = client(server)
    upload = ("a.wav", silence_wav(2.3), "audio/wav")
    sdk.audio.transcriptions.create(model="whisper-1", file=upload)
    whisper = per_token(audio_tokens(2.3), 0, "3")  # the answer has no tokens: the estimate
    assert used(server) == whisper
    answer = sdk.audio.transcriptions.create(model="gpt-4o-transcribe", file=upload)
    assert answer.usage is not None and answer.usage.type == "tokens"
    tokens = per_token(answer.usage.input_tokens, answer.usage.output_tokens, "1.25", "4")
    assert used(server) == whisper + tokens
    sdk.audio.translations.create(model="whisper-1", file=upload)
    assert used(server) == 2 * whisper + tokens


# --- Ideogram, Ark, DashScope ----------------------------------------------------------------


def test_ideogram_ark_and_dashscope_pictures_are_billed_per_picture(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = http.post(
        f"{server.url}/ideogram/v1/ideogram-v3/generate",
        files={"prompt": (None, "an owl"), "num_images": (None, "2")},
        headers={"Authorization": f"Bearer {MAIN}"},
    )
    assert made.status_code == 200, made.text
    assert used(server) == per_call("0.06", n=2)
    ark = Ark(base_url=f"{server.url}/volc/api/v3", api_key=MAIN, max_retries=0)
    result = ark.images.generate(model=SEEDREAM, prompt="a red fox", size="1K")
    assert len(result.data) == 1
    assert used(server) == per_call("0.06", n=2) + per_call("0.03")
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{server.url}/api/v1")
    answer = MultiModalConversation.call(
        api_key=MAIN,
        model="qwen-image-plus",
        messages=[{"role": "user", "content": [{"text": "a fox in the snow"}]}],
        n=2,
    )
    assert answer.status_code == 200, answer
    assert used(server) == per_call("0.06", n=2) + per_call("0.03") + per_call("0.25", n=2)


# --- the gateway's 401 and 403 on every family -------------------------------------------------


@pytest.mark.parametrize(("key", "status"), [(BAD, 401), (LIMITED, 403)])
def test_every_media_family_checks_the_key_and_its_model_limits(
    server: ServerThread, key: str, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def expect(model: str) -> tuple[str, str]:
        if status == 401:
            return "Invalid token", ""
        return f"This token has no access to model {model}", ""

    error_type = openai.AuthenticationError if status == 401 else openai.PermissionDeniedError
    sdk = client(server, key)
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("dall-e-3", lambda: sdk.images.generate(model="dall-e-3", prompt="an owl")),
        ("tts-1", lambda: sdk.audio.speech.create(model="tts-1", voice="alloy", input="hi")),
        (
            "whisper-1",
            lambda: sdk.audio.transcriptions.create(
                model="whisper-1", file=("a.wav", silence_wav(1.0), "audio/wav")
            ),
        ),
    ]
    for model, call in calls:
        with pytest.raises(error_type) as caught:
            call()
        assert_gateway_error(status, caught.value.response.json(), *expect(model))
    ideogram = http.post(
        f"{server.url}/ideogram/v1/ideogram-v3/generate",
        files={"prompt": (None, "an owl")},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert ideogram.status_code == status
    assert_gateway_error(status, ideogram.json(), *expect("ideogram-v3-generate"))
    ark = Ark(base_url=f"{server.url}/api/v3", api_key=key, max_retries=0)
    with pytest.raises(ArkAPIError) as refused:
        ark.images.generate(model=SEEDREAM, prompt="a red fox")
    assert refused.value.status_code == status  # type: ignore[attr-defined]
    raw = http.post(
        f"{server.url}/volc/api/v3/images/generations",
        json={"model": SEEDREAM, "prompt": "a red fox"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert raw.status_code == status
    assert_gateway_error(status, raw.json(), *expect(SEEDREAM))
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{server.url}/alibailian/api/v1")
    answer = MultiModalConversation.call(
        api_key=key,
        model="qwen-image-plus",
        messages=[{"role": "user", "content": [{"text": "a fox"}]}],
    )
    assert answer.status_code == status
    raw = http.post(
        f"{server.url}/api/v1/services/aigc/multimodal-generation/generation",
        json={
            "model": "qwen-image-plus",
            "input": {"messages": [{"role": "user", "content": [{"text": "a fox"}]}]},
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert raw.status_code == status
    assert_gateway_error(status, raw.json(), *expect("qwen-image-plus"))
    assert used(server) == 0


def test_variations_need_a_key_before_the_501(server: ServerThread) -> None:
    png = silence_wav(0.1)  # the body is never read
    for key, status in ((BAD, 401), (MAIN, 501)):
        response = http.post(
            f"{server.url}/v1/images/variations",
            files={"image": ("a.png", png, "image/png")},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == status


# --- auto groups ----------------------------------------------------------------------------


def test_an_auto_token_is_served_and_billed_in_the_first_group_with_a_channel(
    server: ServerThread, reference: dict[str, tiktoken.Encoding]
) -> None:
    sdk = client(server, AUTO)
    sdk.images.generate(model="dall-e-3", prompt="an owl")  # every group: svip is first
    assert used(server, AUTO) == per_call("0.04", "0.8")
    chat = sdk.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
    )
    assert chat.usage is not None  # not served to svip: vip is next
    billed = per_token(chat.usage.prompt_tokens, chat.usage.completion_tokens, "0.0375", "4")
    assert used(server, AUTO) == per_call("0.04", "0.8") + billed
    logs = consume_logs(server)
    assert [(log["model_name"], log["group"]) for log in logs] == [
        ("gpt-4o-mini", "vip"),
        ("dall-e-3", "svip"),
    ]
    with pytest.raises(openai.InternalServerError) as caught:  # only `ent` serves it
        sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert_gateway_error(
        503,
        caught.value.response.json(),
        "No available channel for model gpt-4o under group auto (distributor)",
        "model_not_found",
    )
    listed = {model.id for model in sdk.models.list()}
    assert "gpt-4o" not in listed and {"gpt-4o-mini", "dall-e-3"} <= listed


def test_a_dashscope_image_task_is_charged_per_picture_at_submission(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{server.url}/api/v1")
    refused = ImageSynthesis.async_call(api_key=BAD, model="wanx2.1-t2i-turbo", prompt="a fox")
    assert refused.status_code == 401
    submitted = ImageSynthesis.async_call(
        api_key=MAIN, model="wanx2.1-t2i-turbo", prompt="a lighthouse", n=3, size="1024*768"
    )
    assert submitted.status_code == 200, submitted
    assert used(server) == per_call("0.02", n=3)
    fetched = ImageSynthesis.fetch(submitted, api_key=BAD)
    assert fetched.status_code == 401
