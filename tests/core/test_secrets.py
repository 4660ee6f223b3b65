"""One redaction for every string that leaves: credential values of the request, values the
server holds, and anything shaped like a key."""

from __future__ import annotations

from mockserver.core.secrets import (
    mask,
    redact_text,
    redact_value,
    remember_secret,
    secrets_in,
)

KEY = "sk-SECRET-0123456789abcdef"


def test_every_credential_form_is_collected() -> None:
    headers = {
        "Authorization": f"Bearer {KEY}",
        "x-api-key": "sk-ant-api03-abcdefgh",
        "x-goog-api-key": "AIzaSyA-goog-key-123",
        "api-key": "azure-key-123456",
        "mj-api-secret": "mj-secret-123456",
        "cookie": "session=cookie-value-1; theme=dark",
        "content-type": "application/json",
    }
    found = secrets_in(headers, {"key": "query-key-123456", "alt": "sse"})
    for value in (
        KEY,
        f"Bearer {KEY}",
        "sk-ant-api03-abcdefgh",
        "AIzaSyA-goog-key-123",
        "azure-key-123456",
        "mj-secret-123456",
        "cookie-value-1",
        "query-key-123456",
    ):
        assert value in found
    assert "application/json" not in found
    assert "dark" not in found  # too short to look for in text
    assert list(found) == sorted(found, key=len, reverse=True)


def test_text_is_masked_by_value_and_by_shape() -> None:
    assert redact_text(f"got {KEY!r}", (KEY,)) == "got 'sk-***'"
    assert redact_text("expected x, got 'azure-key-123456'", ("azure-key-123456",)) == (
        "expected x, got 'azu***'"
    )
    # Not sent by this request, but shaped like a key: masked all the same.
    assert redact_text("token sk-proj-ABCDEFGHIJKLMNOP here", ()) == "token sk-*** here"
    assert redact_text("Bearer abcdefghijkl", ()) == "Bearer abc***"
    assert redact_text("sk-test is short and stays", ()) == "sk-test is short and stays"


def test_values_the_server_holds_are_masked_everywhere() -> None:
    remember_secret("admin-token-xyz-42")
    assert redact_text("the token admin-token-xyz-42", ()) == "the token adm***"


def test_a_body_is_copied_with_the_secrets_masked() -> None:
    body = {"messages": [{"content": f"my key is {KEY}"}], "n": 1}
    assert redact_value(body, (KEY,)) == {"messages": [{"content": "my key is sk-***"}], "n": 1}
    assert body["messages"][0]["content"] == f"my key is {KEY}"


def test_mask_keeps_a_hint_of_the_shape() -> None:
    assert mask(f"Bearer {KEY}") == "Bearer sk-***"
    assert mask(KEY) == "sk-***"
    assert mask("abc") == "***"
