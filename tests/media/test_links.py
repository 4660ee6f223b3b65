from __future__ import annotations

from urllib.parse import parse_qsl

from mockserver.media import links
from mockserver.media.links import IDEOGRAM_IMAGES, OPENAI_IMAGES

NAME = "img-abc.png"
ISSUED = 1_735_689_600  # 2025-01-01T00:00:00Z


def query(style: links.LinkStyle = OPENAI_IMAGES, seed: int = 1) -> dict[str, str]:
    text = links.signed_query(style, seed, NAME, "image/png", ISSUED)
    return dict(parse_qsl(text))


def test_openai_links_are_azure_shared_access_urls_valid_an_hour() -> None:
    signed = query()
    assert signed["st"] == "2025-01-01T00:00:00Z" and signed["se"] == "2025-01-01T01:00:00Z"
    assert (signed["sp"], signed["sr"], signed["rsct"]) == ("r", "b", "image/png")
    assert links.check(signed, 1, NAME, ISSUED) is None
    assert links.check(signed, 1, NAME, ISSUED + 3599) is None


def test_an_expired_link_gets_azures_403() -> None:
    denial = links.check(query(), 1, NAME, ISSUED + 3600)
    assert denial is not None and denial.status == 403
    assert denial.content_type == "application/xml"
    assert denial.headers["x-ms-error-code"] == "AuthenticationFailed"
    body = denial.body.decode()
    assert body.startswith(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed'
    )
    assert (
        "Signed expiry time [Wed, 01 Jan 2025 01:00:00 GMT] has to be after current time "
        "[Wed, 01 Jan 2025 01:00:00 GMT]" in body
    )
    # The same refusal at the same scenario time: nothing from the wall clock.
    assert links.check(query(), 1, NAME, ISSUED + 3600) == denial


def test_a_link_with_a_changed_expiry_or_of_another_file_is_refused() -> None:
    signed = query()
    longer = {**signed, "se": "2025-01-01T05:00:00Z"}
    denial = links.check(longer, 1, NAME, ISSUED)
    assert denial is not None and b"Signature did not match" in denial.body
    assert links.check(signed, 1, "img-other.png", ISSUED) is not None
    assert links.check(signed, 2, NAME, ISSUED) is not None  # another seed signed it
    garbled = links.check({**signed, "se": "tomorrow"}, 1, NAME, ISSUED)
    assert garbled is not None and b"not well formed" in garbled.body


def test_ideogram_links_carry_exp_and_signature() -> None:
    signed = query(IDEOGRAM_IMAGES)
    assert set(signed) == {"exp", "signature"} and int(signed["exp"]) == ISSUED + 3600
    assert links.check(signed, 1, NAME, ISSUED + 10) is None
    denial = links.check(signed, 1, NAME, ISSUED + 3600)
    assert denial is not None and denial.status == 403


def test_unsigned_links_are_the_servers_own_and_never_expire() -> None:
    assert links.check({}, 1, NAME, ISSUED + 10**9) is None
