"""Image parts counted from the image's real size, through each official SDK.

Each test sends the same text with and without an image and asserts the difference in prompt
tokens equals the vendor's published formula, worked out here from the picture's size (not
through mockserver's own module)."""

from __future__ import annotations

import base64
import io
import math

from google.genai import types
from PIL import Image

from mockserver.testing.handle import MockServer

QUESTION = "What is in this picture?"


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(width: int, height: int) -> str:
    return "data:image/png;base64," + base64.b64encode(png(width, height)).decode()


def gpt4o_tiles(width: int, height: int) -> int:
    """OpenAI's high-detail steps: fit 2048 x 2048, short side down to 768, 512 px tiles."""
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        w, h = w * 2048 / max(w, h), h * 2048 / max(w, h)
    if min(w, h) > 768:
        w, h = w * 768 / min(w, h), h * 768 / min(w, h)
    return math.ceil(w / 512) * math.ceil(h / 512)


def test_chat_completions_counts_tiles_and_detail(mockserver: MockServer) -> None:
    mockserver.load("scenarios/image_input.yaml")
    client = mockserver.openai_client()

    def prompt(*images: dict[str, object]) -> int:
        content = [{"type": "text", "text": QUESTION}, *images]
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": content}]
        )
        assert reply.choices[0].message.content == "A red square on a white background."
        assert reply.usage is not None
        return reply.usage.prompt_tokens

    plain = prompt()
    high = prompt(
        {"type": "image_url", "image_url": {"url": data_url(2000, 1000), "detail": "high"}}
    )
    low = prompt({"type": "image_url", "image_url": {"url": data_url(2000, 1000), "detail": "low"}})

    # 2000 x 1000 -> (under 2048) -> 1536 x 768: 3 x 2 tiles.
    assert gpt4o_tiles(2000, 1000) == 6
    assert high - plain == 85 + 170 * 6
    assert low - plain == 85


def test_chat_completions_patch_model(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    image = {"type": "image_url", "image_url": {"url": data_url(640, 480)}}

    def prompt(*parts: dict[str, object]) -> int:
        content = [{"type": "text", "text": QUESTION}, *parts]
        reply = client.chat.completions.create(
            model="gpt-4.1-mini", messages=[{"role": "user", "content": content}]
        )
        assert reply.usage is not None
        return reply.usage.prompt_tokens

    # 640 x 480: 20 x 15 = 300 patches of 32 px, x 1.62 = 486.
    assert prompt(image) - prompt() == math.ceil(20 * 15 * 1.62)


async def test_responses_input_image(mockserver: MockServer) -> None:
    client = mockserver.async_openai_client()

    async def input_tokens(*parts: dict[str, object]) -> int:
        content = [{"type": "input_text", "text": QUESTION}, *parts]
        response = await client.responses.create(
            model="gpt-4.1", input=[{"role": "user", "content": content}]
        )
        assert response.usage is not None
        return response.usage.input_tokens

    image = {"type": "input_image", "image_url": data_url(300, 3000), "detail": "auto"}
    # 300 x 3000 -> 205 x 2048 (fit 2048); short side under 768: 1 x 4 tiles.
    assert await input_tokens(image) - await input_tokens() == 85 + 170 * gpt4o_tiles(300, 3000)
    assert gpt4o_tiles(300, 3000) == 4


def test_anthropic_messages_and_count_tokens(mockserver: MockServer) -> None:
    client = mockserver.anthropic_client()
    encoded = base64.b64encode(png(800, 600)).decode()
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": encoded},
    }

    def messages(*blocks: dict[str, object]) -> list[dict[str, object]]:
        return [{"role": "user", "content": [{"type": "text", "text": QUESTION}, *blocks]}]

    plain = client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=messages())
    shown = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=64,
        messages=messages(image),
    )
    counted = client.messages.count_tokens(model="claude-sonnet-4-5", messages=messages(image))

    # 800 x 600 is within 1568 px and 1.15 MP: 480,000 / 750 = 640 tokens.
    assert shown.usage.input_tokens - plain.usage.input_tokens == 640
    assert counted.input_tokens == shown.usage.input_tokens


def test_anthropic_large_image_is_resized_first(mockserver: MockServer) -> None:
    client = mockserver.anthropic_client()
    encoded = base64.b64encode(png(4000, 1000)).decode()
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": encoded},
    }
    text = {"type": "text", "text": QUESTION}

    def tokens(*blocks: dict[str, object]) -> int:
        content = [text, *blocks]
        return client.messages.count_tokens(
            model="claude-sonnet-4-5",
            messages=[{"role": "user", "content": content}],
        ).input_tokens

    # Long edge 4000 -> 1568: 1568 x 392, 614,656 px / 750 = 819.5 -> 820.
    assert tokens(image) - tokens() == math.ceil(1568 * 392 / 750)


def test_gemini_tiles_in_usage_and_count_tokens(mockserver: MockServer) -> None:
    client = mockserver.genai_client()
    small = types.Part.from_bytes(data=png(300, 300), mime_type="image/png")
    large = types.Part.from_bytes(data=png(1600, 900), mime_type="image/png")

    plain = client.models.generate_content(model="gemini-2.5-flash", contents=[QUESTION])
    both = client.models.generate_content(
        model="gemini-2.5-flash", contents=[QUESTION, small, large]
    )
    counted = client.models.count_tokens(
        model="gemini-2.5-flash", contents=[QUESTION, small, large]
    )

    # 300 x 300: one 258-token image; 1600 x 900: 3 x 2 tiles of 768 px, 258 each.
    expected = 258 + 258 * math.ceil(1600 / 768) * math.ceil(900 / 768)
    assert plain.usage_metadata is not None and both.usage_metadata is not None
    prompt, before = both.usage_metadata.prompt_token_count, plain.usage_metadata.prompt_token_count
    assert prompt is not None and before is not None
    assert prompt - before == expected
    details = {d.modality: d.token_count for d in both.usage_metadata.prompt_tokens_details or []}
    assert details[types.MediaModality.IMAGE] == expected
    assert counted.total_tokens == prompt
