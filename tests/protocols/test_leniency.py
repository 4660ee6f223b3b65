"""Strict on what we know, lenient on what we don't: notes by default, the vendor's error when
the scenario asks for strict validation."""

from __future__ import annotations

import pytest

from mockserver.core.errors import APIError
from mockserver.protocols import leniency


def test_outside_a_reading_unknown_things_pass_silently() -> None:
    leniency.unknown("unknown field 'x'", APIError(400, "x"))
    leniency.note("anything")
    assert not leniency.is_strict()


def test_a_lenient_reading_collects_each_note_once() -> None:
    with leniency.reading(strict=False) as notes:
        leniency.unknown("unknown field 'x'", APIError(400, "x"))
        leniency.unknown("unknown field 'x'", APIError(400, "x"))
        leniency.note("unknown field 'y'")
    assert notes == ["unknown field 'x'", "unknown field 'y'"]


def test_a_strict_reading_raises_the_vendors_error() -> None:
    refusal = APIError(400, "Unrecognized request argument supplied: x")
    with pytest.raises(APIError) as info, leniency.reading(strict=True) as notes:
        assert leniency.is_strict()
        leniency.unknown("unknown field 'x'", refusal)
    assert info.value is refusal
    assert notes == []
    assert not leniency.is_strict()  # the reading ended with the block


def test_readings_nest_and_restore() -> None:
    with leniency.reading(strict=True):
        with leniency.reading(strict=False) as inner:
            leniency.note("a")
        assert leniency.is_strict()
    assert inner == ["a"]
