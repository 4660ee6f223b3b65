"""Who may call the admin API: checks every `/_mock/` request passes before its handler runs.

The admin API loads scenarios and reads the journal (full prompts), so a web page the user
happens to visit must not reach it:

- **Exposure.** A server bound beyond loopback (`serve --host 0.0.0.0`) serves the admin API
  only with `--admin-token`; without one every route answers 403 saying so.
- **Host.** On a loopback bind, the `Host` header must name loopback (`localhost`, `127.0.0.1`,
  `[::1]`...). A page at evil.example whose name is made to resolve to 127.0.0.1 (DNS
  rebinding) sends `Host: evil.example:8000`, and is refused before anything is read.
- **Origin.** A browser sends `Origin` with every cross-site request; one that is not this
  server's own is refused.
- **Not a form.** A state-changing call (POST, DELETE) carries a JSON or YAML content type, the
  `x-mockserver-admin` header, or no content type at all: a page can make a browser send
  `text/plain` or a form type to any address without asking (no CORS preflight); a JSON or
  YAML type, or a custom header, makes the browser ask first, and nothing here says yes.
- **Token.** With `--admin-token T`, `Authorization: Bearer T`.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from mockserver.core.secrets import remember_secret
from mockserver.http.responses import RawResponse

ADMIN_HEADER = "x-mockserver-admin"
SCENARIO_TYPES = frozenset(
    {"application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
)
_CHANGES_STATE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AdminError(Exception):
    def __init__(self, status: int, message: str, kind: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.extra = status, message, kind, extra

    def response(self) -> Response:
        import orjson

        error = {"type": self.kind, "message": self.message, **self.extra}
        headers = {"www-authenticate": "Bearer"} if self.status == 401 else None
        return RawResponse(orjson.dumps({"error": error}), self.status, headers)


def is_loopback(host: str) -> bool:
    """`127.0.0.1`, `::1`, `localhost`, `x.localhost`: names no other machine can reach."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposed_without_token(host: str, token: str | None) -> bool:
    """Whether a server bound to `host` would leave its admin API open beyond this machine."""
    return token is None and not is_loopback(host)


def media_type(request: Request) -> str | None:
    value = request.headers.get("content-type")
    return None if value is None else value.partition(";")[0].strip().lower()


class Guard:
    def __init__(self, bound_host: str, token: str | None) -> None:
        self.bound_host = bound_host
        self.token = token
        self.loopback = is_loopback(bound_host)
        remember_secret(token)  # masked in anything the server sends or journals

    def check(self, request: Request, *, token: bool = True) -> None:
        """Raise `AdminError` unless `request` may reach its admin route. `token=False`: all
        but the token (the dashboard's page itself, which holds no data: a browser can't send
        the token when it opens a page, and the page sends it with every call it makes)."""
        if exposed_without_token(self.bound_host, self.token):
            raise AdminError(
                403,
                f"the admin API is off: this server listens on {self.bound_host}, beyond this "
                "machine, with no admin token; start it with --admin-token TOKEN and send "
                "Authorization: Bearer TOKEN",
                "forbidden",
            )
        host = request.headers.get("host", "")
        if self.loopback and not is_loopback(_hostname(host)):
            raise AdminError(
                403,
                f"Host {host!r} is not this server's: the admin API answers only to loopback "
                "names (localhost, 127.0.0.1, [::1])",
                "forbidden",
            )
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
            raise AdminError(
                403,
                f"Origin {origin!r} is not this server's (http://{host}): the admin API "
                "refuses requests from other sites",
                "forbidden",
            )
        if token:
            self._check_token(request)
        if request.method in _CHANGES_STATE:
            _check_not_a_form(request)

    def _check_token(self, request: Request) -> None:
        if self.token is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise AdminError(
                401,
                "this server needs the admin token: Authorization: Bearer <token>",
                "unauthorized",
            )
        if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            raise AdminError(401, "wrong admin token", "unauthorized")


def _check_not_a_form(request: Request) -> None:
    kind = media_type(request)
    # No content type at all: curl, scripts, SDKs. Every browser request that could come
    # without one (a fetch of a bare Blob) carries `Origin`, checked before this.
    if kind is None or kind in SCENARIO_TYPES or ADMIN_HEADER in request.headers:
        return
    raise AdminError(
        415,
        f"{request.method} {request.url.path} takes Content-Type application/yaml or "
        f"application/json; got {kind!r}, which any web page can make a browser send here. "
        f"A client that must send another type adds the header `{ADMIN_HEADER}: 1`",
        "unsupported_media_type",
    )


def _hostname(host: str) -> str:
    """`127.0.0.1:8000` → `127.0.0.1`; `[::1]:8000` → `::1`."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host
