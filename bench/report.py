"""Figure results: the target each is held to, the printed table and the JSON document."""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

TargetKind = Literal["min", "max", "within", "check", "report"]
Status = Literal["pass", "FAIL", "reported", "unavailable"]
Subject = Literal["ratio", "measured"]


@dataclass(frozen=True, slots=True)
class Target:
    """What a figure must reach.

    `min`/`max`: `subject >= limit` / `subject <= limit`; `within`: `|subject - 1| <= limit`;
    `check`: the figure decides pass/fail itself (e.g. byte-identical responses); `report`:
    shown, never judged. `subject` says whether the ratio or the measured value is compared.
    """

    kind: TargetKind
    text: str
    limit: float = 0.0
    subject: Subject = "ratio"

    def met(self, figure: FigureResult) -> bool | None:
        """True/False for `min`, `max`, `within`; None when the target does not judge a number."""
        value = figure.ratio if self.subject == "ratio" else figure.measured
        if self.kind in ("check", "report") or value is None:
            return None
        if self.kind == "min":
            return value >= self.limit
        if self.kind == "max":
            return value <= self.limit
        return abs(value - 1.0) <= self.limit


@dataclass(slots=True)
class FigureResult:
    key: str  # the name `--only` takes
    title: str
    target: Target
    unit: str = ""  # of measured and baseline: "rps", "s", "ms", "MB"
    measured: float | None = None
    baseline: float | None = None
    ratio: float | None = None
    status: Status = "unavailable"
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def judge(self, ok: bool | None = None) -> FigureResult:
        """Set `status` from the target (or from `ok` for `check` targets); returns self."""
        verdict = self.target.met(self) if ok is None else ok
        if verdict is None:
            self.status = "reported"
        else:
            self.status = "pass" if verdict else "FAIL"
        return self


@dataclass(frozen=True, slots=True)
class FigureSpec:
    """A row of the table before it is measured: `--only` key, title, target and unit."""

    key: str
    title: str
    target: Target
    unit: str = ""

    def result(
        self,
        measured: float | None,
        baseline: float | None = None,
        ratio: float | None = None,
        *,
        detail: str = "",
        data: dict[str, Any] | None = None,
    ) -> FigureResult:
        """An unjudged result; call `.judge()` on it."""
        return FigureResult(
            self.key,
            self.title,
            self.target,
            self.unit,
            measured,
            baseline,
            ratio,
            detail=detail,
            data=data or {},
        )

    def unavailable(self, reason: str) -> FigureResult:
        return FigureResult(self.key, self.title, self.target, self.unit, detail=reason)

    def failed(self, reason: str, data: dict[str, Any] | None = None) -> FigureResult:
        return FigureResult(
            self.key,
            self.title,
            self.target,
            self.unit,
            status="FAIL",
            detail=reason,
            data=data or {},
        )


def format_value(value: float | None, unit: str) -> str:
    """format_value(12345.6, "rps") -> "12,346 rps"; format_value(0.2154, "s") -> "0.215 s"."""
    if value is None:
        return "-"
    if unit == "rps":
        return f"{value:,.0f} rps"
    if unit == "s":
        return f"{value:.3f} s"
    if unit in ("ms", "MB"):
        return f"{value:.1f} {unit}"
    return f"{value:.3g} {unit}".rstrip()


def format_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}×"


DETAIL_WIDTH = 110
HEADER = ("figure", "measured", "baseline", "ratio", "target", "result")


def table_rows(figures: list[FigureResult]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for figure in figures:
        result = f"{figure.status}: {figure.detail}" if figure.detail else figure.status
        if len(result) > DETAIL_WIDTH:  # the JSON file has it whole
            result = result[: DETAIL_WIDTH - 3] + "..."
        rows.append(
            (
                figure.title,
                format_value(figure.measured, figure.unit),
                format_value(figure.baseline, figure.unit),
                format_ratio(figure.ratio),
                figure.target.text,
                result,
            )
        )
    return rows


def format_table(figures: list[FigureResult]) -> str:
    """A fixed-width text table, one line per figure, numbers right-aligned."""
    rows = [HEADER, *table_rows(figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    numeric = {1, 2, 3}
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(width) if i in numeric and n else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in [*widths, len(HEADER[-1])]))
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def to_document(
    figures: list[FigureResult],
    options: dict[str, Any],
    started: datetime.datetime,
    *,
    cpu_steal_share: float | None = None,
) -> dict[str, Any]:
    return {
        "date": started.isoformat(timespec="seconds"),
        "machine": {**machine_info(), "cpu_steal_share": cpu_steal_share},
        "options": options,
        "figures": [asdict(figure) for figure in figures],
    }


def write_json(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
