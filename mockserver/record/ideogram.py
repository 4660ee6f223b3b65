"""Ideogram's routes under the gateway's `/ideogram` prefix, as the recorder sees them: which
paths they are, what a rule matches (the model the mock's endpoint names, `ideogram-v3-edit`,
and the prompt), and what an answer says (the pictures' URLs, the prompt it drew, a
description).

    subject("/ideogram/v1/ideogram-v3/remix", {"prompt": "a lake"})
    ->  ("ideogram-v3-remix", "a lake")
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

_V3 = re.compile(r"/ideogram/v1/ideogram-v3/(?P<action>[a-z-]+)")
_LEGACY = re.compile(r"/ideogram/(?P<action>[a-z-]+)")


def route(path: str) -> tuple[str, bool] | None:
    """(action, legacy) of an Ideogram path, or None for any other."""
    found = _V3.fullmatch(path)
    if found is not None:
        return found["action"], False
    found = _LEGACY.fullmatch(path)
    if found is not None:
        return found["action"], True
    return None


def subject(path: str, fields: Mapping[str, Any]) -> tuple[str, str]:
    """(model, prompt) as `mockserver.http.ideogram` gives them to the engine: 3.0 sends the
    prompt as a form field, the legacy routes inside `image_request` (a JSON object, or a form
    field holding one)."""
    found = route(path)
    assert found is not None
    action, legacy = found
    model = f"ideogram-{'legacy' if legacy else 'v3'}-{action}"
    if not legacy:
        return model, str(fields.get("prompt") or "")
    request = fields.get("image_request")
    if isinstance(request, str):
        try:
            request = orjson.loads(request) if request else {}
        except orjson.JSONDecodeError:
            request = {}
    prompt = request.get("prompt") if isinstance(request, dict) else None
    return model, str(prompt or "")


def pictures(body: bytes) -> tuple[list[str], str | None]:
    """The URLs of an answer's pictures, and the prompt it drew them from (Ideogram's magic
    prompt rewrites it)."""
    document = orjson.loads(body)
    items = [item for item in document.get("data") or [] if isinstance(item, dict)]
    prompts = [item["prompt"] for item in items if isinstance(item.get("prompt"), str)]
    return [str(item["url"]) for item in items if item.get("url")], (
        prompts[0] if prompts else None
    )


def description(body: bytes) -> str | None:
    """The text of a `describe` answer."""
    document = orjson.loads(body)
    descriptions = document.get("descriptions") if isinstance(document, dict) else None
    if isinstance(descriptions, list) and descriptions and isinstance(descriptions[0], dict):
        text = descriptions[0].get("text")
        return text if isinstance(text, str) else None
    return None
