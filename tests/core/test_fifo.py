"""`FifoMap`: bounded, oldest out first, a key set again becomes the newest."""

from __future__ import annotations

import pytest

from mockserver.core.fifo import FifoMap


def test_it_keeps_the_newest_entries_up_to_its_capacity() -> None:
    fifo: FifoMap[str, int] = FifoMap(3)
    for i in range(10):
        fifo.put(f"k{i}", i)
    assert list(fifo.items()) == [("k7", 7), ("k8", 8), ("k9", 9)]


def test_a_key_set_again_becomes_the_newest() -> None:
    fifo: FifoMap[str, int] = FifoMap(3)
    for key in ("a", "b", "c"):
        fifo.put(key, 1)
    fifo.put("a", 2)
    fifo.put("d", 1)  # drops the oldest, now "b"
    assert list(fifo) == ["c", "a", "d"]
    assert fifo["a"] == 2


def test_a_long_run_of_puts_stays_bounded_and_in_order() -> None:
    # Many evictions: the case a plain dict with first-key deletion handles slowly.
    fifo: FifoMap[int, int] = FifoMap(1000)
    for i in range(50_000):
        fifo.put(i, i)
    assert len(fifo) == 1000
    assert next(iter(fifo)) == 49_000
    assert fifo.get(48_999) is None


def test_the_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FifoMap(0)
