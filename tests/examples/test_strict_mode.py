"""How to: catch requests no rule was written for.

In strict mode an unmatched request gets an HTTP 400 naming the nearest rules and the predicate
each one failed, and the test fails even if the code under test swallowed that error. A test
that expects the miss says so with `fail_on_strict_miss = False`.
"""

from __future__ import annotations

import openai
import pytest

from mockserver.testing.handle import MockServer


@pytest.mark.mockserver(strict=True)
def test_an_unexpected_request_names_the_nearest_rule(mockserver: MockServer) -> None:
    mockserver.fail_on_strict_miss = False  # this test expects the miss
    mockserver.add_rule(name="weather", match={"last_user": "weather"}, reply={"content": "Sunny."})

    with pytest.raises(openai.BadRequestError, match="nearest rules: 'weather' failed on"):
        mockserver.openai_client(max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )

    (miss,) = mockserver.requests.unmatched.last.near_misses
    assert miss["failed"] == ["last_user: expected to contain 'weather', got 'hello'"]
