"""The shared, seeded Faker behind schema-valid fake values (`engine.content.fake_fields`,
`engine.content.schema_instance`). Fake prose for replies is `engine.content.prose`'s.

Every value is a pure function of a key: seeds come from blake2b of the key
(`mockserver.core.ids.seed_for`), never from the wall clock or Faker's global seed. Creating a
Faker is slow (and so is importing it, which also waits for the first use), so there is one
per locale, made on first use and re-seeded under a lock for every call; outputs therefore do
not depend on which thread asked. Faker's lists are the source, so outputs are stable for a
given Faker version, not across Faker upgrades.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker

__all__ = ["seeded_faker"]

_FAKERS: dict[str, tuple[Faker, threading.RLock]] = {}
_FAKERS_LOCK = threading.Lock()


@contextmanager
def seeded_faker(seed: int, locale: str = "en_US") -> Iterator[Faker]:
    """The shared Faker for `locale`, seeded with `seed` and held exclusively while in use."""
    with _FAKERS_LOCK:
        entry = _FAKERS.get(locale)
        if entry is None:
            # Imported here, not with the module: time and memory that a server answering
            # only scripted replies never needs.
            from faker import Faker

            # Unweighted draws: Faker's frequency-weighted name lists are slow to draw from.
            entry = _FAKERS[locale] = (Faker(locale, use_weighting=False), threading.RLock())
    faker, lock = entry
    with lock:
        faker.seed_instance(seed)
        yield faker
