"""Expiring links to served files, as the vendors' storage hands them out.

OpenAI's image URLs are Azure Blob shared-access URLs valid for 60 minutes
(`…/img-….png?st=…&se=…&sp=r&…&sig=…`); an expired one answers 403 `AuthenticationFailed`
in Azure's XML. Ideogram's are "ephemeral" links (`?exp=<epoch>&signature=…`). Doubao's (Ark)
are Volcengine TOS pre-signed URLs valid 24 hours (`?X-Tos-Date=…&X-Tos-Expires=86400&…`),
DashScope's Alibaba OSS ones valid 24 hours (`?Expires=<epoch>&OSSAccessKeyId=…&Signature=…`);
both storages answer an expired one with 403 `AccessDenied` "Request has expired" in XML.

Time here is the scenario's: its `clock` (the epoch `created` counts from) plus the task
clock, which moves only when a test advances it (`POST /_mock/clock`,
`MockServer.advance_clock`), never with the wall clock. So the same requests give the same
URLs on every run, and a test expires a URL by advancing the clock past its lifetime.

A link without a signature (`/_mock/files/{name}`) is the server's own handle on the file and
never expires.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from urllib.parse import quote

from msgspec import Struct

from mockserver.core import ids

AZURE_VERSION = "2021-08-06"


class LinkStyle(Struct, frozen=True):
    name: str  # "azure" | "ideogram": the query's shape and the expired answer's
    lifetime: int  # seconds


OPENAI_IMAGES = LinkStyle("azure", 3600)
IDEOGRAM_IMAGES = LinkStyle("ideogram", 3600)  # "available for a limited time" [unverified]
ARK_IMAGES = LinkStyle("tos", 86400)
DASHSCOPE_IMAGES = LinkStyle("oss", 86400)


class Denial(Struct, frozen=True):
    """What the storage answers instead of the file."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


def signed_query(style: LinkStyle, seed: int, name: str, content_type: str, now: int) -> str:
    """The query string of a link to `name` issued at scenario time `now` (epoch seconds)."""
    expiry = now + style.lifetime
    signature = _signature(seed, name, expiry)
    if style.name == "ideogram":
        return f"exp={expiry}&signature={signature}"
    if style.name == "tos":
        moment = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        return (
            f"X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date={moment}"
            f"&X-Tos-Expires={style.lifetime}&X-Tos-SignedHeaders=host"
            f"&X-Tos-Signature={signature}"
        )
    if style.name == "oss":
        return f"Expires={expiry}&OSSAccessKeyId=LTAI5tMockServer&Signature={signature}%3D"
    return (
        f"st={quote(_iso(now), safe='')}&se={quote(_iso(expiry), safe='')}&sp=r"
        f"&sv={AZURE_VERSION}&sr=b&rscd=inline&rsct={quote(content_type, safe='')}"
        f"&sig={signature}%3D"
    )


def check(query: Mapping[str, str], seed: int, name: str, now: int) -> Denial | None:
    """None when the link may be served at scenario time `now`; else the storage's refusal."""
    if "se" in query or "sig" in query:
        return _check_azure(query, seed, name, now)
    if "exp" in query or "signature" in query:
        return _check_ideogram(query, seed, name, now)
    if "X-Tos-Signature" in query:
        return _check_tos(query, seed, name, now)
    if "Expires" in query or "Signature" in query:
        return _check_oss(query, seed, name, now)
    return None  # the server's own unsigned handle


def _check_tos(query: Mapping[str, str], seed: int, name: str, now: int) -> Denial | None:
    try:
        start = datetime.datetime.strptime(query.get("X-Tos-Date", ""), "%Y%m%dT%H%M%SZ")
        lifetime = int(query.get("X-Tos-Expires", ""))
    except ValueError:
        return _expired_xml(name, now, "SignatureDoesNotMatch", "Invalid query parameters.")
    expiry = int(start.replace(tzinfo=datetime.UTC).timestamp()) + lifetime
    if query.get("X-Tos-Signature") != _signature(seed, name, expiry):
        message = "The request signature we calculated does not match the signature you provided."
        return _expired_xml(name, now, "SignatureDoesNotMatch", message)
    if now >= expiry:
        return _expired_xml(name, now, "AccessDenied", "Request has expired")
    return None


def _check_oss(query: Mapping[str, str], seed: int, name: str, now: int) -> Denial | None:
    raw = query.get("Expires", "")
    expiry = int(raw) if raw.isdigit() else -1
    if query.get("Signature", "").rstrip("=") != _signature(seed, name, expiry):
        message = "The request signature we calculated does not match the signature you provided."
        return _expired_xml(name, now, "SignatureDoesNotMatch", message)
    if now >= expiry:
        return _expired_xml(name, now, "AccessDenied", "Request has expired.")
    return None


def _expired_xml(name: str, now: int, code: str, message: str) -> Denial:
    """The S3-like storages' (TOS, OSS) XML error."""
    request_id = ids.hex_digest(f"{name}:{now}", "storage-request", 24).upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{code}</Code>\n  <Message>{message}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n</Error>\n"
    )
    return Denial(403, body.encode(), "application/xml", {"x-request-id": request_id})


def _check_azure(query: Mapping[str, str], seed: int, name: str, now: int) -> Denial | None:
    try:
        expiry = _parse_iso(query.get("se", ""))
    except ValueError:
        return _azure(name, now, "Signature fields not well formed.")
    if query.get("sig", "").rstrip("=") != _signature(seed, name, expiry):
        return _azure(name, now, "Signature did not match. String to sign used was r")
    if now >= expiry:
        return _azure(
            name,
            now,
            f"Signed expiry time [{_http_date(expiry)}] has to be after current time "
            f"[{_http_date(now)}]",
        )
    return None


def _check_ideogram(query: Mapping[str, str], seed: int, name: str, now: int) -> Denial | None:
    raw = query.get("exp", "")
    expiry = int(raw) if raw.isdigit() else -1
    if query.get("signature") != _signature(seed, name, expiry) or now >= expiry:
        body = b'{"detail":"This image link has expired or is invalid."}'
        return Denial(403, body, "application/json", {})
    return None


def _azure(name: str, now: int, detail: str) -> Denial:
    """Azure Blob Storage's 403 for a shared-access URL it refuses."""
    h = ids.hex_digest(f"{name}:{now}", "azure-request", 32)
    request_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    message = (
        "Server failed to authenticate the request. Make sure the value of Authorization header "
        f"is formed correctly including the signature.\nRequestId:{request_id}\n"
        f"Time:{_iso(now, fraction=True)}"
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
        f"<Message>{message}</Message>"
        f"<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail></Error>"
    )
    headers = {"x-ms-error-code": "AuthenticationFailed", "x-ms-request-id": request_id}
    return Denial(403, body.encode(), "application/xml", headers)


def _signature(seed: int, name: str, expiry: int) -> str:
    return ids.base62(f"{seed}:{name}:{expiry}", "link-signature", 43)


def _iso(epoch: int, *, fraction: bool = False) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" + (".0000000Z" if fraction else "Z"))


def _parse_iso(text: str) -> int:
    moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return int(moment.replace(tzinfo=datetime.UTC).timestamp())


def _http_date(epoch: int) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
