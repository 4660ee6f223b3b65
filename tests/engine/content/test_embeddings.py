"""Deterministic embedding vectors: unit norm, exact truncation, word-overlap similarity, and the
scenario rules (pinned vectors, neighbours at an exact cosine)."""

from __future__ import annotations

import base64
import math
import struct
from array import array

import pytest

from mockserver.engine.content.embeddings import (
    Embedder,
    EmbeddingRuleError,
    EmbeddingRules,
    Near,
    cosine,
    embed,
    encode_base64,
    truncate,
)


def norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in vector))


def test_same_inputs_same_floats_and_the_seed_changes_them() -> None:
    first = embed("The cat sat on the mat.", 1536, 7)
    assert first == embed("The cat sat on the mat.", 1536, 7)
    assert len(first) == 1536
    assert abs(norm(first) - 1.0) < 1e-12
    assert cosine(first, embed("The cat sat on the mat.", 1536, 8)) < 0.3


@pytest.mark.parametrize("dimensions", [1, 3, 64, 256, 1024, 3072])
def test_a_smaller_size_is_exactly_the_truncated_renormalised_larger_one(dimensions: int) -> None:
    text = "Matryoshka embeddings keep coarse meaning in the first dimensions"
    small = embed(text, dimensions, 42)
    cut = truncate(embed(text, 3072, 42), dimensions)
    assert len(small) == dimensions
    assert max(abs(a - b) for a, b in zip(small, cut, strict=True)) < 1e-12
    assert abs(norm(small) - 1.0) < 1e-12


def test_texts_sharing_words_are_neighbours() -> None:
    query = embed("How do I reset my password?", 1536, 1)
    same_words = embed("how do i reset my password", 1536, 1)
    related = embed("Steps to reset a forgotten password", 1536, 1)
    unrelated = embed("The weather in Paris is sunny today", 1536, 1)
    assert 0.7 < cosine(query, same_words) < 0.95
    assert 0.15 < cosine(query, related) < cosine(query, same_words)
    assert abs(cosine(query, unrelated)) < 0.2


def test_retrieval_ranks_the_document_that_shares_the_query_words_first() -> None:
    documents = [
        "Our refund policy allows returns within 30 days of purchase.",
        "The office is closed on public holidays.",
        "Shipping usually takes three to five business days.",
        "To reset your password, open settings and choose security.",
    ]
    query = embed("how can I reset my password", 1536, 3)
    scores = [cosine(query, embed(d, 1536, 3)) for d in documents]
    assert max(range(len(documents)), key=scores.__getitem__) == 3


def test_texts_without_words_and_empty_texts_still_get_unit_vectors() -> None:
    for text in ("!!! ???", "", "🙂"):
        vector = embed(text, 8, 0)
        assert abs(norm(vector) - 1.0) < 1e-12


def test_dimensions_out_of_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="dimensions must be between 1 and 4096, got 0"):
        embed("x", 0, 0)


def test_base64_is_little_endian_float32_as_the_sdk_decodes_it() -> None:
    vector = embed("encode me", 16, 5)
    raw = base64.b64decode(encode_base64(vector))
    assert len(raw) == 16 * 4
    assert list(struct.unpack("<16f", raw)) == array("f", vector).tolist()
    # openai-python without numpy: array.array("f", base64.b64decode(data)).tolist()
    decoded = array("f", raw).tolist()
    assert max(abs(a - b) for a, b in zip(decoded, vector, strict=True)) < 1e-7


def test_pinned_vectors_are_returned_as_given_or_truncated() -> None:
    rules = EmbeddingRules(pinned={"north": (3.0, 4.0, 0.0)})
    embedder = Embedder(1, rules)
    assert embedder.vector("north", 3) == [3.0, 4.0, 0.0]
    assert embedder.vector("north", 2) == pytest.approx([0.6, 0.8])
    with pytest.raises(EmbeddingRuleError, match="has 3 values, but 1536 were requested"):
        embedder.vector("north", 1536)


@pytest.mark.parametrize("dimensions", [2, 3, 256, 1536])
@pytest.mark.parametrize("similarity", [0.9, 0.25, 0.0, -0.5, 1.0])
def test_near_texts_have_exactly_the_declared_cosine(dimensions: int, similarity: float) -> None:
    rules = EmbeddingRules(near=(Near("refund policy", "money back please", similarity),))
    embedder = Embedder(9, rules)
    anchor = embedder.vector("refund policy", dimensions)
    derived = embedder.vector("money back please", dimensions)
    assert anchor == embed("refund policy", dimensions, 9)
    assert cosine(anchor, derived) == pytest.approx(similarity, abs=1e-12)
    assert abs(norm(derived) - 1.0) < 1e-12


def test_near_chains_and_pinned_anchors() -> None:
    rules = EmbeddingRules(
        pinned={"a": (1.0, 0.0, 0.0, 0.0)},
        near=(Near("a", "b", 0.8), Near("b", "c", 0.5)),
    )
    embedder = Embedder(2, rules)
    a, b, c = (embedder.vector(t, 4) for t in "abc")
    assert cosine(a, b) == pytest.approx(0.8, abs=1e-12)
    assert cosine(b, c) == pytest.approx(0.5, abs=1e-12)


def test_a_text_parallel_to_its_anchor_still_gets_an_exact_cosine() -> None:
    from mockserver.engine.content.embeddings import _at_cosine

    derived = _at_cosine([1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], 0.3)
    assert cosine([1.0, 0.0, 0.0], derived) == pytest.approx(0.3, abs=1e-12)
    # One dimension holds only ±anchor: the nearest reachable cosine.
    rules = EmbeddingRules(pinned={"a": (1.0, 0.0)}, near=(Near("a", "b", 0.3),))
    assert Embedder(0, rules).vectors(["a", "b"], 1) == [[1.0], [1.0]]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (lambda: EmbeddingRules(near=(Near("a", "b", 1.5),)), "between -1 and 1, got 1.5"),
        (lambda: EmbeddingRules(near=(Near("a", "a", 0.5),)), "both texts are 'a'"),
        (
            lambda: EmbeddingRules(near=(Near("a", "b", 0.5), Near("c", "b", 0.5))),
            "'b' is already derived from 'a'",
        ),
        (
            lambda: EmbeddingRules(near=(Near("a", "b", 0.5), Near("b", "a", 0.5))),
            "cycle",
        ),
        (
            lambda: EmbeddingRules(pinned={"b": (1.0,)}, near=(Near("a", "b", 0.5),)),
            "'b' is pinned",
        ),
        (lambda: EmbeddingRules(pinned={"z": (0.0, 0.0)}), "empty or all zeros"),
    ],
)
def test_rules_that_cannot_be_honoured_are_rejected_when_built(rules: object, message: str) -> None:
    with pytest.raises(EmbeddingRuleError, match=message):
        rules()  # type: ignore[operator]
