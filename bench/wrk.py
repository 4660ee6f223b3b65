"""Driving `wrk`: installing it, writing its Lua request script, running it, parsing its report.

A Python client cannot saturate the server, so throughput is measured with wrk (Debian package
`wrk`) pinned to its own core.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class WrkError(RuntimeError):
    """wrk is missing, failed, or reported something other than clean 2xx responses."""


def ensure_wrk() -> str:
    """The path of `wrk`, installing the Debian package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        raise WrkError("wrk is not installed and apt-get is not available: install wrk by hand")
    print("bench: wrk not found, installing it with apt-get ...", flush=True)
    attempt = _apt(apt, "install", "-y", "wrk")
    if attempt.returncode != 0:  # an empty package index: update once, then retry
        _apt(apt, "update")
        attempt = _apt(apt, "install", "-y", "wrk")
    found = shutil.which("wrk")
    if found is None:
        tail = (attempt.stderr or "").strip().splitlines()[-3:]
        raise WrkError(
            "could not install wrk with `apt-get install -y wrk` (needs root and Debian's "
            f"package index): {' | '.join(tail) or f'exit status {attempt.returncode}'}"
        )
    return found


def _apt(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False
    )


def lua_string(data: bytes) -> str:
    """A Lua string literal holding `data` exactly: lua_string(b'a"b') -> '"a\\034b"'."""
    chars = (chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\{c:03d}" for c in data)
    return '"' + "".join(chars) + '"'


def lua_script(body: bytes, headers: Mapping[str, str], method: str = "POST") -> str:
    lines = [f"wrk.method = {lua_string(method.encode())}", f"wrk.body = {lua_string(body)}"]
    lines += [
        f"wrk.headers[{lua_string(k.encode())}] = {lua_string(v.encode())}"
        for k, v in headers.items()
    ]
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class WrkResult:
    requests_per_sec: float
    requests: int
    latency_ms: dict[str, float] = field(default_factory=dict)  # "avg", "50%", "99%", ...
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    server_cpu_s: float | None = None  # CPU time the server used meanwhile, when known

    def problems(self) -> list[str]:
        found = []
        if self.non_2xx:
            found.append(f"{self.non_2xx} non-2xx/3xx responses")
        errors = {k: v for k, v in self.socket_errors.items() if v}
        if errors:
            found.append("socket errors " + ", ".join(f"{k} {v}" for k, v in errors.items()))
        if self.requests == 0:
            found.append("no request completed")
        return found


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


def _ms(number: str, unit: str) -> float:
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    """The figures of a `wrk --latency` report; WrkError naming the output if it has none."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    if rps is None or total is None:
        raise WrkError(f"no 'Requests/sec' in wrk's output:\n{output.strip()}")
    result = WrkResult(float(rps.group(1)), int(total.group(1)))
    avg = re.search(rf"^\s*Latency\s+{_DURATION}", output, re.MULTILINE)
    if avg:
        result.latency_ms["avg"] = _ms(avg.group(1), avg.group(2))
    for pct, number, unit in re.findall(rf"^\s*(\d+%)\s+{_DURATION}\s*$", output, re.MULTILINE):
        result.latency_ms[pct] = _ms(number, unit)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if non_2xx:
        result.non_2xx = int(non_2xx.group(1))
    errors = re.search(r"Socket errors:(.*)$", output, re.MULTILINE)
    if errors:
        result.socket_errors = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", errors.group(1))}
    return result


def run_wrk(
    url: str,
    script: Path,
    *,
    duration: float,
    connections: int = 16,
    threads: int = 1,
    cpus: Sequence[int] | None = None,
) -> WrkResult:
    """Run wrk against `url` with `script`; WrkError on a failed run or any bad response."""
    argv = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(round(duration), 1)}s",  # wrk takes whole seconds
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    affinity = set(cpus) if cpus else None
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=False,
        preexec_fn=(lambda: os.sched_setaffinity(0, affinity)) if affinity else None,
    )
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip() or done.stdout}")
    result = parse_wrk(done.stdout)
    problems = result.problems()
    if problems:
        raise WrkError(f"{url}: {'; '.join(problems)}")
    return result
