"""A forced fault (`x-mock-fault`) on a vendor task family's submission comes in that vendor's
own error shape, with the fault's status (MiniMax's own errors are 200s, a fault keeps its)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockserver.testing.handle import MockServer

SUBMISSIONS: list[tuple[str, dict[str, Any], dict[str, str], set[str]]] = [
    ("/volc/v1/contents/generations/tasks",
     {"model": "m", "content": [{"type": "text", "text": "x"}]}, {}, {"error"}),
    ("/alibailian/api/v1/services/aigc/video-generation/video-synthesis",
     {"model": "wan2.2-t2v-plus", "input": {"prompt": "x"}}, {"X-DashScope-Async": "enable"},
     {"code", "message", "request_id"}),
    ("/minimax/v1/video_generation", {"model": "T2V-01", "prompt": "x"}, {}, {"base_resp"}),
    ("/runwayml/v1/image_to_video", {"model": "gen4_turbo", "promptImage": "https://x/y.png"},
     {"X-Runway-Version": "2024-11-06"}, {"error"}),
    ("/luma/generations", {"user_prompt": "x"}, {}, {"detail"}),
    ("/jimeng/submit/videos", {"prompt": "x"}, {}, {"code", "message", "request_id", "data"}),
    ("/replicate/v1/models/a/b/predictions", {"input": {"prompt": "x"}}, {},
     {"title", "detail", "status"}),
    ("/fal-ai/flux/dev", {"prompt": "x"}, {}, {"detail"}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "headers", "keys"), SUBMISSIONS)
def test_a_forced_fault_is_the_vendors_error(
    mockserver: MockServer, path: str, body: dict[str, Any], headers: dict[str, str],
    keys: set[str],
) -> None:  # fmt: skip
    answer = httpx.post(
        f"{mockserver.url}{path}", json=body,
        headers=headers | {"x-mock-fault": "status=429", "Authorization": "Bearer sk-x"},
    )  # fmt: skip
    assert answer.status_code == 429
    assert set(answer.json()) == keys


def test_a_rate_limit_takes_each_vendors_own_words(mockserver: MockServer) -> None:
    fault = {"x-mock-fault": "status=429", "Authorization": "Bearer sk-x"}
    ark = httpx.post(f"{mockserver.url}{SUBMISSIONS[0][0]}", json=SUBMISSIONS[0][1], headers=fault)
    assert (
        ark.json()["error"]["code"] == "RateLimitExceeded.EndpointRPMExceeded"
    )  # one Ark error shape (images, videos)
    minimax = httpx.post(f"{mockserver.url}{SUBMISSIONS[2][0]}", json=SUBMISSIONS[2][1],
                         headers=fault)  # fmt: skip
    assert minimax.json()["base_resp"]["status_code"] == 1002
    wan = httpx.post(f"{mockserver.url}{SUBMISSIONS[1][0]}", json=SUBMISSIONS[1][1],
                     headers=fault | SUBMISSIONS[1][2])  # fmt: skip
    assert wan.json()["code"] == "Throttling"
