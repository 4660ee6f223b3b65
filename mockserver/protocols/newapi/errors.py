"""The gateway's own error shape (new-api's relay errors), for endpoints it answers itself:
`{"error": {"message", "type": "new_api_error", "param": "", "code"}}`."""

from __future__ import annotations

from typing import Any, ClassVar

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Reply
from mockserver.protocols.dialect import Dialect
from mockserver.protocols.openai.chat import openai_headers


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
