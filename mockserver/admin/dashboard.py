"""The dashboard: a page at `/_mock/ui` and the admin routes it reads.

    GET  /_mock/ui                       the page (HTML; its CSS and JS at /_mock/ui/<file>)
    GET  /_mock/events                   the journal as server-sent events (`admin.feed`)
    GET  /_mock/requests/{seq}           one request in full, with its near misses
    GET  /_mock/requests/{seq}/rule      a scenario rule matching it, as YAML that
                                         `POST /_mock/scenarios` accepts
    GET  /_mock/scenarios/usage          files and rules in force, hit counts, rules unused
    GET  /_mock/tasks                    async tasks, newest first (?family=)
    GET  /_mock/gateway/balances         gateway mode: every key's balance, and the billed
                                         requests (the page charts each key's spend)

The page's files are static and hold no data, so they pass the admin guard without the token (a
browser can't send one when it opens a page); every call the page makes carries it
(`Authorization: Bearer`, typed into the page once, kept in the tab's sessionStorage), and
every data route takes the full guard. The page runs no inline script (a strict CSP says so).
"""

from __future__ import annotations

from collections import Counter
from importlib import resources
from typing import TYPE_CHECKING, Any

import msgspec
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin.feed import Feed, Listeners, summary
from mockserver.admin.guard import AdminError
from mockserver.admin.previews import previews
from mockserver.http.responses import RawResponse
from mockserver.protocols.dialect import Inbound

if TYPE_CHECKING:
    from mockserver.admin.routes import Admin, Handler
    from mockserver.journal.journal import Entry
    from mockserver.server_state import MockState

FILES = {
    "index.html": b"text/html; charset=utf-8",
    "dashboard.css": b"text/css; charset=utf-8",
    "dashboard.js": b"text/javascript; charset=utf-8",
}
PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; media-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
COPIED_REPLY = "Replace this reply: rule copied from request #{seq}."
YAML_TYPE = b"application/yaml; charset=utf-8"


def routes(admin: Admin) -> list[BaseRoute]:
    board = Dashboard(admin)
    guard = admin.guarded
    return [
        Route("/_mock/ui", board.shell(board.page), methods=["GET"]),
        Route("/_mock/ui/{name}", board.shell(board.asset), methods=["GET"]),
        Route("/_mock/events", guard(board.events), methods=["GET"]),
        Route("/_mock/requests/{seq:int}", guard(board.detail), methods=["GET"]),
        Route("/_mock/requests/{seq:int}/rule", guard(board.rule), methods=["GET"]),
        Route("/_mock/scenarios/usage", guard(board.usage), methods=["GET"]),
        Route("/_mock/tasks", guard(board.tasks), methods=["GET"]),
        Route("/_mock/gateway/balances", guard(board.balances), methods=["GET"]),
    ]


class Dashboard:
    def __init__(self, admin: Admin) -> None:
        self.admin = admin
        self.state: MockState = admin.state
        self.listeners = Listeners()

    def shell(self, handler: Handler) -> Handler:
        """The admin guard without the token, for the page's own static files."""

        async def endpoint(request: Request) -> Response:
            try:
                self.admin.guard.check(request, token=False)
                return await handler(request)
            except AdminError as error:
                return error.response()

        return endpoint

    async def page(self, request: Request) -> Response:
        return _asset("index.html")

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in FILES or name == "index.html":
            valid = ", ".join(n for n in FILES if n != "index.html")
            raise AdminError(404, f"no dashboard file {name!r}; there are: {valid}", "not_found")
        return _asset(name)

    async def events(self, request: Request) -> Response:
        _no_query(request)
        return Feed(self.state.journal, self.listeners)

    async def detail(self, request: Request) -> Response:
        _no_query(request)
        entry = self._entry(request)
        shown = {**entry.to_dict(), **summary(entry)}
        try:
            orjson.dumps(shown, default=str)
        except orjson.JSONEncodeError as error:  # past JSON's nesting: say so, show the rest
            shown["body"] = f"<not shown: {error}>"
        return _json(shown)

    async def rule(self, request: Request) -> Response:
        _no_query(request)
        entry = self._entry(request)
        return RawResponse(rule_yaml(entry, self.state).encode(), media_type=YAML_TYPE)

    async def usage(self, request: Request) -> Response:
        _no_query(request)
        return _json(scenario_usage(self.state))

    async def tasks(self, request: Request) -> Response:
        unknown = [name for name in request.query_params if name != "family"]
        if unknown:
            raise AdminError(
                400, f"/_mock/tasks takes ?family= only; got {unknown[0]!r}", "invalid_request"
            )
        repository = self.state.tasks
        found = repository.everything()
        family = request.query_params.get("family")
        if family is not None:
            families = sorted({task.family for task in found})
            if family not in families:
                raise AdminError(
                    400,
                    f"no {family!r} tasks; families with tasks: {', '.join(families) or 'none'}",
                    "invalid_request",
                )
            found = [task for task in found if task.family == family]
        found.sort(key=lambda task: task.seq, reverse=True)
        return _json({"now": repository.now(), "tasks": [_task(task) for task in found]})

    async def balances(self, request: Request) -> Response:
        _no_query(request)
        return _json(gateway_balances(self.state))

    def _entry(self, request: Request) -> Entry:
        seq = request.path_params["seq"]
        for entry in reversed(self.state.journal.entries()):
            if entry.seq == seq:
                return entry
        raise AdminError(
            404,
            f"request #{seq} is not in the journal (it keeps the newest "
            f"{self.state.journal.size}; a reset forgets all)",
            "not_found",
        )


def rule_yaml(entry: Entry, state: MockState) -> str:
    """A scenario (one rule) that matches `entry`'s request: its model and its last user
    message, read as the matcher reads them (the request re-parsed by its dialect)."""
    import yaml  # on first use: a server with no scenario files never imports PyYAML

    match: dict[str, Any] = {}
    if entry.model:
        match["model"] = entry.model
    last_user = last_user_of(entry, state)
    if last_user:
        match["last_user"] = {"equals": last_user}
    if not match:
        raise AdminError(
            409,
            f"request #{entry.seq} ({entry.method} {entry.endpoint}) has no model and no user "
            "message to match on",
            "nothing_to_match",
        )
    rule = {
        "name": f"copied-{entry.seq}",
        "match": match,
        "reply": {"content": COPIED_REPLY.format(seq=entry.seq)},
    }
    return yaml.safe_dump(
        {"version": 1, "rules": [rule]}, sort_keys=False, allow_unicode=True, width=100
    )


def last_user_of(entry: Entry, state: MockState) -> str:
    """The request's last user message as its dialect reads it; "" when it has none, or when
    its body can't be parsed again (it was refused, or its dialect isn't a chat one)."""
    if entry.dialect is None or not isinstance(entry.body, dict):
        return ""
    try:
        dialect = state.dialects.get(entry.dialect)
        inbound = Inbound(path=entry.endpoint, method=entry.method, headers=entry.headers)
        return dialect.parse(entry.body, inbound).last_user
    except Exception:  # any refusal by the dialect means: nothing to copy
        return ""


def scenario_usage(state: MockState) -> dict[str, Any]:
    """The scenarios in force with each rule's hits in the journal (its newest requests)."""
    entries = state.journal.entries()
    hits = Counter(entry.rule for entry in entries if entry.rule is not None)
    rules = [
        {"name": r.name, "where": r.where, "kind": r.kind, "hits": hits.get(r.name, 0)}
        for r in state.scenarios.rules
    ]
    return {
        "scenarios": [s.source for s in state.scenarios.scenarios],
        "rules": rules,
        "unused": [rule["name"] for rule in rules if not rule["hits"]],
        "default_replies": sum(1 for e in entries if e.rule is None and e.status is not None),
        "journal": {"requests": len(entries), "size": state.journal.size},
        "refused": msgspec.to_builtins(state.published.last_refused()),
    }


def gateway_balances(state: MockState) -> dict[str, Any]:
    """Every key of gateway mode with its balance (keys masked), and the usage log, oldest
    first; `{"on": false}` outside gateway mode."""
    from mockserver.gateway import admin_api

    gateway = state.gateway
    if gateway is None:
        return {"on": False, "keys": [], "usage": []}
    keys = sorted(gateway.accounts.all_tokens(), key=lambda token: token.id)
    return {
        "on": True,
        "keys": [admin_api.balance(token) for token in keys],
        "usage": [admin_api.usage_entry(log) for log in gateway.accounts.logs()],
    }


def _task(task: Any) -> dict[str, Any]:
    return {
        "id": task.id,
        "family": task.family,
        "action": task.action,
        "model": task.model,
        "prompt": task.prompt,
        "status": task.status,
        "step": task.step,
        "stages": len(task.stages),
        "rule": task.rule,
        "created": task.created,
        "reason": task.reason,
        "previews": previews(task),
    }


def _asset(name: str) -> Response:
    body = resources.files("mockserver.admin").joinpath("ui", name).read_bytes()
    return RawResponse(body, headers=PAGE_HEADERS, media_type=FILES[name])


def _json(payload: Any) -> Response:
    return RawResponse(orjson.dumps(payload, default=str))


def _no_query(request: Request) -> None:
    if request.query_params:
        name = next(iter(request.query_params))
        raise AdminError(
            400,
            f"unknown query parameter {name!r} for {request.url.path}; valid: none",
            "invalid_request",
        )
