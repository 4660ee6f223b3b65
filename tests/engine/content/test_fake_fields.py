from __future__ import annotations

import ipaddress
import random
import re
import uuid
from datetime import datetime

import pytest

from mockserver.engine.content.fake_fields import fake_for_format, fake_for_name, sample_regex
from mockserver.engine.content.fakes import seeded_faker
from tests.hash_seeds import outputs_under_hash_seeds


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[A-Z]{2}-\d{3}$",
        r"^\d{5}(-\d{4})?$",
        r"^(red|green|blue)$",
        r"^[a-z0-9_]+@[a-z]+\.com$",
        r"^[^\s]{4,8}$",
        r"^\w+\s\w+$",
        r"^(ab)+\1$",
        r"^(?:x|y){2,}z*?$",
        r"^.{3}$",
        r"^[^a-f]$",
        r"item-\d+",
    ],
)
def test_sample_regex_draws_matching_strings(pattern: str) -> None:
    rng = random.Random(3)
    for _ in range(20):
        drawn = sample_regex(pattern, rng)
        assert drawn is not None and re.search(pattern, drawn), drawn


@pytest.mark.parametrize("pattern", [r"^(?=a)\w+$", r"^(?<!b)c$", r"[unclosed"])
def test_sample_regex_declines_what_it_cannot_draw(pattern: str) -> None:
    assert sample_regex(pattern, random.Random(0)) is None


def test_fake_for_format_gives_parseable_values() -> None:
    with seeded_faker(5) as faker:
        assert datetime.fromisoformat(fake_for_format("date-time", faker) or "").tzinfo
        datetime.strptime(fake_for_format("date", faker) or "", "%Y-%m-%d")
        datetime.strptime(fake_for_format("time", faker) or "", "%H:%M:%SZ")
        assert uuid.UUID(fake_for_format("uuid", faker)).version == 4
        ipaddress.IPv4Address(fake_for_format("ipv4", faker))
        ipaddress.IPv6Address(fake_for_format("ipv6", faker))
        assert re.fullmatch(r"[a-z.]+@example\.com", fake_for_format("email", faker) or "")
        assert (fake_for_format("uri", faker) or "").startswith("https://")
        assert fake_for_format("no-such-format", faker) is None


def test_fake_for_name_follows_the_field_name() -> None:
    with seeded_faker(5) as faker:
        assert "@" in (fake_for_name("contactEmail", faker) or "")
        assert " " in (fake_for_name("full_name", faker) or "")
        assert (fake_for_name("description", faker) or "").endswith(".")
        assert (fake_for_name("homepage_url", faker) or "").startswith("https://")
        assert fake_for_name("firstName", faker)
        assert fake_for_name("quantity", faker) is None
        assert fake_for_name("renamed", faker) is None  # "name" must be a whole word


def test_regex_draws_do_not_depend_on_hash_randomisation() -> None:
    script = (
        "import random; from mockserver.engine.content.fake_fields import sample_regex\n"
        "print(sample_regex('^[a-z]{3}[^0-9]{2}(x|y)+$', random.Random(1)))"
    )
    outputs = outputs_under_hash_seeds(script)
    assert len(outputs) == 1
