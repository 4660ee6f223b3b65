"""The open catalog: names it doesn't list are served as their family's model."""

from __future__ import annotations

import pytest

from mockserver.core import model_families
from mockserver.core.catalog import Catalog, ModelInfo, load_builtin


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_builtin()


# name -> (owned_by, encoding, context_window, max_output_tokens, kind, reasoning,
# reasons_by_default)
INFERRED = {
    "gpt-5.1": ("openai", "o200k_base", 400000, 128000, "chat", True, True),
    "gpt-5-codex": ("openai", "o200k_base", 400000, 128000, "chat", True, True),
    "gpt-6.2-sol": ("openai", "o200k_base", 400000, 128000, "chat", True, True),
    "gpt-5-chat-latest": ("openai", "o200k_base", 128000, 16384, "chat", False, False),
    "o3-pro": ("openai", "o200k_base", 200000, 100000, "chat", True, True),
    "o5-mini": ("openai", "o200k_base", 200000, 100000, "chat", True, True),
    "codex-mini-latest": ("openai", "o200k_base", 200000, 100000, "chat", True, True),
    "chatgpt-4o-latest": ("openai", "o200k_base", 128000, 16384, "chat", False, False),
    "gpt-4o-search-preview": ("openai", "o200k_base", 128000, 16384, "chat", False, False),
    "gpt-4o-mini-search-preview": ("openai", "o200k_base", 128000, 16384, "chat", False, False),
    "gpt-4.1-2025-04-14-x": ("openai", "o200k_base", 1047576, 32768, "chat", False, False),
    "gpt-4-32k": ("openai", "cl100k_base", 8192, 8192, "chat", False, False),
    "gpt-3.5-turbo-16k": ("openai", "cl100k_base", 16385, 4096, "chat", False, False),
    "claude-opus-4-8": ("anthropic", "o200k_base", 200000, 64000, "chat", True, False),
    "claude-opus-5-5": ("anthropic", "o200k_base", 200000, 128000, "chat", True, False),
    "claude-3-5-sonnet-20240620": ("anthropic", "o200k_base", 200000, 8192, "chat", False, False),
    "claude-3-haiku-20240307": ("anthropic", "o200k_base", 200000, 4096, "chat", False, False),
    "claude-3-opus-20240229": ("anthropic", "o200k_base", 200000, 4096, "chat", False, False),
    "gemini-3-flash": ("google", "o200k_base", 1048576, 65536, "chat", True, False),
    "gemini-1.5-pro": ("google", "o200k_base", 1048576, 8192, "chat", False, False),
    "deepseek-reasoner-v4": ("deepseek", "o200k_base", 128000, 64000, "chat", True, True),
    "deepseek-r2": ("deepseek", "o200k_base", 128000, 64000, "chat", True, True),
    "deepseek-ocr": ("deepseek", "o200k_base", 8192, 8192, "chat", False, False),
    "deepseek-v4": ("deepseek", "o200k_base", 128000, 8192, "chat", False, False),
    "qwen3-32b": ("alibaba", "o200k_base", 131072, 32768, "chat", True, True),
    "qwq-plus": ("alibaba", "o200k_base", 131072, 32768, "chat", True, True),
    "qwen3-235b-a22b-instruct-2507": ("alibaba", "o200k_base", 262144, 65536, "chat", False, False),
    "qwen-mt-turbo": ("alibaba", "o200k_base", 16384, 8192, "chat", False, False),
    "qwen-flash": ("alibaba", "o200k_base", 131072, 16384, "chat", True, False),
    "text-embedding-3-huge": ("openai", "cl100k_base", 8191, 0, "embedding", False, False),
    "bge-m3-embed": ("custom", "o200k_base", 8191, 0, "embedding", False, False),
    "bge-reranker-v2-m3": ("custom", "o200k_base", 1024, 0, "rerank", False, False),
    "gpt-4o-mini-tts-2": ("openai", "o200k_base", 4096, 0, "speech", False, False),
    "gpt-5-transcribe": ("openai", "o200k_base", 448, 0, "audio_transcription", False, False),
    "gpt-image-2": ("openai", "o200k_base", 4000, 0, "image", False, False),
    "my-own-model": ("custom", "o200k_base", 128000, 16384, "chat", False, False),
}


@pytest.mark.parametrize("name", sorted(INFERRED))
def test_an_unlisted_name_is_served_as_its_family(catalog: Catalog, name: str) -> None:
    assert not catalog.known(name)
    info = catalog.get(name)
    assert info is not None
    assert info.id == name
    facts = (
        info.owned_by,
        info.encoding,
        info.context_window,
        info.max_output_tokens,
        info.kind,
        info.reasoning,
        info.reasons_by_default,
    )
    assert facts == INFERRED[name]
    assert catalog.strict().get(name) is None  # a strict catalog refuses it
    assert catalog.strict().inferred(name) == info  # what a rule naming it gets


def test_unlisted_names_are_not_listed(catalog: Catalog) -> None:
    catalog.get("gpt-9-turbo")
    assert "gpt-9-turbo" not in [info.id for info in catalog.all()]


def test_prefixes_go_and_the_name_sent_stays(catalog: Catalog) -> None:
    assert catalog.get("models/gemini-3-flash") == catalog.get("gemini-3-flash")
    info = catalog.get("openrouter/anthropic/claude-opus-9")
    assert info is not None and (info.id, info.owned_by) == ("claude-opus-9", "anthropic")


def test_a_fine_tune_inherits_its_base_in_either_mode(catalog: Catalog) -> None:
    base = catalog.get("gpt-4o-mini")
    for mode in (catalog, catalog.strict()):
        info = mode.get("ft:gpt-4o-mini:acme-corp::9abcDEF")
        assert info is not None and base is not None
        assert info.id == "ft:gpt-4o-mini:acme-corp::9abcDEF"
        assert info.owned_by == "acme-corp"
        assert (info.context_window, info.encoding) == (base.context_window, base.encoding)
    dated = catalog.strict().get("ft:gpt-4o-mini-2024-07-18:org:custom:id1")
    assert dated is not None and dated.context_window == 128000
    # The base of a fine-tune is inferred like any name; a strict catalog needs it listed.
    assert catalog.get("ft:gpt-5.1:org::x") is not None
    assert catalog.strict().get("ft:gpt-5.1:org::x") is None
    assert catalog.get("ft:") is not None and catalog.strict().get("ft:") is None


def test_the_gateway_thinking_suffix(catalog: Catalog) -> None:
    plain = catalog.get("claude-sonnet-4-5")
    thinking = catalog.strict().get("claude-sonnet-4-5-thinking")
    assert plain is not None and thinking is not None
    assert (plain.reasoning, plain.reasons_by_default) == (True, False)
    assert (thinking.reasoning, thinking.reasons_by_default) == (True, True)
    assert thinking.context_window == plain.context_window
    budgeted = catalog.get("gemini-2.5-flash-thinking-1024")
    off = catalog.get("gemini-2.5-flash-nothinking")
    assert budgeted is not None and budgeted.reasons_by_default
    assert off is not None and not off.reasoning
    # A new model's name with the suffix is inferred, then switched.
    new = catalog.get("claude-opus-9-thinking")
    assert new is not None and new.reasons_by_default and new.owned_by == "anthropic"


def test_a_scenario_model_wins_over_inference(catalog: Catalog) -> None:
    mine = ModelInfo(id="gpt-9", owned_by="scenario", context_window=1000)
    extended = catalog.with_extra([mine])
    assert extended.get("gpt-9") == mine
    assert extended.strict().get("gpt-9") == mine
    assert extended.open and not extended.strict().open
    assert extended.strict().strict(False).open


def test_vendor_of() -> None:
    assert model_families.vendor_of("gpt-5.1") == "openai"
    assert model_families.vendor_of("ft:gpt-4o:acme::x") == "openai"
    assert model_families.vendor_of("deepseek-reasoner") == "deepseek"
    assert model_families.vendor_of("vendor/claude-x") == "anthropic"
    assert model_families.vendor_of("mystery") == "custom"


@pytest.mark.parametrize(
    ("name", "budget"),
    [
        ("gemini-2.5-flash-thinking-1024", 1024),
        ("claude-sonnet-4-5-thinking-2048", 2048),
        ("claude-sonnet-4-5-thinking", None),
        ("gemini-2.5-flash-nothinking", None),
        ("gpt-4o", None),
    ],
)
def test_the_thinking_suffix_budget(name: str, budget: int | None) -> None:
    assert model_families.thinking_suffix_budget(name) == budget
