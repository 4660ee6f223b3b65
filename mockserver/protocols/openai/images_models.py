"""What each OpenAI image model accepts: sizes, `n`, prompt length, qualities and styles.

Models OpenAI does not serve (flux-*, doubao-seedream-*, qwen-image*...) have no rules: the
gateway passes them through, so any `WxH` size is taken.
"""

from __future__ import annotations

from msgspec import Struct

DEFAULT_MODEL = "dall-e-2"
MAX_N = 10


class ModelRules(Struct, frozen=True):
    sizes: tuple[str, ...]
    default_size: str
    max_prompt: int
    max_n: int = MAX_N
    qualities: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    gpt_image: bool = False  # token usage, output_format, background, b64_json only
    revises_prompt: bool = False


DALL_E_2 = ModelRules(("256x256", "512x512", "1024x1024"), "1024x1024", 1000)
DALL_E_3 = ModelRules(
    ("1024x1024", "1792x1024", "1024x1792"),
    "1024x1024",
    4000,
    max_n=1,
    qualities=("standard", "hd"),
    styles=("vivid", "natural"),
    revises_prompt=True,
)
GPT_IMAGE = ModelRules(
    ("1024x1024", "1536x1024", "1024x1536", "auto"),
    "auto",
    32000,
    qualities=("low", "medium", "high", "auto"),
    gpt_image=True,
)


def rules_for(model: str) -> ModelRules | None:
    """The checks a model gets; None for image models OpenAI doesn't serve (lenient)."""
    if model in ("dall-e-2", "dall-e"):
        return DALL_E_2
    if model == "dall-e-3":
        return DALL_E_3
    if model.startswith(("gpt-image-", "chatgpt-image")):
        return GPT_IMAGE
    return None
