"""The shared, seeded Faker: the same seed gives the same values, whatever the thread."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor

from mockserver.engine.content.fakes import seeded_faker
from tests.hash_seeds import outputs_under_hash_seeds


def names(seed: int) -> list[str]:
    with seeded_faker(seed) as faker:
        return [faker.name() for _ in range(5)]


def test_the_same_seed_gives_the_same_values() -> None:
    assert names(1) == names(1)
    assert names(1) != names(2)


def test_the_global_random_state_is_left_alone() -> None:
    random.seed(1234)
    before = random.getstate()
    names(7)
    assert random.getstate() == before


def test_parallel_threads_give_the_sequential_values() -> None:
    sequential = [names(seed) for seed in range(100)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(names, range(100))) == sequential


def test_values_do_not_depend_on_hash_randomisation() -> None:
    script = (
        "import json; from mockserver.engine.content.fakes import seeded_faker\n"
        "with seeded_faker(3) as f: print(json.dumps([f.name(), f.email(), f.word()]))"
    )
    outputs = outputs_under_hash_seeds(script)
    assert len(outputs) == 1
    assert len(json.loads(outputs.pop())) == 3
