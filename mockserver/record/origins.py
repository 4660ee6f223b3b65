"""The upstream's own URLs in its answers (fal's `status_url`, Replicate's `urls.get`, a
`Location` header, a file on the upstream's host) rewritten to the proxy's, so that a client
following them comes back through the proxy and what it polls or fetches is recorded. Only
text answers (JSON, event streams) are rewritten; a picture or an audio file passes unchanged.
A stream is rewritten as it arrives: only a chunk's tail that could begin the upstream's URL is
held back, so an event is never delayed waiting for the next.

    rewrite = Rewriter("http://127.0.0.1:9000", "http://127.0.0.1:8080")
    rewrite.chunk(b'{"status_url": "http://127.0.0.1:9000/fal-ai/x/requests/1/status"}')
    -> b'{"status_url": "http://127.0.0.1:8080/fal-ai/x/requests/1/status"}'
"""

from __future__ import annotations

TEXT_TYPES = ("application/json", "text/", "+json")


def own_origin(scheme: str, host: str | None) -> str | None:
    """The proxy's origin as the client reached it (its `Host`), None without one."""
    return f"{scheme}://{host}" if host else None


class Rewriter:
    def __init__(self, upstream: str, own: str) -> None:
        self.upstream = upstream.rstrip("/").encode("latin-1")
        self.own = own.rstrip("/").encode("latin-1")
        self._held = b""

    def header(self, value: bytes) -> bytes:
        return value.replace(self.upstream, self.own)

    @staticmethod
    def rewrites(content_type: str) -> bool:
        """Whether a body of this type is text that can name the upstream (not a file's
        bytes, whose base64 or binary content is never touched)."""
        kind = content_type.split(";")[0].strip().lower()
        return any(marker in kind for marker in TEXT_TYPES)

    def chunk(self, data: bytes) -> bytes:
        """`data` rewritten, less any tail that may be the start of the upstream's URL (given
        back, rewritten or not, with the next chunk or `rest`)."""
        text = (self._held + data).replace(self.upstream, self.own)
        keep = self._partial(text)
        self._held = text[len(text) - keep :] if keep else b""
        return text[: len(text) - keep] if keep else text

    def rest(self) -> bytes:
        held, self._held = self._held, b""
        return held

    def _partial(self, text: bytes) -> int:
        """The length of the longest tail of `text` that is a proper prefix of the URL."""
        for size in range(min(len(self.upstream) - 1, len(text)), 0, -1):
            if self.upstream.startswith(text[-size:]):
                return size
        return 0
