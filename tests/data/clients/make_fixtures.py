"""Turn captured CLI requests into the fixtures beside this file, with the clients' texts cut.

    python tests/data/clients/make_fixtures.py CAPTURES_DIR

CAPTURES_DIR holds `claude_code/*.json` and `codex/*.json`, one request each (`method`, `path`,
`query`, `headers`, `body`), as a logging proxy wrote them. Kept as sent: every key, every item,
content-part and tool type, tool names, schema structure, array lengths, cache_control markers,
header names and values. Cut to short placeholders: the clients' prompts, system texts,
descriptions, grammars and tool outputs (theirs, not ours to copy), and the secrets. The prompts
typed into the CLIs for the capture are kept: the scenario matches on them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CLIENTS = {"claude_code": "claude-code", "codex": "codex"}
# What the capture typed into the CLIs (and the calls its scenario answered with).
OURS = ("2+2", "Create the file ", "Create out.txt", "hello from mockserver", "echo hi > out.txt")
TEXT_KEYS = frozenset({"text", "content", "description", "instructions", "definition", "output"})
SECRET_HEADERS = {"x-api-key": "sk-test", "authorization": "Bearer sk-test"}
TRANSPORT_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding"})


def cut(value: Any, key: str | None = None) -> Any:
    """`value` with the clients' texts replaced by placeholders of the same kind."""
    if isinstance(value, dict):
        return {k: cut(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [cut(item, key) for item in value]
    if isinstance(value, str) and key in TEXT_KEYS and value:
        return value if any(mark in value for mark in OURS) else f"<{key}>"
    if isinstance(value, str) and value.startswith("<") and " chars" in value:
        return f"<{key or 'text'}>"  # the capture's own placeholder, hint and all
    return value


def user_id(value: Any) -> Any:
    """Claude Code's metadata.user_id: a JSON string of device and session ids."""
    if isinstance(value, str) and value.startswith("{"):
        return json.dumps({"device_id": "device", "account_uuid": "", "session_id": "session"})
    return value


def convert(record: dict[str, Any]) -> dict[str, Any]:
    headers = {
        name: SECRET_HEADERS.get(name.lower(), value)
        for name, value in record["headers"].items()
        if name.lower() not in TRANSPORT_HEADERS
    }
    body = cut(record.get("body"))
    if isinstance(body, dict) and isinstance(body.get("metadata"), dict):
        body["metadata"] = {k: user_id(v) for k, v in body["metadata"].items()}
    return {
        "method": record["method"],
        "path": record["path"],
        "query": record.get("query") or "",
        "headers": headers,
        "body": body,
    }


def main(captures: Path) -> None:
    for folder, client in CLIENTS.items():
        out = HERE / client
        out.mkdir(exist_ok=True)
        for source in sorted((captures / folder).glob("*.json")):
            record = json.loads(source.read_text())
            if record["method"] not in ("POST", "HEAD", "GET"):
                continue  # WebSocket frames: no HTTP route serves them
            fixture = convert(record)
            (out / source.name).write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
