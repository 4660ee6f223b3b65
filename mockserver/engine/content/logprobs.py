"""Made-up token log probabilities for a reply's text, the same for the same text.

Each token piece of the answer gets a log probability in (-2.5, 0], skewed towards 0 (most
tokens are near-certain); its alternatives list that token first, then frequent tokens with
strictly lower log probabilities. Vendors render them their own way (OpenAI's `logprobs`,
Gemini's `logprobsResult`).
"""

from __future__ import annotations

from typing import NamedTuple

from mockserver.core import ids
from mockserver.core.reply import Choice

# Alternatives offered: frequent tokens, none of them the chosen one.
_ALTERNATIVES = (" the", ",", ".", " and", " a", " to", " of", " is", " in", " that", " it", "\n")


class TokenLogprob(NamedTuple):
    token: str
    logprob: float
    # (token, logprob) pairs, the chosen token first; as many as asked for.
    top: list[tuple[str, float]]


def _logprob(key: str, ceiling: float = 0.0) -> float:
    fraction = int(key[:8], 16) / 0xFFFFFFFF
    return round(ceiling - 2.5 * fraction * fraction - 1e-6, 6)


def token_logprobs(choice: Choice, index: int, top: int) -> list[TokenLogprob]:
    """One entry per token piece of choice `index`'s text, each with `top` alternatives."""
    pieces = choice.text_pieces or ([choice.text] if choice.text else [])
    seed = ids.digest("logprobs", choice.text or "", index)
    out: list[TokenLogprob] = []
    for position, token in enumerate(pieces):
        key = ids.digest(seed, position)
        logprob = _logprob(key)
        alternatives = [(token, logprob)]
        lowest = logprob
        for offset, other in enumerate(a for a in _ALTERNATIVES if a != token):
            if len(alternatives) >= top:
                break
            lowest = _logprob(ids.digest(key, offset), lowest)
            alternatives.append((other, lowest))
        out.append(TokenLogprob(token, logprob, alternatives[:top]))
    return out
