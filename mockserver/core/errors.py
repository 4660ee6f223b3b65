"""Errors a request can end in, in neutral form; each dialect renders them in its vendor's shape.

The vocabulary is OpenAI's (`type`, `code`, `param`) because it is the richest; the Anthropic and
Gemini dialects map the HTTP status (and, where it matters, the code) to their own words.
"""

from __future__ import annotations

from collections.abc import Mapping


class APIError(Exception):
    """A failure the client must see as the vendor would send it.

    >>> APIError(404, "The model `x` does not exist or you do not have access to it.",
    ...          code="model_not_found")
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type or default_type(status)
        self.code = code
        self.param = param
        self.headers: dict[str, str] = dict(headers or {})

    def __repr__(self) -> str:
        return f"APIError({self.status}, {self.message!r}, type={self.type!r}, code={self.code!r})"


def default_type(status: int) -> str:
    """OpenAI's error `type` for a status when nothing more specific is known."""
    if status == 401:
        return "invalid_request_error"
    if status == 429:
        return "rate_limit_exceeded"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def invalid_request(message: str, *, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, type="invalid_request_error", param=param, code=code)
