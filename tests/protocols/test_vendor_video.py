"""The pass-through video families' request parsing and ids, without a server: what each
vendor accepts, what it rejects, and the format of its ids and times."""

from __future__ import annotations

import re

import pytest

from mockserver.core.errors import APIError
from mockserver.protocols.dashscope import video as dashscope
from mockserver.protocols.doubao import video as doubao
from mockserver.protocols.luma import video as luma
from mockserver.protocols.minimax import video as minimax
from mockserver.protocols.replicate import predictions as replicate
from mockserver.protocols.runway import video as runway


def test_seedance_reads_commands_in_the_text_over_the_fields() -> None:
    parsed = doubao.parse_create({
        "model": "doubao-seedance-1-0-pro-250528", "ratio": "1:1",
        "content": [{"type": "text", "text": "a fox --rs 720p --dur 10 --rt 9:16"}],
    })  # fmt: skip
    assert parsed["prompt"] == "a fox"
    assert (parsed["seconds"], parsed["width"], parsed["height"]) == (10, 704, 1248)
    image_only = doubao.parse_create(
        {
            "model": "m",
            "content": [
                {
                    "type": "image_url",
                    "image_url": {"url": "https://x/y.png"},
                    "role": "first_frame",
                }
            ],
        }
    )
    assert image_only["ratio"] == "adaptive"
    with pytest.raises(APIError) as bad:
        doubao.parse_create({"model": "m", "content": [{"type": "video"}]})
    assert bad.value.code == "InvalidParameter" and bad.value.param == "content[0]"


def test_seedance_ids_carry_the_submission_time_in_beijing() -> None:
    assert re.fullmatch(r"cgt-20250601080000-[a-z0-9]{5}", doubao.task_id("k", 1748736000))


def test_dashscope_needs_the_async_header_and_formats_times_to_the_millisecond() -> None:
    body = {"model": "wan2.2-t2v-plus", "input": {"prompt": "x"}}
    with pytest.raises(APIError) as sync:
        dashscope.parse_create(body, None)
    assert (sync.value.status, sync.value.code) == (403, "AccessDenied")
    assert dashscope.parse_create(body, "enable")["width"] == 1920
    assert dashscope.beijing_time(1748736000) == "2025-06-01 08:00:00.000"


def test_hailuo_rejects_ten_seconds_at_1080p_in_base_resp() -> None:
    with pytest.raises(APIError) as bad:
        minimax.parse_create({"model": "MiniMax-Hailuo-02", "prompt": "x", "duration": 10,
                              "resolution": "1080P"})  # fmt: skip
    status, body = minimax.render_error(bad.value)
    assert status == 200 and body["base_resp"]["status_code"] == 2013
    assert re.fullmatch(r"\d{15}", minimax.task_id("k"))


def test_runway_ratio_is_the_size_and_the_version_header_is_required() -> None:
    parsed = runway.parse_image_to_video({"model": "gen4_turbo", "promptImage": "https://x",
                                          "ratio": "1584:672", "duration": 10})  # fmt: skip
    assert (parsed["width"], parsed["height"], parsed["seconds"]) == (1584, 672, 10)
    with pytest.raises(APIError):
        runway.check_version(None)
    with pytest.raises(APIError):
        runway.check_version("2023-01-01")


def test_luma_sizes_are_even_with_the_resolution_as_the_short_side() -> None:
    assert luma.size("21:9", "720p") == (1680, 720)
    assert luma.size("9:21", "540p") == (540, 1260)
    assert luma.size("4:3", "1080p") == (1440, 1080)


def test_replicate_versions_and_ids() -> None:
    version = "a" * 64
    parsed = replicate.parse_create({"version": f"acme/video-gen:{version}", "input": {}}, None)
    assert (parsed["model"], parsed["version"], parsed["video"]) == (
        "acme/video-gen", version, True,
    )  # fmt: skip
    with pytest.raises(APIError) as bad:
        replicate.parse_create({"version": "abc", "input": {}}, None)
    assert bad.value.status == 422
    assert re.fullmatch(r"[a-z0-9]{26}", replicate.prediction_id("k"))
