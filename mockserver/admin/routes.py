"""The admin API under `/_mock/`, for users outside Python (curl, CI scripts, other languages).

    GET    /_mock/health                server up; counts of scenarios, rules, requests
    GET    /_mock/scenarios             the scenarios and rules in force, in match order
    POST   /_mock/scenarios             add a scenario (YAML or JSON body, or ?path=FILE);
                                        ?replace=true drops the others first; all-or-nothing
    DELETE /_mock/scenarios             back to the scenarios given at start (?all=true: none)
    GET    /_mock/requests              the journal, filtered: ?rule=&model=&endpoint=&dialect=
                                        &status=&matched=&limit=
    GET    /_mock/requests/unmatched    requests no rule matched, with their near misses
    POST   /_mock/reset                 forget the journal and sequence state; keep scenarios
    GET    /_mock/ui                    the dashboard (`mockserver.admin.dashboard`: its routes)

What these change, every worker of `serve --workers N` serves (`mockserver.admin.published`).

With `--admin-token T`, every call needs `Authorization: Bearer T` (401 otherwise); who else may
call is `mockserver.admin.guard`'s (loopback `Host`, same `Origin`, no form bodies; no admin API
on a non-loopback bind without a token). `?path=` loads only from the directories (and files)
given at start; `../` and symbolic links can't leave them. A scenario is validated in a worker
thread: a large one doesn't hold up other clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin import dashboard
from mockserver.admin.guard import AdminError, Guard, media_type
from mockserver.admin.published import Conflict, FailedLoad, Source
from mockserver.core.errors import APIError
from mockserver.core.limits import MAX_YAML_DEPTH, too_deep
from mockserver.gateway import admin_api as gateway_admin
from mockserver.http.responses import RawResponse
from mockserver.journal.calls import Calls, Filters
from mockserver.scenario import ScenarioError, ScenarioIssue, ScenarioSet

if TYPE_CHECKING:
    from mockserver.scenario import Scenario
    from mockserver.server_state import MockState

Handler = Callable[[Request], Awaitable[Response]]
PUBLISH_TRIES = 5  # builds of the new scenarios while other workers keep publishing first
BODY_SOURCE = "<POST /_mock/scenarios>"
SCENARIO_SUFFIXES = (".yaml", ".yml")


def routes(state: MockState) -> list[BaseRoute]:
    """Every `/_mock/` route, each behind the admin token when one is set."""
    admin = Admin(state)
    guard = admin.guarded
    return [
        Route("/_mock/health", guard(admin.health), methods=["GET"]),
        Route("/_mock/scenarios", guard(admin.list_scenarios), methods=["GET"]),
        Route("/_mock/scenarios", guard(admin.add_scenario), methods=["POST"]),
        Route("/_mock/scenarios", guard(admin.remove_scenarios), methods=["DELETE"]),
        Route("/_mock/requests", guard(admin.requests), methods=["GET"]),
        Route("/_mock/requests/unmatched", guard(admin.unmatched), methods=["GET"]),
        Route("/_mock/reset", guard(admin.reset), methods=["POST"]),
        Route("/_mock/tasks/clock", guard(admin.task_clock), methods=["GET", "POST"]),
        *dashboard.routes(admin),  # /_mock/ui and the routes it reads
        *gateway_admin.routes(state, guard),  # keys and balances in gateway mode
    ]


class Admin:
    def __init__(self, state: MockState) -> None:
        self.state = state
        self.guard = Guard(state.settings.host, state.settings.admin_token)
        self.changing = asyncio.Lock()  # one change of the scenarios at a time
        given = [Path(p).resolve() for p in state.settings.scenario_paths]
        self.directories = [p for p in given if p.is_dir()]
        self.files = [p for p in given if p.is_file()]

    def guarded(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                self.guard.check(request)
                return await handler(request)
            except AdminError as error:
                return error.response()

        return endpoint

    # --- Health and scenarios ---------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        _allow(request, ())
        scenarios = self.state.scenarios
        return _json(
            {
                "status": "ok",
                "scenarios": len(scenarios.scenarios),
                "rules": len(scenarios.rules),
                "requests": len(self.state.journal),
                "journal_size": self.state.journal.size,
            }
        )

    async def list_scenarios(self, request: Request) -> Response:
        _allow(request, ())
        return _json(_describe(self.state))

    async def add_scenario(self, request: Request) -> Response:
        _allow(request, ("replace", "path"))
        replace = _flag(request, "replace")
        path = request.query_params.get("path")
        file = self._resolve(path) if path is not None else None
        body = await self._body(request) if file is None else b""
        kind = media_type(request)
        async with self.changing:
            try:
                sources, added = await run_in_threadpool(_read_sources, file, body, kind)
                for _ in range(PUBLISH_TRIES):
                    current = () if replace else self.state.scenarios.scenarios
                    combined = await run_in_threadpool(ScenarioSet.build, [*current, *added])
                    try:
                        self.state.publish(
                            combined, sources, replace=replace, startup=False if replace else None
                        )
                        break
                    except Conflict:  # another worker published meanwhile: build on theirs
                        self.state.sync()
                else:
                    raise AdminError(409, "scenarios changed concurrently; try again", "conflict")
            except ScenarioError as error:
                issues = [_issue_dict(issue) for issue in error.issues]
                self.state.published.refused(FailedLoad(str(error), tuple(issues)))
                raise AdminError(400, str(error), "scenario_error", issues=issues) from None
        return _json({**_describe(self.state), "added": [s.source for s in added]})

    async def remove_scenarios(self, request: Request) -> Response:
        _allow(request, ("all",))
        everything = _flag(request, "all")
        scenarios = ScenarioSet() if everything else self.state.startup
        async with self.changing:
            for _ in range(PUBLISH_TRIES):
                try:
                    self.state.publish(scenarios, replace=True, startup=not everything)
                    break
                except Conflict:
                    self.state.sync()
            else:
                raise AdminError(409, "scenarios changed concurrently; try again", "conflict")
        return _json(_describe(self.state))

    async def _body(self, request: Request) -> bytes:
        """The body, up to the server's body limit (413 past it, as for any request)."""
        from mockserver.engine.pipeline import read_body

        limit = self.state.settings.max_body_bytes
        try:
            return await read_body(request.receive, request.scope["headers"], limit)
        except APIError as error:  # too large, or the client left
            raise AdminError(error.status, error.message, "request_too_large") from None

    def _resolve(self, raw: str) -> Path:
        """`raw` inside a directory (or equal to a file) given at start, else 403; 400 for
        what can't be a path at all."""
        if "\x00" in raw or not raw.strip() or len(raw) > 4096:
            raise AdminError(
                400,
                f"path: expected a file or directory path (no NUL bytes, at most 4096 "
                f"characters); got {raw[:80]!r}",
                "invalid_request",
            )
        try:
            return self._inside(raw)
        except (OSError, ValueError) as error:  # a name too long, a loop of symbolic links...
            message = f"path {raw[:80]!r} can't be used: {type(error).__name__}"
            raise AdminError(400, message, "invalid_request") from None

    def _inside(self, raw: str) -> Path:
        roots = [str(p) for p in (*self.directories, *self.files)]
        if not roots:
            raise AdminError(
                403,
                "loading by path is off: the server was started with no scenario directory",
                "forbidden",
            )
        given = Path(raw)
        bases = [Path()] if given.is_absolute() else self.directories
        candidates = [(base / given).resolve() for base in bases]
        if not given.is_absolute():
            candidates += [f for f in self.files if raw in (f.name, str(f))]
        inside = [c for c in candidates if c in self.files or _under(c, self.directories)]
        if not inside:
            raise AdminError(
                403,
                f"path {raw!r} is outside the scenario directories given at start "
                f"({', '.join(roots)})",
                "forbidden",
            )
        for candidate in inside:
            if candidate.is_dir() or (
                candidate.is_file() and candidate.suffix in SCENARIO_SUFFIXES
            ):
                return candidate
        raise AdminError(
            404, f"no scenario file or directory {raw!r} under {', '.join(roots)}", "not_found"
        )

    # --- Journal ----------------------------------------------------------------------------

    async def requests(self, request: Request) -> Response:
        return _json(self._journal(request, Filters()))

    async def unmatched(self, request: Request) -> Response:
        return _json(self._journal(request, Filters(matched=False)))

    def _journal(self, request: Request, base: Filters) -> dict[str, Any]:
        allowed = ("rule", "model", "endpoint", "dialect", "status", "matched", "limit", "key_name")
        _allow(request, allowed)
        query = request.query_params
        criteria = Filters(
            rule=query.get("rule"),
            model=query.get("model"),
            endpoint=query.get("endpoint"),
            dialect=query.get("dialect"),
            status=_integer(request, "status"),
            matched=_flag(request, "matched") if "matched" in query else base.matched,
            key_name=query.get("key_name"),
        )
        found = Calls(self.state.journal.entries()).where(criteria)
        limit = _integer(request, "limit")
        shown = list(found)[-limit:] if limit else list(found)
        return {"count": len(found), "requests": [_writable(entry.to_dict()) for entry in shown]}

    async def reset(self, request: Request) -> Response:
        _allow(request, ())
        self.state.reset()
        return _json({"reset": True, "generation": self.state.journal.generation})

    async def task_clock(self, request: Request) -> Response:
        """`POST /_mock/tasks/clock?advance=SECONDS` moves the task clock on (tasks scripted
        with `advance: clock` move by it); `GET` reads it."""
        tasks = self.state.tasks
        if request.method == "GET":
            _allow(request, ())
            return _json({"now": tasks.now()})
        _allow(request, ("advance",))
        raw = request.query_params.get("advance", "")
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds < float("inf"):
            message = f"advance: expected a number of seconds >= 0; got {raw!r}"
            raise AdminError(400, message, "invalid_request")
        return _json({"now": tasks.advance_clock(seconds)})


# --- Helpers ---------------------------------------------------------------------------------


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return RawResponse(orjson.dumps(payload, default=str), status, headers)


def _allow(request: Request, names: tuple[str, ...]) -> None:
    unknown = [name for name in request.query_params if name not in names]
    if unknown:
        valid = ", ".join(names) or "none"
        message = f"unknown query parameter {unknown[0]!r} for {request.url.path}; valid: {valid}"
        raise AdminError(400, message, "invalid_request")


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise AdminError(400, f"{name}: expected true or false; got {value!r}", "invalid_request")
    return value in ("true", "1")


def _integer(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise AdminError(400, f"{name}: expected an integer; got {value!r}", "invalid_request")
    return int(value)


def _writable(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry as JSON can hold it: the journal must read whatever was sent (bodies
    past the depth limit are refused before they are journaled; this is the last guard)."""
    try:
        orjson.dumps(entry, default=str)
    except orjson.JSONEncodeError as error:
        entry["body"] = f"<not shown: {error}>"
    return entry


def _read_sources(
    file: Path | None, body: bytes, content_type: str | None
) -> tuple[list[Source], list[Scenario]]:
    """The sources of `file` or of `body`, and the scenarios they validate to (run in a worker
    thread: validating is CPU work)."""
    from mockserver.scenario import load_paths  # the loader brings pydantic: on first use

    if file is not None:
        added = list(load_paths([file]).scenarios)
        return [_file_source(scenario.source) for scenario in added], added
    sources = [_parse_body(body, content_type)]
    return sources, [source.load() for source in sources]


def _parse_body(raw: bytes, content_type: str | None) -> Source:
    """A JSON body (`content-type: application/json`) or YAML text, as the source of one file
    (its `load()` validates it)."""
    if not raw.strip():
        raise ScenarioError(
            [ScenarioIssue(BODY_SOURCE, None, None, "", "the body is empty; send a scenario")]
        )
    if content_type is not None and "json" in content_type.lower():
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            issue = ScenarioIssue(
                BODY_SOURCE, error.lineno, error.colno, "", f"invalid JSON: {error.msg}"
            )
            raise ScenarioError([issue]) from None
        if too_deep(data, MAX_YAML_DEPTH):
            message = f"values nest more than {MAX_YAML_DEPTH} levels deep"
            raise ScenarioError([ScenarioIssue(BODY_SOURCE, None, None, "", message)])
        return Source(BODY_SOURCE, data=data)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        issue = ScenarioIssue(BODY_SOURCE, None, None, "", "the body is not UTF-8 text")
        raise ScenarioError([issue]) from None
    return Source(BODY_SOURCE, text=text)


def _file_source(path: str) -> Source:
    """A scenario file loaded by `?path=`, kept as its text: every worker, and a restart with
    `--state`, loads what was validated here."""
    return Source(path, text=Path(path).read_text(encoding="utf-8"))


def _issue_dict(issue: ScenarioIssue) -> dict[str, Any]:
    return {
        "file": issue.file,
        "line": issue.line,
        "column": issue.column,
        "path": issue.path,
        "message": issue.message,
    }


def _describe(state: MockState) -> dict[str, Any]:
    """The scenarios in force; `seed` and `strict` as the engine applies them."""
    scenarios = state.scenarios
    return {
        "scenarios": [s.source for s in scenarios.scenarios],
        "rules": [{"name": r.name, "where": r.where, "kind": r.kind} for r in scenarios.rules],
        "seed": state.engine.seed,
        "strict": state.engine.strict,
    }


def _under(path: Path, directories: list[Path]) -> bool:
    return any(path.is_relative_to(directory) for directory in directories)
