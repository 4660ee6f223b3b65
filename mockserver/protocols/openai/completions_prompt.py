"""A legacy Completions `prompt` -> the prompts it holds, each as text: a string, an array of
strings, an array of token ids or an array of token-id arrays (ids decoded with the model's
tokenizer, checked against its largest id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.protocols.openai import validation as v

if TYPE_CHECKING:
    from mockserver.tokens.tokenizer import Tokenizer


INVALID_PROMPT = (
    "'$.prompt' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)


def split_prompts(raw: Any) -> list[str | list[int]]:
    """The prompts in `prompt`: a string, strings, token ids or arrays of token ids."""
    if raw is None:
        return [""]
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list):
        raise v.bad(INVALID_PROMPT, None, None)
    if not raw:
        raise v.bad(
            "Invalid 'prompt': empty array. Expected an array with minimum length 1, but got an "
            "empty array instead.",
            "prompt",
            "empty_array",
        )
    if all(isinstance(item, str) for item in raw):
        return list(raw)
    if all(is_token(item) for item in raw):
        return [list(raw)]
    if all(isinstance(item, list) and item and all(map(is_token, item)) for item in raw):
        return [list(item) for item in raw]
    raise v.bad(INVALID_PROMPT, None, None)


def is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def prompt_text(prompt: str | list[int], tokenizer: Tokenizer | None) -> str:
    if isinstance(prompt, str):
        return prompt
    assert tokenizer is not None
    top = tokenizer.max_token_value
    for token in prompt:
        if token > top:
            raise v.bad(
                f"Invalid token in prompt: {token}. Minimum value is 0, maximum value is {top} "
                "(inclusive).",
                None,
                None,
            )
    return tokenizer.decode(prompt)
