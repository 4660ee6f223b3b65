"""Server settings: what `mockserver serve` flags and the pytest plugin configure.

Settings travel to uvicorn worker processes as JSON in `MOCKSERVER_SETTINGS`, so `--workers N`
gives every worker the same scenarios, seed, state file and store capacities.
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
    journal_size: int = 1000  # requests the journal keeps, the newest (bodies included)
    max_body_bytes: int = 32 * 1024 * 1024
    latency: str | None = None  # "none" | "realistic" | "recorded"; None: the scenarios' say
    workers: int = 1
    # State shared by workers and kept across restarts (`mockserver.store`): None keeps it in
    # memory; `serve --workers N` without `--state` uses a temporary file.
    state_file: str | None = None
    state_temporary: bool = False  # this run's alone (removed at exit): never worth an fsync
    # Keys kept per counter table (occurrences, sequence cursors, fail_times attempts,
    # rate-limit buckets), least recently written forgotten first: ~100-200 bytes a key.
    counters_size: int = 10_000
    # Responses kept for `previous_response_id` and GET /v1/responses/{id}: ~5 kB each.
    responses_size: int = 1_000
    media_cache_bytes: int = 256 * 1024 * 1024  # generated images and audio kept in memory

    def to_env(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_env(cls) -> Settings:
        raw = os.environ.get(ENV_VAR)
        return cls(**orjson.loads(raw)) if raw else cls()
