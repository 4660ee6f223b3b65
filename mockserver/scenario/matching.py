"""Compiled `Match` predicates: test a request, explain a miss, rank near misses.

Each predicate is compiled once (regexes, globs, lower-cased needles) and tested per request
cheapest first. A regex search that runs past `REGEX_SECONDS` (a pattern that backtracks
catastrophically on this text) ends the request with a 500 naming the rule. `explain` and
`near_misses` exist for the "no rule matched" diagnostics: for
`last_user: weather` and a request saying "hello there", `explain` gives
`["last_user: expected to contain 'weather', got 'hello there'"]`.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import regex
from msgspec import Struct

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.limits import REGEX_SECONDS
from mockserver.core.secrets import SECRET_HEADERS, mask, redact_text, secrets_in

if TYPE_CHECKING:  # validated models, read here by attribute: serving doesn't import pydantic
    from mockserver.scenario.predicates import Match, TextMatch, ToolChoiceName, TurnRange

Variables = dict[str, str]
_NO_VARIABLES: Variables = {}


def show(text: str, limit: int = 60) -> str:
    """`text` quoted for a diagnostic line, shortened to about `limit` characters."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def compile_globs(patterns: list[str]) -> Callable[[str], bool]:
    """A case-sensitive, anchored fnmatch test against any of `patterns`, compiled once.

    Plain names compare by set lookup; every glob joins one regex.
    """
    exact = frozenset(p for p in patterns if not any(ch in p for ch in "*?["))
    globs = [fnmatch.translate(p) for p in patterns if p not in exact]
    if not globs:
        return exact.__contains__
    regex = re.compile("|".join(f"(?:{g})" for g in globs))
    return lambda value: value in exact or regex.match(value) is not None


class RegexTimeout(Exception):
    """A `match:` regex search ran past `REGEX_SECONDS`."""


class TextTest:
    """One `TextMatch` compiled: `find(text)` gives the regex groups, or None on a miss."""

    def __init__(self, spec: TextMatch) -> None:
        self.ignore_case = spec.ignore_case
        self._regex: regex.Pattern[str] | None = None
        self._needle = ""
        self._equals = False
        if spec.regex is not None:
            self._regex = regex.compile(spec.regex, regex.IGNORECASE if spec.ignore_case else 0)
            self.expectation = f"to match /{spec.regex}/"
        else:
            self._equals = spec.equals is not None
            needle = spec.equals if spec.equals is not None else spec.contains or ""
            self._needle = needle.lower() if spec.ignore_case else needle
            self.expectation = f"to {'equal' if self._equals else 'contain'} {show(needle)}"
        if spec.ignore_case:
            self.expectation += " (ignoring case)"

    def find(self, text: str, deadline: float | None = None) -> Variables | None:
        """`deadline` (a `time.monotonic()`) bounds several searches together."""
        if self._regex is not None:
            left = REGEX_SECONDS if deadline is None else max(deadline - time.monotonic(), 1e-3)
            try:
                found = self._regex.search(text, timeout=left)
            except TimeoutError:
                raise RegexTimeout(self.expectation) from None
            return found.groupdict(default="") if found else None
        if self.ignore_case:
            text = text.lower()
        hit = text == self._needle if self._equals else self._needle in text
        return _NO_VARIABLES if hit else None


class Predicate:
    """One key of `match:`. `test` gives template variables (maybe none) or None on a miss."""

    key = ""
    cost = 0  # lower runs first

    def test(self, exchange: Exchange) -> Variables | None:
        raise NotImplementedError

    def explain(self, exchange: Exchange) -> str:
        """Why `test` failed, as `key: expected ..., got ...`."""
        raise NotImplementedError


class _Stream(Predicate):
    key = "stream"

    def __init__(self, stream: bool) -> None:
        self.stream = stream

    def test(self, exchange: Exchange) -> Variables | None:
        return _NO_VARIABLES if exchange.stream is self.stream else None

    def explain(self, exchange: Exchange) -> str:
        return f"stream: expected {str(self.stream).lower()}, got {str(exchange.stream).lower()}"


class _Model(Predicate):
    key = "model"

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = patterns
        self._test = compile_globs(patterns)

    def test(self, exchange: Exchange) -> Variables | None:
        return _NO_VARIABLES if self._test(exchange.model) else None

    def explain(self, exchange: Exchange) -> str:
        wanted = " or ".join(show(p) for p in self.patterns)
        return f"model: expected {wanted}, got {show(exchange.model)}"


class _Turn(Predicate):
    key = "turn"

    def __init__(self, turn: int | TurnRange) -> None:
        if isinstance(turn, int):
            self.low: int | None = turn
            self.high: int | None = turn
        else:
            self.low, self.high = turn.min, turn.max

    def test(self, exchange: Exchange) -> Variables | None:
        turn = exchange.turn
        if self.low is not None and turn < self.low:
            return None
        if self.high is not None and turn > self.high:
            return None
        return _NO_VARIABLES

    def explain(self, exchange: Exchange) -> str:
        if self.low == self.high:
            wanted = str(self.low)
        elif self.high is None:
            wanted = f"at least {self.low}"
        elif self.low is None:
            wanted = f"at most {self.high}"
        else:
            wanted = f"between {self.low} and {self.high}"
        return f"turn: expected {wanted} assistant messages so far, got {exchange.turn}"


class _ResponseFormat(Predicate):
    key = "response_format"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def test(self, exchange: Exchange) -> Variables | None:
        return _NO_VARIABLES if exchange.response_format.type == self.kind else None

    def explain(self, exchange: Exchange) -> str:
        got = exchange.response_format.type
        return f"response_format: expected {show(self.kind)}, got {show(got)}"


class _ToolChoice(Predicate):
    key = "tool_choice"

    def __init__(self, choice: str | ToolChoiceName) -> None:
        self.mode = choice if isinstance(choice, str) else "function"
        self.name = None if isinstance(choice, str) else choice.name

    def test(self, exchange: Exchange) -> Variables | None:
        choice = exchange.tool_choice
        ok = choice.mode == self.mode and (self.name is None or choice.name == self.name)
        return _NO_VARIABLES if ok else None

    def explain(self, exchange: Exchange) -> str:
        choice = exchange.tool_choice
        wanted = f"{{name: {self.name}}}" if self.name is not None else show(self.mode)
        got = f"{{name: {choice.name}}}" if choice.mode == "function" else show(choice.mode)
        return f"tool_choice: expected {wanted}, got {got}"


class _Tools(Predicate):
    key = "tools"
    cost = 1

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self._needed = frozenset(names)

    def test(self, exchange: Exchange) -> Variables | None:
        offered = self._needed.issubset(_offered(exchange))
        return _NO_VARIABLES if offered else None

    def explain(self, exchange: Exchange) -> str:
        offered = _offered(exchange)
        missing = [n for n in self.names if n not in offered]
        return (
            f"tools: expected {', '.join(self.names)} offered; missing {', '.join(missing)} "
            f"(offered: {', '.join(offered) or 'none'})"
        )


def _offered(exchange: Exchange) -> list[str]:
    """Function tools by name, then hosted tools by neutral name (`web_search`)."""
    return [tool.name for tool in exchange.tools] + exchange.server_tools


class _Headers(Predicate):
    key = "headers"
    cost = 1

    def __init__(self, headers: dict[str, str]) -> None:
        self.patterns = [(name.lower(), value) for name, value in headers.items()]
        self._tests = [(name, compile_globs([value])) for name, value in self.patterns]

    def test(self, exchange: Exchange) -> Variables | None:
        headers = exchange.headers
        for name, test in self._tests:
            value = headers.get(name)
            if value is None or not test(value):
                return None
        return _NO_VARIABLES

    def explain(self, exchange: Exchange) -> str:
        problems = []
        for (name, pattern), (_, test) in zip(self.patterns, self._tests, strict=True):
            value = exchange.headers.get(name)
            if value is None:
                problems.append(f"expected header {name} matching {show(pattern)}, got none")
            elif not test(value):
                got = mask(value) if name in SECRET_HEADERS else value
                problems.append(f"expected {name} to match {show(pattern)}, got {show(got)}")
        return "headers: " + "; ".join(problems)


class _ToolResult(Predicate):
    key = "tool_result"
    cost = 1

    def __init__(self, name: str | None, call_id: str | None, contains: str | None) -> None:
        self.name, self.call_id, self.contains = name, call_id, contains

    def test(self, exchange: Exchange) -> Variables | None:
        result = exchange.tool_result
        if result is None:
            return None
        if self.name is not None and result.tool_name != self.name:
            return None
        if self.call_id is not None and result.tool_call_id != self.call_id:
            return None
        if self.contains is not None and self.contains not in result.text:
            return None
        return _NO_VARIABLES

    def explain(self, exchange: Exchange) -> str:
        result = exchange.tool_result
        if result is None:
            last = exchange.last_message
            got = f"a {last.role} message" if last is not None else "no messages"
            return f"tool_result: expected the last message to be a tool result, got {got}"
        problems = []
        if self.name is not None and result.tool_name != self.name:
            problems.append(f"expected name {show(self.name)}, got {show(result.tool_name or '')}")
        if self.call_id is not None and result.tool_call_id != self.call_id:
            got = show(result.tool_call_id or "")
            problems.append(f"expected call_id {show(self.call_id)}, got {got}")
        if self.contains is not None and self.contains not in result.text:
            problems.append(f"expected to contain {show(self.contains)}, got {show(result.text)}")
        return "tool_result: " + "; ".join(problems)


class _Text(Predicate):
    """`last_user` or `system`: one text read from the request."""

    cost = 2

    def __init__(self, key: str, spec: TextMatch, read: Callable[[Exchange], str]) -> None:
        self.key = key
        self.text = TextTest(spec)
        self.read = read
        self.cost = 3 if spec.regex is not None else 2

    def test(self, exchange: Exchange) -> Variables | None:
        try:
            return self.text.find(self.read(exchange))
        except RegexTimeout as timeout:
            raise RegexTimeout(f"{self.key}: {timeout}") from None

    def explain(self, exchange: Exchange) -> str:
        return f"{self.key}: expected {self.text.expectation}, got {show(self.read(exchange))}"


class _AnyMessage(Predicate):
    key = "any_message"
    cost = 4

    def __init__(self, spec: TextMatch) -> None:
        self.text = TextTest(spec)

    def test(self, exchange: Exchange) -> Variables | None:
        deadline = time.monotonic() + REGEX_SECONDS  # for every message together
        try:
            for message in exchange.messages:
                found = self.text.find(message.text, deadline)
                if found is not None:
                    return found
        except RegexTimeout as timeout:
            raise RegexTimeout(f"{self.key}: {timeout}") from None
        return None

    def explain(self, exchange: Exchange) -> str:
        count = len(exchange.messages)
        return (
            f"any_message: expected a message {self.text.expectation}, "
            f"got none of {count} message{'s' if count != 1 else ''}"
        )


def _last_user(exchange: Exchange) -> str:
    return exchange.last_user


def _system(exchange: Exchange) -> str:
    return exchange.system


def _predicates(spec: Match) -> list[Predicate]:
    """The predicates of `spec`, in the order its keys are declared (the `explain` order)."""
    found: list[Predicate] = []
    if spec.model is not None:
        found.append(_Model(spec.model))
    if spec.last_user is not None:
        found.append(_Text("last_user", spec.last_user, _last_user))
    if spec.any_message is not None:
        found.append(_AnyMessage(spec.any_message))
    if spec.system is not None:
        found.append(_Text("system", spec.system, _system))
    if spec.tools is not None:
        found.append(_Tools(spec.tools))
    if spec.tool_choice is not None:
        found.append(_ToolChoice(spec.tool_choice))
    if spec.tool_result is not None:
        result = spec.tool_result
        found.append(_ToolResult(result.name, result.call_id, result.contains))
    if spec.turn is not None:
        found.append(_Turn(spec.turn))
    if spec.stream is not None:
        found.append(_Stream(spec.stream))
    if spec.headers is not None:
        found.append(_Headers(spec.headers))
    if spec.response_format is not None:
        found.append(_ResponseFormat(spec.response_format))
    return found


class Matcher:
    """A compiled `Match`; `owner` names it in errors (`rule 'weather'`)."""

    __slots__ = ("_by_cost", "owner", "predicates", "spec")

    def __init__(self, spec: Match, owner: str = "a rule") -> None:
        self.spec = spec
        self.owner = owner
        self.predicates = _predicates(spec)
        self._by_cost = sorted(self.predicates, key=lambda p: p.cost)

    def match(self, exchange: Exchange) -> Variables | None:
        """None when a predicate fails; else the regex named groups (`match.<group>`)."""
        variables: Variables = {}
        try:
            for predicate in self._by_cost:
                found = predicate.test(exchange)
                if found is None:
                    return None
                if found:
                    variables.update(found)
        except RegexTimeout as timeout:
            raise self._timed_out(timeout) from None
        return variables

    def explain(self, exchange: Exchange) -> list[str]:
        """One line per failing predicate; empty when the request matches. A line quotes what
        the request sent, with every credential masked (`mockserver.core.secrets`)."""
        try:
            lines = [p.explain(exchange) for p in self.predicates if p.test(exchange) is None]
        except RegexTimeout as timeout:
            raise self._timed_out(timeout) from None
        if not lines:
            return lines
        secrets = secrets_in(exchange.headers)
        return [redact_text(line, secrets) for line in lines]

    def _timed_out(self, timeout: RegexTimeout) -> APIError:
        return APIError(
            500,
            f"mockserver: the match of {self.owner} took too long on this request: its regex "
            f"({timeout}) ran past {REGEX_SECONDS:g} s; a pattern with nested repetition "
            "such as (a+)+ backtracks exponentially, rewrite it without",
            type="server_error",
            code="mock_regex_timeout",
        )

    @property
    def header_names(self) -> list[str]:
        """The (lower-cased) request headers this matcher reads."""
        return [name for p in self.predicates if isinstance(p, _Headers) for name, _ in p.patterns]


class MatchableRule(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def matcher(self) -> Matcher: ...


class NearMiss(Struct, frozen=True):
    rule_name: str
    failed: list[str]

    def __str__(self) -> str:
        return f"rule {self.rule_name!r}: " + "; ".join(self.failed)

    def to_dict(self) -> dict[str, Any]:
        """The journal's JSON form."""
        return {"rule": self.rule_name, "failed": list(self.failed)}


def near_misses(
    rules: Iterable[MatchableRule], exchange: Exchange, limit: int = 3
) -> list[NearMiss]:
    """The rules that came closest to matching, fewest failed predicates first (ties: file
    order). Rules that match are not misses and are left out."""
    misses = []
    for rule in rules:
        failed = rule.matcher.explain(exchange)
        if failed:
            misses.append(NearMiss(rule.name, failed))
    misses.sort(key=lambda miss: len(miss.failed))  # stable: keeps rule order on ties
    return misses[:limit]
