"""Strict on what we know, lenient on what we don't (DESIGN.md, "Accept like the live API").

The live APIs grow every month and clients send only what they take, so a parser meeting
something it doesn't know — a field, an item, content-part or tool type — lets the request
through and notes it; the journal shows the notes. A scenario that wants typos caught says
`validation: strict`, and the same call raises the vendor's own error instead:

    with reading(strict=state.strict_validation) as notes:
        exchange = dialect.parse(body, inbound)   # parsers call unknown(...)
    entry.notes = notes                           # ["unknown field 'foo'", ...]

    unknown("unknown field 'foo'", bad("foo: Extra inputs are not permitted"))

Outside `reading` (a parser called directly), reading is lenient and notes are dropped. A known
field with a wrong value is never lenient: the parsers raise the vendor's error for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class _Reading:
    __slots__ = ("notes", "strict")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.notes: list[str] = []


_current: ContextVar[_Reading | None] = ContextVar("mockserver_reading", default=None)


@contextmanager
def reading(*, strict: bool) -> Iterator[list[str]]:
    """Parse inside this block: yields the list the notes of what was unknown go to."""
    state = _Reading(strict)
    token = _current.set(state)
    try:
        yield state.notes
    finally:
        _current.reset(token)


def is_strict() -> bool:
    """Whether the request being read must refuse what it doesn't know."""
    state = _current.get()
    return state is not None and state.strict


def note(text: str) -> None:
    """Journal `text` for the request being read (nothing outside `reading`)."""
    state = _current.get()
    if state is not None and text not in state.notes:
        state.notes.append(text)


def unknown(text: str, refusal: Exception) -> None:
    """Something the parser doesn't know: noted, or with strict validation, `refusal` raised
    (the vendor's error for it)."""
    if is_strict():
        raise refusal
    note(text)
