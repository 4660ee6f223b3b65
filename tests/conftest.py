from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

# tiktoken reference encodings and a private tokenizer cache for every test.
pytest_plugins = ["tests.tokens.tiktoken_reference"]

StartServer = Callable[..., "ServerThread"]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start a real uvicorn server on a free port: `start_server(yaml_or_path, ..., seed=1)`."""
    from mockserver.http.app import create_app
    from mockserver.http.server_thread import ServerThread
    from mockserver.settings import Settings

    servers: list[ServerThread] = []

    def start(*scenarios: str | Path, loop: str = "asyncio", **options: object) -> ServerThread:
        paths = []
        for index, scenario in enumerate(scenarios):
            if isinstance(scenario, Path):
                paths.append(str(scenario))
            else:
                path = tmp_path / f"scenario_{len(servers)}_{index}.yaml"
                path.write_text(textwrap.dedent(scenario))
                paths.append(str(path))
        settings = Settings(scenario_paths=paths, port=0, **options)  # type: ignore[arg-type]
        server = ServerThread(create_app(settings), loop=loop).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
