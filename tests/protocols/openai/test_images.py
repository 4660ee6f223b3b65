from __future__ import annotations

import pytest

from mockserver.core.errors import APIError
from mockserver.protocols.openai.images import revised_prompt, usage
from mockserver.protocols.openai.images_request import InputImage, parse_edit, parse_generation


def test_defaults_per_model() -> None:
    dall_e_2 = parse_generation({"prompt": "x"})
    assert (dall_e_2.model, dall_e_2.size, dall_e_2.response_format) == (
        "dall-e-2",
        "1024x1024",
        "url",
    )
    dall_e_3 = parse_generation({"model": "dall-e-3", "prompt": "x"})
    assert (dall_e_3.quality, dall_e_3.style) == ("standard", "vivid")
    gpt = parse_generation({"model": "gpt-image-1", "prompt": "x", "response_format": "url"})
    assert (gpt.size, gpt.response_format, gpt.background) == ("1024x1024", "b64_json", "opaque")


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "gpt-image-1", "prompt": "x", "quality": "hd"}, "quality", "invalid_value"),
        (
            {"model": "gpt-image-1", "prompt": "x", "output_compression": 101},
            "output_compression",
            "invalid_value",
        ),
        ({"model": "dall-e-2", "prompt": "x", "n": 0}, "n", "integer_below_min_value"),
        ({"model": "dall-e-2", "prompt": 5}, "prompt", "invalid_type"),
        ({"model": "dall-e-3", "prompt": "x", "stream": True}, "stream", "invalid_value"),
        (
            {"model": "gpt-image-1", "prompt": "x", "partial_images": 4},
            "partial_images",
            "integer_above_max_value",
        ),
    ],
)
def test_bad_values(body: dict[str, object], param: str, code: str) -> None:
    with pytest.raises(APIError) as caught:
        parse_generation(body)
    assert (caught.value.param, caught.value.code) == (param, code)


def test_dall_e_2_edits_need_a_square_png_with_alpha() -> None:
    rgb = InputImage(b"", "png", 64, 64, "RGB")
    with pytest.raises(APIError, match="got RGB"):
        parse_edit({"prompt": "x"}, [rgb], None)
    with pytest.raises(APIError, match="must be square"):
        parse_edit({"prompt": "x"}, [InputImage(b"", "png", 64, 32, "RGBA")], None)
    with pytest.raises(APIError, match="must be a PNG"):
        parse_edit({"prompt": "x"}, [InputImage(b"", "jpeg", 64, 64, "RGB")], None)
    with pytest.raises(APIError, match="Missing required parameter: 'image'"):
        parse_edit({"prompt": "x"}, [], None)


def test_usage_counts_input_images_and_output_by_quality() -> None:
    request = parse_generation({"model": "gpt-image-1", "prompt": "x", "quality": "high", "n": 2})
    request.images = [InputImage(b"", "png", 1024, 1024, "RGB")]
    counted = usage(request, 3)
    assert counted["output_tokens"] == 2 * 4160
    assert counted["input_tokens_details"] == {"image_tokens": 65 + 129 * 4, "text_tokens": 3}
    assert counted["total_tokens"] == counted["input_tokens"] + counted["output_tokens"]


def test_revised_prompt_keeps_the_prompt() -> None:
    assert "a red fox" in revised_prompt("a red fox.", 1)
