"""Server settings: what `mockserver serve` flags and the pytest plugin configure.

Settings travel to uvicorn worker processes as JSON in `MOCKSERVER_SETTINGS`, so `--workers N`
gives every worker the same scenarios and seed.
"""

from __future__ import annotations

import os

import orjson
from msgspec import Struct, field
from msgspec.structs import asdict

ENV_VAR = "MOCKSERVER_SETTINGS"


class Settings(Struct):
    scenario_paths: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int | None = None  # overrides the scenarios' seed when set
    strict: bool | None = None  # overrides the scenarios' strict flag when set
    catalog: str | None = None  # "open" | "strict": overrides the scenarios' `catalog:`
    validation: str | None = None  # "lenient" | "strict": overrides the scenarios' `validation:`
    admin_token: str | None = None
    journal_size: int = 1000
    max_body_bytes: int = 32 * 1024 * 1024
    latency: str = "none"  # "none" | "realistic"
    workers: int = 1

    def to_env(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_env(cls) -> Settings:
        raw = os.environ.get(ENV_VAR)
        return cls(**orjson.loads(raw)) if raw else cls()
