"""What a model's name says about it, for the names the catalog doesn't list.

Vendors ship a model a month, and clients send whatever is newest (`claude-opus-4-8`,
`gpt-5.1-codex`, `gemini-3-flash-image`). Rather than refuse them, the catalog serves an unknown
name as its family's model: vendor, tokenizer, limits, kind of endpoint, and how it reasons.

    infer("gpt-5.1-codex")        -> openai, o200k_base, 400k/128k, reasons unasked
    infer("claude-opus-5")        -> anthropic, 200k/128k, thinks when asked
    infer("claude-3-haiku-20240307") -> anthropic, 200k/4096, no thinking
    infer("deepseek-reasoner-x")  -> deepseek, reasons unasked (and says so in reasoning_content)
    infer("text-embedding-foo")   -> an embedding model
    infer("anything-else")        -> a plain chat model "owned by" custom

The first family whose pattern matches the start of the lower-cased name wins; the limits are
the family's published ones (the newest member's where they differ). `reasoning` is whether the
model can think at all; `reasons_by_default` whether it thinks on a request that doesn't ask
(OpenAI's o-series and gpt-5, DeepSeek's reasoner, Qwen3's open models); Claude and Gemini think
on their chat-completions route only when asked.
"""

from __future__ import annotations

import functools
import re
from typing import Any, NamedTuple


class Family(NamedTuple):
    pattern: re.Pattern[str]
    facts: dict[str, Any]  # ModelInfo fields


def _family(pattern: str, owned_by: str, context: int, output: int, **facts: Any) -> Family:
    return Family(
        re.compile(pattern),
        {"owned_by": owned_by, "context_window": context, "max_output_tokens": output, **facts},
    )


REASONS = {"reasoning": True, "reasons_by_default": True}  # thinks on every request
THINKS = {"reasoning": True}  # thinks when the request asks
CL100K = {"encoding": "cl100k_base"}

# Endpoint kinds first: "gpt-4o-mini-tts" is a speech model before it is a gpt-4o.
FAMILIES: tuple[Family, ...] = (
    _family(
        r"text-embedding-3|text-embedding-ada",
        "openai",
        8191,
        0,
        kind="embedding",
        dimensions=1536,
        **CL100K,
    ),
    _family(
        r"gemini-embedding|text-embedding|text-multilingual-embedding",
        "google",
        2048,
        0,
        kind="embedding",
        dimensions=768,
    ),
    _family(r".*embed", "custom", 8191, 0, kind="embedding", dimensions=1024),
    _family(r".*rerank", "custom", 1024, 0, kind="rerank"),
    _family(r".*moderation", "openai", 32768, 0, kind="moderation"),
    _family(r"whisper|.*transcribe", "openai", 448, 0, kind="audio_transcription"),
    _family(r"tts|.*-tts", "openai", 4096, 0, kind="speech"),
    _family(r"dall-e|gpt-image|chatgpt-image", "openai", 4000, 0, kind="image"),
    # OpenAI chat and reasoning models.
    _family(r"gpt-\d+(\.\d+)?-chat", "openai", 128000, 16384),
    _family(r"gpt-(?:[5-9]|\d\d)", "openai", 400000, 128000, **REASONS),
    _family(r"o\d+(?:-|$)|codex-", "openai", 200000, 100000, **REASONS),
    _family(r"gpt-oss", "openai", 131072, 131072, **REASONS),
    _family(r"gpt-4\.1", "openai", 1047576, 32768),
    _family(r"gpt-4o|chatgpt-4o|gpt-4\.5", "openai", 128000, 16384),
    _family(r"gpt-4-(?:turbo|vision|\d{4}-preview)", "openai", 128000, 4096, **CL100K),
    _family(r"gpt-4", "openai", 8192, 8192, **CL100K),
    _family(
        r"gpt-3\.5-turbo-instruct|davinci|babbage",
        "openai",
        4096,
        4096,
        kind="completion",
        **CL100K,
    ),
    _family(r"gpt-3\.5", "openai", 16385, 4096, **CL100K),
    # Anthropic: 200k context; thinking from 3.7 on, output limits by generation.
    _family(r"claude-(?:2|instant)", "anthropic", 100000, 4096),
    _family(r"claude-3-haiku|claude-3-opus|claude-3-sonnet", "anthropic", 200000, 4096),
    _family(r"claude-3-5", "anthropic", 200000, 8192),
    _family(r"claude-opus-4(?:-[01])?(?:-\d{8})?$", "anthropic", 200000, 32000, **THINKS),
    _family(r"claude-3-7|claude-(?:sonnet|haiku|opus)-4", "anthropic", 200000, 64000, **THINKS),
    _family(r"claude-", "anthropic", 200000, 128000, **THINKS),
    # Google.
    _family(r"gemini-.*image", "google", 32768, 32768),
    _family(r"gemini-(?:1\.|2\.0)", "google", 1048576, 8192),
    _family(r"gemini-", "google", 1048576, 65536, **THINKS),
    _family(r"gemma-", "google", 131072, 8192),
    # DeepSeek.
    _family(r"deepseek-(?:reasoner|r\d)", "deepseek", 128000, 64000, **REASONS),
    _family(r"deepseek-ocr", "deepseek", 8192, 8192),
    _family(r"deepseek-", "deepseek", 128000, 8192),
    # Alibaba Qwen: the open Qwen3 models and QwQ think unless told not to; the commercial
    # qwen-plus / qwen-turbo / qwen-flash think when asked (`enable_thinking`).
    _family(r"qwen-mt", "alibaba", 16384, 8192),
    _family(r"qwen3.*-instruct|qwen3-coder|qwen3-max", "alibaba", 262144, 65536),
    _family(r"qwen3|qwq|qvq", "alibaba", 131072, 32768, **REASONS),
    _family(r"qwen-(?:plus|turbo|flash)", "alibaba", 131072, 16384, **THINKS),
    _family(r"qwen", "alibaba", 32768, 8192),
    # Other vendors a gateway relays (their names only: the limits are a plain chat model's).
    _family(r"grok-", "xai", 131072, 16384, **THINKS),
    _family(r"glm-", "zhipuai", 131072, 16384, **THINKS),
    _family(r"kimi-|moonshot-", "moonshotai", 131072, 16384),
    _family(r"mistral|mixtral|codestral|magistral|ministral", "mistralai", 131072, 16384),
    _family(r"llama|meta-llama", "meta", 131072, 16384),
    _family(r"doubao", "bytedance", 131072, 16384),
)
DEFAULT_FACTS: dict[str, Any] = {"owned_by": "custom"}


def facts_for(name: str) -> dict[str, Any]:
    """The ModelInfo fields a name implies (empty for plain defaults); `name` without any
    "models/" or "vendor/" prefix."""
    lowered = name.lower()
    for family in FAMILIES:
        if family.pattern.match(lowered):
            return dict(family.facts)
    return dict(DEFAULT_FACTS)


@functools.lru_cache(maxsize=1024)  # asked for every chat reply; names repeat
def vendor_of(name: str) -> str:
    """Who makes the model a name belongs to ("openai", "anthropic", ..., "custom")."""
    base = fine_tuned_base(name) or name
    return str(facts_for(base.rsplit("/", 1)[-1])["owned_by"])


# new-api's model-name suffixes: "claude-sonnet-4-5-thinking" turns thinking on,
# "gemini-2.5-flash-thinking-1024" with a budget, "gemini-2.5-flash-nothinking" off.
_THINKING_SUFFIX = re.compile(r"-(no)?thinking(?:-(\d+))?$")


def thinking_suffix(name: str) -> tuple[str, bool] | None:
    """`(base name, thinks)` for a name with the gateway's thinking suffix, else None."""
    found = _THINKING_SUFFIX.search(name)
    if found is None or found.start() == 0:
        return None
    return name[: found.start()], found.group(1) is None


@functools.lru_cache(maxsize=1024)  # asked for every reasoning reply; names repeat
def thinking_suffix_budget(name: str) -> int | None:
    """The budget a "-thinking-<budget>" suffix gives ("gemini-2.5-flash-thinking-1024" ->
    1024), as new-api sets Gemini's `thinkingBudget` and Claude's `budget_tokens` from it."""
    found = _THINKING_SUFFIX.search(name)
    if found is None or found.group(1) is not None or found.group(2) is None:
        return None
    return int(found.group(2))


def fine_tuned_base(name: str) -> str | None:
    """The base model of an OpenAI fine-tune id ("ft:gpt-4o-mini:org::abc" -> "gpt-4o-mini")."""
    if not name.startswith("ft:"):
        return None
    base = name[3:].split(":", 1)[0]
    return base or None


def fine_tune_owner(name: str) -> str | None:
    """The organisation of a fine-tune id, which OpenAI lists as its owner."""
    parts = name.split(":")
    return parts[2] if len(parts) > 2 and parts[2] else None
