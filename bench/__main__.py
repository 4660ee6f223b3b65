"""`python -m bench [--quick] [--only FIGURE ...]`: measure, print the table, write the JSON."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.context import Options
from bench.report import format_table, to_document, write_json
from bench.runner import KEYS, run_all
from bench.servers import ROOT
from bench.steal import StealMeter, describe

DEFAULT_JSON = ROOT / "bench" / "results" / "latest.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="mockserver's performance, as ratios against a baseline run alongside it.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 rounds of 1 s wrk runs (development)"
    )
    parser.add_argument(
        "--only", action="append", choices=KEYS, metavar="FIGURE", help=f"one of: {', '.join(KEYS)}"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds / launches per figure")
    parser.add_argument("--duration", type=float, help="seconds per measured wrk run")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help="where to write the results"
    )
    return parser


def compile_package() -> None:
    """Bytecode for every module of the package, as `pip install` writes it. A checkout run
    with PYTHONDONTWRITEBYTECODE set (some CI images, this project's sandbox) would otherwise
    compile each edited module again at every launch, and the start-up figures would time
    the compiler rather than the server."""
    import compileall

    import mockserver

    compileall.compile_dir(Path(mockserver.__file__).parent, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = Options.quick_run() if args.quick else Options()
    if args.rounds:
        options = dataclasses.replace(options, rounds=args.rounds)
    if args.duration:
        options = dataclasses.replace(options, duration=args.duration)
    started = datetime.datetime.now(datetime.UTC)
    compile_package()
    meter = StealMeter()
    figures = run_all(options, set(args.only) if args.only else None)
    steal = meter.share()
    print()
    print(format_table(figures))
    print(f"\nCPU steal during the run (time the hypervisor gave other guests): {describe(steal)}")
    write_json(to_document(figures, options.to_dict(), started, cpu_steal_share=steal), args.json)
    print(f"written to {args.json}")
    return 1 if any(figure.status == "FAIL" for figure in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
