"""Which requests are recorded, and in which dialect: the text generations and embeddings.
Every other route is passed through (or, in replay, answered by the mock server)."""

from __future__ import annotations

from typing import Any

from mockserver.http.app import GEMINI_GENERATIONS, GEMINI_PREFIXES

EMBEDDINGS = "embeddings"
DIALECT_OF_PATH = {
    "/v1/chat/completions": "chat",
    "/v1beta/openai/chat/completions": "chat",
    "/v1/responses": "responses",
    "/v1/messages": "anthropic",
    "/v1/embeddings": EMBEDDINGS,
}


def recorded_kind(method: str, path: str) -> str | None:
    """The dialect attribute of `Dialects` ("chat", "gemini"...), "embeddings", or None."""
    if method != "POST":
        return None
    kind = DIALECT_OF_PATH.get(path)
    if kind is None and path.startswith(GEMINI_PREFIXES) and path.endswith(GEMINI_GENERATIONS):
        kind = "gemini"
    return kind


def path_params(kind: str, path: str) -> dict[str, Any]:
    """What the app's routing gives a dialect (Gemini reads the model from the path)."""
    return {"model": path.partition("/models/")[2]} if kind == "gemini" else {}


def embedding_inputs(body: Any) -> list[str] | None:
    """The texts of an embeddings request; None when it sends token arrays."""
    value = body.get("input") if isinstance(body, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None
