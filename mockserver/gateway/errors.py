"""The gateway's own errors, in the two shapes new-api sends them (commit 9f8a4ec).

Its middleware (key, IP, model limits, channel) answers `abortWithOpenAiMessage` on every
route, `/v1/messages` included:

    {"error": {"message": "<msg> (request id: <id>)", "type": "new_api_error", "code": "<code>"}}

Its relay (pricing, pre-charge) answers a `NewAPIError`: OpenAI's shape with `"param": ""`,
or on `/v1/messages` Anthropic's `{"type": "error", "error": {"type": "new_api_error",
"message": …}}`. Every response carries `X-Oneapi-Request-Id`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError

REQUEST_ID_HEADER = "X-Oneapi-Request-Id"

INVALID_TOKEN = "Invalid token"
USER_BANNED = "User has been banned"
IP_NOT_ALLOWED = "您的 IP 不在令牌允许访问的列表中"  # new-api words it in Chinese only
IP_UNPARSABLE = "无法解析客户端 IP 地址"


class GatewayError(APIError):
    """An error whose body the gateway wrote itself: sent as it is, whatever the route's
    dialect (`pipeline.error_response` checks for it)."""

    def __init__(self, status: int, message: str, body: dict[str, Any], request_id: str) -> None:
        super().__init__(
            status, message, type="new_api_error", headers={REQUEST_ID_HEADER: request_id}
        )
        self.body = body


def middleware_error(status: int, message: str, request_id: str, code: str = "") -> GatewayError:
    text = f"{message} (request id: {request_id})"
    body = {"error": {"message": text, "type": "new_api_error", "code": code}}
    return GatewayError(status, text, body, request_id)


def relay_error(
    status: int, message: str, code: str, request_id: str, claude: bool
) -> GatewayError:
    text = f"{message} (request id: {request_id})"
    if claude:
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": "new_api_error", "message": text},
        }
    else:
        body = {"error": {"message": text, "type": "new_api_error", "param": "", "code": code}}
    return GatewayError(status, text, body, request_id)


class RequestIds:
    """new-api's request ids — `20250101000000` + nanoseconds + 8 hex of its build + 8 random
    characters — with the time from the scenario clock (a second per 1000 requests) and the
    rest derived from the seed and the request's number."""

    def __init__(self, clock: int, seed: int) -> None:
        self.clock = clock
        self.build = ids.hex_digest(ids.digest(seed, "gateway-build"), "build", 8)
        self._keys = ids.DigestPrefix(seed, "gateway-request")
        self._moment = (-1, "")  # (second, its text): the same for 1000 requests

    def make(self, number: int) -> str:
        second = number // 1000
        moment = self._moment
        if moment[0] != second:
            stamp = datetime.fromtimestamp(self.clock + second, UTC)
            moment = self._moment = (second, f"{stamp:%Y%m%d%H%M%S}")
        key = self._keys.digest(number)
        nanos = int(key[:12], 16) % 1_000_000_000
        return f"{moment[1]}{nanos}{self.build}{key[12:20]}"  # hex: alphanumeric as new-api's
