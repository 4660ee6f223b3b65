"""Task polls answered ahead of Starlette's router, like the hot POST routes (`MockApp`).

A poll loop (`GET /v1/videos/{id}`, `GET /mj/task/{id}/fetch`, ...) is what a task client
sends most, and Starlette finds those routes only after trying some seventy others (two of
them mounts) with a regular expression each. `HotGets` takes the endpoints of the routes named
in `POLLS` out of the route list and matches a path against each by its fixed prefix and
suffix: one path parameter, no `/` in it.

    hot = HotGets(routes, POLLS)
    endpoint = hot.match(scope)   # sets scope["path_params"]; None when no poll matches
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Scope

from mockserver.http.endpoints import Endpoint

# The polls of every task family with a fixed path (the `/{mode}/mj/...` ones go the long way).
POLLS = (
    "/v1/videos/{video_id}",
    "/v1/video/generations/{task_id}",
    "/mj/task/{task_id}/fetch",
    "/suno/fetch/{task_id}",
)


class HotGets:
    """GET routes with one path parameter, found by prefix and suffix."""

    def __init__(self, routes: Iterable[BaseRoute], wanted: Sequence[str]) -> None:
        found = dict(_get_routes(routes, ""))
        self.polls: list[tuple[str, str, str, Endpoint]] = []
        for path in wanted:
            endpoint = found.get(path)
            if endpoint is None:
                continue  # not served by this app (yet): the router answers as before
            prefix, _, rest = path.partition("{")
            name, _, suffix = rest.partition("}")
            self.polls.append((prefix, suffix, name, endpoint))

    def match(self, scope: Scope) -> Endpoint | None:
        path: str = scope["path"]
        for prefix, suffix, name, endpoint in self.polls:
            if path.startswith(prefix) and path.endswith(suffix):
                value = path[len(prefix) : len(path) - len(suffix)]
                if value and "/" not in value:
                    scope["path_params"] = {name: value}
                    return endpoint
        return None


def _get_routes(routes: Iterable[BaseRoute], prefix: str) -> Iterable[tuple[str, Endpoint]]:
    """(full path, endpoint) of every GET route, mounts with a fixed path included."""
    for route in routes:
        if isinstance(route, Route) and route.methods and "GET" in route.methods:
            yield prefix + route.path, route.endpoint
        elif isinstance(route, Mount) and "{" not in route.path:
            yield from _get_routes(route.routes, prefix + route.path)
