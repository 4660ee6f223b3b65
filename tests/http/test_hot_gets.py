from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from mockserver.http.hot_gets import POLLS, HotGets


async def video(request: Request) -> Response:
    return Response("video")


async def fetch(request: Request) -> Response:
    return Response("fetch")


async def submit(request: Request) -> Response:
    return Response("submit")


ROUTES = [
    Route("/v1/videos/{video_id}", video, methods=["GET", "DELETE"]),
    Mount(
        "/mj",
        routes=[
            Route("/task/{task_id}/fetch", fetch, methods=["GET"]),
            Route("/submit/imagine", submit, methods=["POST"]),
        ],
    ),
    Mount("/{mode}/mj", routes=[Route("/task/{task_id}/fetch", fetch, methods=["GET"])]),
]


def scope(path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path}


def test_a_poll_is_found_by_prefix_and_suffix_with_its_parameter() -> None:
    hot = HotGets(ROUTES, POLLS)
    found = scope("/v1/videos/task_abc")
    assert hot.match(found) is video
    assert found["path_params"] == {"video_id": "task_abc"}
    inside = scope("/mj/task/1712/fetch")
    assert hot.match(inside) is fetch  # through the mount's fixed prefix
    assert inside["path_params"] == {"task_id": "1712"}


def test_other_paths_are_left_to_the_router() -> None:
    hot = HotGets(ROUTES, POLLS)
    for path in (
        "/v1/videos/task_abc/content",  # a parameter holds no "/"
        "/v1/videos/",  # nor is it empty
        "/v1/videos",
        "/relax/mj/task/1712/fetch",  # a mount with a parameter: the router's
        "/suno/fetch/task_x",  # not among these routes
    ):
        assert hot.match(scope(path)) is None, path
