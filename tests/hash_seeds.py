"""Running a snippet under different `PYTHONHASHSEED`s: what must not depend on str hashing."""

from __future__ import annotations

import os
import subprocess
import sys


def outputs_under_hash_seeds(script: str, seeds: tuple[str, ...] = ("1", "2")) -> set[str]:
    """The distinct standard outputs of `python -c script`, once per hash seed."""
    outputs = set()
    for hash_seed in seeds:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout)
    return outputs
