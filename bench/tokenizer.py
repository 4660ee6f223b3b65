"""The o200k_base encoding in the bench process, to check usage and to time tiktoken itself."""

from __future__ import annotations

import functools
from typing import Any

from bench.servers import Unavailable

# OpenAI's chat framing (what mockserver must reproduce): 3 tokens per message plus its role,
# and 3 that prime the reply.
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING = 3


@functools.cache
def o200k() -> Any:
    """A `tiktoken.Encoding` built offline: mockserver's own loader, else the test helper."""
    try:
        from mockserver.tokens.tokenizer import get_tokenizer

        return get_tokenizer("o200k_base").encoding
    except Exception as first:
        try:
            from tests.tokens._offline_encoding import offline_encoding

            return offline_encoding("o200k_base")
        except Exception:
            raise Unavailable(f"no offline o200k_base encoding: {first}") from first


def count(text: str) -> int:
    return len(o200k().encode_ordinary(text))


def chat_prompt_tokens(user_text: str) -> int:
    """Prompt tokens of a chat request holding one user message."""
    return TOKENS_PER_MESSAGE + count("user") + count(user_text) + REPLY_PRIMING
