"""Questions about the journal, in the spirit of respx's `CallList`:

    mockserver.requests(rule="weather").call_count            # 2
    mockserver.requests(model="gpt-4o*", status=200).last.body
    assert_called(mockserver.requests, rule="weather", times=2)

A `Calls` is a snapshot: read `mockserver.requests` again to see newer requests. String filters
are case-sensitive globs (`endpoint="*:generateContent"`, `dialect="openai.*"`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, overload

import orjson
from msgspec import Struct
from msgspec.structs import replace

from mockserver.core.secrets import redact_value
from mockserver.journal.journal import Entry

BODY_PREVIEW = 200  # characters of the request body shown in a report line
SHOWN = 10  # requests listed in an assertion message


class NamedRule(Protocol):
    """What `assert_all_rules_used` needs of a rule (a `CompiledRule` has both)."""

    @property
    def name(self) -> str: ...

    @property
    def where(self) -> str: ...


class Filters(Struct, frozen=True):
    """Criteria a request must meet; `None` leaves a criterion out."""

    rule: str | None = None
    model: str | None = None
    endpoint: str | None = None
    dialect: str | None = None
    status: int | None = None
    matched: bool | None = None  # True: a rule matched; False: matching ran, no rule held
    key_name: str | None = None  # gateway mode: the name of the key that paid (a glob)

    def failures(self, entry: Entry) -> list[str]:
        """Why `entry` fails, one phrase per criterion: `rule: expected 'weather', got 'hi'`."""
        found = []
        for name in ("rule", "model", "endpoint", "dialect", "key_name"):
            pattern = getattr(self, name)
            value = getattr(entry, name)
            if pattern is not None and (value is None or not fnmatch.fnmatchcase(value, pattern)):
                found.append(f"{name}: expected {pattern!r}, got {value!r}")
        if self.status is not None and entry.status != self.status:
            found.append(f"status: expected {self.status}, got {entry.status}")
        if self.matched is True and entry.rule is None:
            found.append("matched: expected a rule to match, got none")
        elif self.matched is False and not entry.unmatched:
            got = f"rule {entry.rule!r}" if entry.rule else "a request matching didn't run on"
            found.append(f"matched: expected no rule to match, got {got}")
        return found

    def given(self) -> dict[str, Any]:
        """The criteria that were set: `{"rule": "weather"}`."""
        values = {name: getattr(self, name) for name in self.__struct_fields__}
        return {name: value for name, value in values.items() if value is not None}

    def __str__(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.given().items()) or "any request"


class Calls(Sequence[Entry]):
    """Journal entries, oldest first, answering `.called`, `.call_count` and `.last`; calling
    it (or `.filter`) with criteria narrows it: `calls(rule="weather", status=200)`."""

    __slots__ = ("_entries", "filters")

    def __init__(self, entries: Iterable[Entry], filters: Filters | None = None) -> None:
        self._entries = tuple(entries)
        self.filters = filters or Filters()

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> Calls: ...
    def __getitem__(self, index: int | slice) -> Entry | Calls:
        if isinstance(index, slice):
            return Calls(self._entries[index], self.filters)
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def __repr__(self) -> str:
        return f"<Calls ({self.filters}): {len(self._entries)} requests>"

    @property
    def called(self) -> bool:
        return bool(self._entries)

    @property
    def call_count(self) -> int:
        return len(self._entries)

    @property
    def last(self) -> Entry:
        if not self._entries:
            raise IndexError(f"no request recorded ({self.filters})")
        return self._entries[-1]

    def filter(
        self,
        *,
        rule: str | None = None,
        model: str | None = None,
        endpoint: str | None = None,
        dialect: str | None = None,
        status: int | None = None,
        matched: bool | None = None,
        key_name: str | None = None,
    ) -> Calls:
        criteria = Filters(rule, model, endpoint, dialect, status, matched, key_name)
        return self.where(criteria)

    __call__ = filter

    def where(self, criteria: Filters) -> Calls:
        """The entries meeting `criteria` (combined with this snapshot's own filters)."""
        kept = [entry for entry in self._entries if not criteria.failures(entry)]
        return Calls(kept, replace(self.filters, **criteria.given()))

    @property
    def unmatched(self) -> Calls:
        return self.filter(matched=False)

    @property
    def strict_misses(self) -> Calls:
        return Calls(e for e in self._entries if e.strict_miss)


def assert_called(calls: Calls, criteria: Filters, times: int | None = None) -> Calls:
    """The entries meeting `criteria`; `AssertionError` listing the journal (and why each
    request didn't count) unless there are `times` of them (at least one when `times` is None)."""
    __tracebackhide__ = True
    found = calls.where(criteria)
    count = found.call_count
    if (times is None and count > 0) or count == times:
        return found
    wanted = "at least 1 request" if times is None else _plural(times, "request")
    lines = [f"expected {wanted} with {criteria}; found {count}."]
    lines += similar(calls, criteria)
    raise AssertionError("\n".join(lines))


def similar(calls: Calls, criteria: Filters) -> list[str]:
    """The journal's requests closest to `criteria` first, each with the criteria it missed."""
    if not calls:
        return ["The journal is empty: no request reached the server in this test."]
    ranked = sorted(enumerate(calls, 1), key=lambda pair: len(criteria.failures(pair[1])))
    lines = [f"The journal holds {_plural(len(calls), 'request')}; the most similar:"]
    for number, entry in ranked[:SHOWN]:
        misses = criteria.failures(entry)
        because = f"  [{'; '.join(misses)}]" if misses else "  [counted]"
        lines.append(f"  {headline(entry, number)}{because}")
    if len(calls) > SHOWN:
        lines.append(f"  ... and {len(calls) - SHOWN} more")
    return lines


def assert_all_rules_used(calls: Calls, rules: Iterable[NamedRule]) -> None:
    """`AssertionError` naming every rule (with its file:line) no request matched."""
    __tracebackhide__ = True
    used = {entry.rule for entry in calls}
    unused = [rule for rule in rules if rule.name not in used]
    if unused:
        lines = [f"{_plural(len(unused), 'rule')} never matched a request in this test:"]
        lines += [f"  {rule.name!r} ({rule.where})" for rule in unused]
        raise AssertionError("\n".join(lines))


def headline(entry: Entry, number: int) -> str:
    """`#2 POST /v1/chat/completions (openai.chat, gpt-4o) → 200, rule 'weather'`."""
    what = ", ".join(part for part in (entry.dialect, entry.model) if part)
    parts = [f"#{number} {entry.method} {entry.endpoint}" + (f" ({what})" if what else "")]
    outcome = "in progress" if entry.status is None else str(entry.status)
    if entry.rule is not None:
        outcome += f", rule {entry.rule!r}"
    elif entry.strict_miss:
        outcome += ", no rule matched (strict mode)"
    elif entry.unmatched:
        outcome += ", no rule matched (default reply)"
    if entry.fault:
        outcome += f", fault {_compact(redact_value(entry.fault, entry.secrets))}"
    if entry.usage:
        prompt, completion = entry.usage.get("prompt_tokens"), entry.usage.get("completion_tokens")
        outcome += f", usage {prompt}+{completion} tokens"
    if entry.stream:
        outcome += f", stream of {_plural(entry.events_sent, 'event')}"
    if entry.disconnected:
        outcome += ", client disconnected"
    return f"{parts[0]} → {outcome}"


def describe(entry: Entry, number: int) -> list[str]:
    """A request as a failure report shows it: the headline, the body, the near misses."""
    lines = [headline(entry, number)]
    if entry.body is not None:
        lines.append(f"    body: {_compact(redact_value(entry.body, entry.secrets), BODY_PREVIEW)}")
    if entry.rule is None:
        for miss in entry.shown_near_misses():
            lines.append(f"    near miss {miss['rule']!r}: {'; '.join(miss['failed'])}")
    return lines


def report(calls: Calls) -> str:
    """The whole journal of one test, for the failure report."""
    if not calls:
        return "no request reached the mock server in this test"
    lines = [line for number, entry in enumerate(calls, 1) for line in describe(entry, number)]
    return "\n".join(lines)


def strict_miss_message(calls: Calls) -> str:
    """Why a test that saw strict-mode misses fails, even if the code swallowed the 400."""
    misses = calls.strict_misses
    lines = [
        f"mockserver (strict mode): {_plural(len(misses), 'request')} matched no scenario rule "
        "(the client got HTTP 400):"
    ]
    for entry in misses:
        number = next(n for n, e in enumerate(calls, 1) if e is entry)
        lines += [f"  {line}" for line in describe(entry, number)]
        if not entry.near_misses:
            lines.append("      (no rules are loaded)")
    return "\n".join(lines)


def _compact(value: object, limit: int = 120) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
