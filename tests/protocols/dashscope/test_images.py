from __future__ import annotations

import pytest

from mockserver.core.errors import APIError
from mockserver.protocols.dashscope import images as dashscope
from mockserver.tasks.task import Stage, Task


def test_qwen_image_takes_its_five_sizes_and_wan_a_range() -> None:
    body = {"model": "qwen-image", "input": {"prompt": "x"}}
    assert (dashscope.parse_synthesis(body).width, dashscope.parse_synthesis(body).height) == (
        1328,
        1328,
    )
    with pytest.raises(APIError, match="not supported"):
        dashscope.parse_synthesis(body | {"parameters": {"size": "1024*1024"}})
    wan = {"model": "wanx2.1-t2i-turbo", "input": {"prompt": "x"}, "parameters": {"n": 4}}
    parsed = dashscope.parse_synthesis(wan)
    assert (parsed.width, parsed.height, parsed.n) == (1024, 1024, 4)
    with pytest.raises(APIError, match="within"):
        dashscope.parse_synthesis(wan | {"parameters": {"size": "2000*512"}})
    with pytest.raises(APIError, match=r"\[1, 4\]"):
        dashscope.parse_synthesis(wan | {"parameters": {"n": 5}})


def test_multimodal_reads_the_last_user_message() -> None:
    body = {
        "model": "qwen-image-edit",
        "input": {"messages": [{"role": "user", "content": [{"image": "u"}, {"text": "red"}]}]},
    }
    parsed = dashscope.parse_multimodal(body)
    assert (parsed.prompt, parsed.images) == ("red", ["u"])
    with pytest.raises(APIError, match="image is required"):
        dashscope.parse_multimodal(
            {
                "model": "qwen-image-edit",
                "input": {"messages": [{"role": "user", "content": [{"text": "red"}]}]},
            }
        )


def test_a_task_renders_its_status_times_and_results() -> None:
    stages = [Stage("SUBMITTED", 0, 0), Stage("IN_PROGRESS", 50, 2), Stage("SUCCESS", 100, 5)]
    task = Task(
        id="t", family="dashscope-image", action="text2image", model="qwen-image",
        prompt="a fox", key="ab", created=1_735_689_600, stages=stages, step=2,
        params={"n": 1, "actual_prompt": "a fox, detailed"},
    )  # fmt: skip
    body = dashscope.render_task(task, ["u"])
    output = body["output"]
    assert output["task_status"] == "SUCCEEDED"
    assert output["submit_time"] == "2025-01-01 08:00:00.000"  # Beijing time
    assert output["end_time"] == "2025-01-01 08:00:05.000"
    assert output["results"] == [
        {"orig_prompt": "a fox", "actual_prompt": "a fox, detailed", "url": "u"}
    ]
    assert body["usage"] == {"image_count": 1}
