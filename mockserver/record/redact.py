"""Credentials never reach a recording: the headers and query parameters that carry them are
dropped before anything is written, and their values are scrubbed from whatever text is written
(an upstream error body may quote the key it refused).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Lower-cased. What the vendors and the gateway take a key in, and cookies.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-goog-api-key",
        "api-key",
        "cookie",
        "set-cookie",
    }
)
SECRET_QUERY = frozenset({"key", "api_key", "access_token"})
REDACTED = "<redacted>"
_SCHEMES = ("bearer ", "basic ", "token ")
_SHORTEST_SECRET = 6  # shorter values (a scheme word, "1") would scrub ordinary text


class Redactor:
    """The names to drop (`SECRET_HEADERS` and the user's own) and the secret values seen so far."""

    def __init__(self, extra_headers: Iterable[str] = (), extra_fields: Iterable[str] = ()) -> None:
        self.headers = SECRET_HEADERS | {name.lower() for name in extra_headers}
        self.fields = frozenset(extra_fields)
        self.secrets: set[str] = set()

    def note_request(
        self, headers: Mapping[str, str], query: Mapping[str, str], body: object = None
    ) -> None:
        """Remember every secret value a request carries, to scrub it from what is written."""
        for name, value in headers.items():
            if name.lower() in self.headers:
                self._note(value)
        for name, value in query.items():
            if name.lower() in SECRET_QUERY:
                self._note(value)
        if self.fields and body is not None:
            self._note_fields(body)

    def _note_fields(self, value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in self.fields and isinstance(item, str):
                    self._note(item)
                else:
                    self._note_fields(item)
        elif isinstance(value, list):
            for item in value:
                self._note_fields(item)

    def _note(self, value: str) -> None:
        value = value.strip()
        if value.lower().startswith(_SCHEMES):
            value = value.split(" ", 1)[1].strip()
        for part in [value, *value.split(";")]:  # a cookie header holds several
            secret = part.split("=", 1)[1] if "=" in part and part is not value else part
            secret = secret.strip()
            if len(secret) >= _SHORTEST_SECRET:
                self.secrets.add(secret)

    def headers_kept(self, headers: Mapping[str, str]) -> dict[str, str]:
        """`headers` without the secret ones (for a fault's recorded headers)."""
        return {k: v for k, v in headers.items() if k.lower() not in self.headers}

    def scrub(self, text: str) -> str:
        """`text` with every secret value seen replaced by `<redacted>` (longest first, so a
        secret containing another is replaced whole)."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text
