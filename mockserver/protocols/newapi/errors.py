"""The gateway's own error shape (new-api's relay errors), for endpoints it answers itself:
`{"error": {"message", "type": "new_api_error", "param": "", "code"}}`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Reply
from mockserver.protocols.dialect import Dialect
from mockserver.protocols.openai.chat import openai_headers

if TYPE_CHECKING:
    from mockserver.faults.presets import ErrorContext


class GatewayDialect(Dialect):
    name: ClassVar[str] = "gateway"

    def render_error(self, error: APIError) -> dict[str, Any]:
        return {
            "error": {
                "message": error.message,
                "type": error.type,
                "param": error.param or "",
                "code": error.code,
            }
        }

    def reply_headers(self, reply: Reply | None, exchange: Exchange | None) -> dict[str, str]:
        return openai_headers(reply.key if reply is not None else None)

    def preset_error(self, preset: str, context: ErrorContext, wait: float) -> APIError:
        return as_gateway_error(super().preset_error(preset, context, wait), context.model)

    def generic_error(self, status: int, context: ErrorContext) -> APIError:
        return as_gateway_error(super().generic_error(status, context), context.model)


def as_gateway_error(error: APIError, model: str) -> APIError:
    """new-api's own shape: type `new_api_error`, "(request id: …)" after the message, and
    its codes for a bad token (401 "Invalid token") and an empty quota (403)."""
    request_id = ids.hexchars(ids.digest(model, error.status, error.message), "rid", 28)
    if error.code == "invalid_api_key":
        status, message, code = 401, "Invalid token", ""
    elif error.code == "insufficient_quota":
        status, message, code = 403, "user quota is not enough", "insufficient_user_quota"
    else:
        status, message, code = error.status, error.message, error.code or ""
    return APIError(
        status,
        f"{message} (request id: {request_id})",
        type="new_api_error",
        code=code,
        param=error.param,
        headers=error.headers,
    )
