"""CPU steal: time the hypervisor gave the machine's virtual CPUs to other guests.

On a shared VM a stretch of steal stops the server and its client at once, and what a figure
measures in absolute terms (start-up seconds, p99 lateness in milliseconds) moves with it; the
ratios against a baseline measured alongside move less. The bench reports how much there was,
from `/proc/stat` (Linux; elsewhere nothing is reported).
"""

from __future__ import annotations

from pathlib import Path

PROC_STAT = Path("/proc/stat")
STEAL_FIELD = 8  # of the "cpu" line: user nice system idle iowait irq softirq steal ...


def cpu_times(stat: Path = PROC_STAT) -> tuple[int, int] | None:
    """(steal, total) clock ticks of all CPUs since boot; None where /proc/stat isn't."""
    try:
        first = stat.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu" or len(first) <= STEAL_FIELD:
        return None
    ticks = [int(value) for value in first[1:]]
    # guest and guest_nice (fields 9 and 10) are already counted in user and nice.
    return ticks[STEAL_FIELD - 1], sum(ticks[:STEAL_FIELD])


class StealMeter:
    """The share of CPU time stolen since the meter was made: `StealMeter().share()`."""

    __slots__ = ("_start", "_stat")

    def __init__(self, stat: Path = PROC_STAT) -> None:
        self._stat = stat
        self._start = cpu_times(stat)

    def share(self) -> float | None:
        """Stolen ticks / all ticks since the start, 0..1; None when not measurable."""
        end = cpu_times(self._stat)
        if self._start is None or end is None or end[1] <= self._start[1]:
            return None
        return (end[0] - self._start[0]) / (end[1] - self._start[1])


def describe(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"
