"""Deterministic embedding vectors: unit-norm, seeded, and similar for texts that share words.

A text's raw vector is the sum of two parts, both pure functions of (seed, text):

- a dense "noise" part: a strided window of a fixed table of Gaussian numbers, at an offset and
  stride hashed from the whole text (every text gets its own direction, equal texts the same);
- a sparse "word" part: every distinct word (lower-cased `\\w+` run) adds ±weight at 8 positions
  hashed from the word, weight 1 + ln(count). Positions crowd towards the low indices, as a
  Matryoshka-trained model keeps its coarse meaning in the first dimensions.

The word part carries about 80% of the energy at 1536 dimensions, so texts with the same words
score ~0.8, texts sharing half their words ~0.4, unrelated texts ~0. The raw vector does not
depend on the requested size, so `embed(t, 256, s)` is exactly `truncate(embed(t, 1536, s), 256)`:
text-embedding-3's `dimensions` behaviour (truncate, then renormalise).

Scenario rules (`EmbeddingRules`) pin vectors for given texts and declare neighbours: for
`Near("refund policy", "how do I get my money back", 0.9)` the second text's vector is built from
the first one's, so their cosine is exactly 0.9 at every requested size.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import operator
import random
import re
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping

from msgspec import Struct, field

MAX_DIMENSIONS = 4096
# Word features land in [0, _FEATURE_SPAN); those past the requested size are dropped.
_FEATURE_SPAN = 4096
_FEATURES_PER_WORD = 8
# Noise windows: 2**17 offsets x 8 strides, so two texts share one with odds ~1 in a million.
_POOL_SIZE = 1 << 17
_STRIDES = 8
_TABLE_SEED = 20240125  # fixed: the seed enters through the hashed offsets, not the table
# Noise energy relative to word energy at the reference size: cos(same words) = 1/(1+share).
_NOISE_SHARE = 0.25
_REFERENCE_DIMENSIONS = 1536
_WORD = re.compile(r"\w+")


class EmbeddingRuleError(ValueError):
    """Scenario embedding rules that cannot be honoured (bad similarity, cycles, short vectors)."""


class Near(Struct, frozen=True):
    """`text`'s vector is derived from `anchor`'s so that their cosine is exactly `similarity`."""

    anchor: str
    text: str
    similarity: float


class EmbeddingRules(Struct, frozen=True):
    """What a scenario fixes about embeddings: exact vectors and declared neighbours.

    A pinned vector is returned as given when its length is the requested size, truncated and
    renormalised when a smaller size is requested; a larger size is an error.
    """

    pinned: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    near: tuple[Near, ...] = ()

    def __post_init__(self) -> None:
        targets: dict[str, Near] = {}
        for index, rule in enumerate(self.near):
            where = f"near[{index}]"
            if not -1.0 <= rule.similarity <= 1.0:
                raise EmbeddingRuleError(
                    f"{where}: similarity must be between -1 and 1, got {rule.similarity}"
                )
            if rule.anchor == rule.text:
                raise EmbeddingRuleError(f"{where}: both texts are {rule.text!r}")
            if rule.text in self.pinned:
                raise EmbeddingRuleError(f"{where}: {rule.text!r} is pinned, it cannot be derived")
            if rule.text in targets:
                raise EmbeddingRuleError(
                    f"{where}: {rule.text!r} is already derived from {targets[rule.text].anchor!r}"
                )
            targets[rule.text] = rule
        for text in targets:
            seen = [text]
            while (step := targets.get(seen[-1])) is not None:
                if step.anchor in seen:
                    chain = " <- ".join(repr(t) for t in [*seen, step.anchor])
                    raise EmbeddingRuleError(f"near rules form a cycle (text <- anchor): {chain}")
                seen.append(step.anchor)
        for text, vector in self.pinned.items():
            if not vector or not any(vector):
                raise EmbeddingRuleError(f"pinned vector for {text!r} is empty or all zeros")

    def derived(self) -> dict[str, Near]:
        return {rule.text: rule for rule in self.near}


NO_RULES = EmbeddingRules()


@functools.cache
def _table() -> array[float]:
    """The fixed Gaussian table the noise windows are cut from (163k numbers, built once).

    Packed doubles: a quarter of the memory of a tuple of float objects, and no heap
    fragmentation."""
    gauss = random.Random(_TABLE_SEED).gauss
    return array("d", (gauss(0.0, 1.0) for _ in range(_POOL_SIZE + _STRIDES * MAX_DIMENSIONS)))


def _digest(seed: int, kind: bytes, text: str) -> bytes:
    key = b"%d:%s" % (seed, kind)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16, key=key).digest()


@functools.lru_cache(maxsize=65536)
def _word_features(seed: int, word: str, dimensions: int) -> tuple[tuple[int, float], ...]:
    """The word's (position, ±1) features below `dimensions`, of 8 drawn with position =
    span·u² for uniform u (so they crowd towards the low indices)."""
    features = []
    for (value,) in struct.iter_unpack("<H", _digest(seed, b"word", word)):
        position = int(_FEATURE_SPAN * ((value >> 1) / 32768.0) ** 2)
        if position < dimensions:
            features.append((position, 1.0 if value & 1 else -1.0))
    return tuple(features)


# Expected number of a word's features below the reference size (P(position < d) = sqrt(d/span)).
_EXPECTED_FEATURES = _FEATURES_PER_WORD * math.sqrt(_REFERENCE_DIMENSIONS / _FEATURE_SPAN)


def _raw(text: str, dimensions: int, seed: int) -> list[float]:
    """The unnormalised vector; its first d entries are the same for every `dimensions` >= d."""
    if not 1 <= dimensions <= MAX_DIMENSIONS:
        raise ValueError(f"dimensions must be between 1 and {MAX_DIMENSIONS}, got {dimensions}")
    where = int.from_bytes(_digest(seed, b"text", text)[:8], "little")
    start, stride = where % _POOL_SIZE, 1 + (where >> 40) % _STRIDES
    vector = list(_table()[start : start + stride * dimensions : stride])
    counts = Counter(_WORD.findall(text.lower()))
    if not counts:
        return vector
    weights = [1.0 + math.log(count) if count > 1 else 1.0 for count in counts.values()]
    # Noise entries have variance 1; scale the words so that, at the reference size, noise
    # energy is _NOISE_SHARE of word energy. A fixed reference (not `dimensions`) keeps the
    # prefix property, hence exact truncation.
    word_energy = _EXPECTED_FEATURES * math.fsum(w * w for w in weights)
    scale = math.sqrt(_REFERENCE_DIMENSIONS / (_NOISE_SHARE * word_energy))
    for word, weight in zip(counts, weights, strict=True):
        amount = weight * scale
        for position, sign in _word_features(seed, word, dimensions):
            vector[position] += sign * amount
    return vector


def prepare() -> None:
    """Build the noise table now rather than in the first embeddings request."""
    _table()


def normalise(vector: list[float]) -> list[float]:
    norm = math.hypot(*vector)
    if norm == 0.0:
        raise ValueError("cannot normalise a zero vector")
    inverse = 1.0 / norm
    return [value * inverse for value in vector]


def embed(text: str, dimensions: int, seed: int) -> list[float]:
    """The default unit vector for `text`: same inputs, same floats, on every machine."""
    return normalise(_raw(text, dimensions, seed))


def truncate(vector: Iterable[float], dimensions: int) -> list[float]:
    """The first `dimensions` entries, renormalised (text-embedding-3's `dimensions`)."""
    return normalise(list(vector)[:dimensions])


def cosine(a: list[float], b: list[float]) -> float:
    dot = math.fsum(map(operator.mul, a, b))
    return dot / (math.hypot(*a) * math.hypot(*b))


class Embedder:
    """Vectors for one request: the default `embed`, overridden by the scenario's rules."""

    __slots__ = ("_derived", "rules", "seed")

    def __init__(self, seed: int, rules: EmbeddingRules | None = None) -> None:
        self.seed = seed
        self.rules = rules = NO_RULES if rules is None else rules  # None: the scenarios set none
        self._derived = rules.derived()

    def vector(self, text: str, dimensions: int) -> list[float]:
        pinned = self.rules.pinned.get(text)
        if pinned is not None:
            return _pinned(text, pinned, dimensions)
        rule = self._derived.get(text)
        if rule is None:
            return embed(text, dimensions, self.seed)
        anchor = normalise(self.vector(rule.anchor, dimensions))
        return _at_cosine(anchor, embed(text, dimensions, self.seed), rule.similarity)

    def vectors(self, texts: Iterable[str], dimensions: int) -> list[list[float]]:
        return [self.vector(text, dimensions) for text in texts]


def _pinned(text: str, vector: tuple[float, ...], dimensions: int) -> list[float]:
    if len(vector) == dimensions:
        return list(vector)
    if len(vector) > dimensions:
        return truncate(vector, dimensions)
    raise EmbeddingRuleError(
        f"pinned vector for {text!r} has {len(vector)} values, but {dimensions} were requested; "
        f"pin a vector of at least {dimensions} values or request fewer dimensions"
    )


def _at_cosine(anchor: list[float], own: list[float], similarity: float) -> list[float]:
    """A unit vector at exactly `similarity` from unit `anchor`, leaning towards `own`."""
    along = math.fsum(map(operator.mul, own, anchor))
    orthogonal = [o - along * a for o, a in zip(own, anchor, strict=True)]
    if len(anchor) == 1:
        # One dimension holds only ±anchor: the nearest reachable cosine.
        return [anchor[0] if similarity >= 0 else -anchor[0]]
    if math.hypot(*orthogonal) < 1e-9:
        # `own` is (anti)parallel to the anchor: any other direction will do.
        orthogonal = [0.0] * len(anchor)
        position = min(range(len(anchor)), key=lambda i: abs(anchor[i]))
        orthogonal[position] = 1.0
        along = anchor[position]
        orthogonal = [o - along * a for o, a in zip(orthogonal, anchor, strict=True)]
    unit = normalise(orthogonal)
    across = math.sqrt(max(0.0, 1.0 - similarity * similarity))
    return [similarity * a + across * u for a, u in zip(anchor, unit, strict=True)]


def encode_base64(vector: Iterable[float]) -> str:
    """Little-endian float32 bytes, base64: what the API sends for `encoding_format: base64`."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")
