"""The gateway's own error shape (new-api's relay errors), for endpoints it answers itself:
`{"error": {"message", "type": "new_api_error", "param": "", "code"}}`."""

from __future__ import annotations

from typing import Any, ClassVar

from mockserver.dialects.base import Dialect
from mockserver.dialects.openai_chat import openai_headers
from mockserver.errors import APIError
from mockserver.exchange import Exchange
from mockserver.reply import Reply


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
