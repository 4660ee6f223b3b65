"""Made-up log probabilities for a legacy Completions answer (`logprobs: k`): deterministic in
a key, plausible (the sampled token is usually the likeliest), with frequent English tokens as
the alternatives in `top_logprobs`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

# Alternatives offered in `top_logprobs`: frequent tokens of English text.
_ALTERNATIVES = (" the", ",", " a", ".", " and", " of", " to", " in", " is", "\n", " that")
_ALTERNATIVE_SHARES = (0.5, 0.22, 0.12, 0.06, 0.03)


def synth_logprobs(pieces: Sequence[str], offset: int, top: int, key: str) -> dict[str, Any]:
    """Plausible log probabilities for `pieces` (deterministic in `key`): the sampled token is
    usually the likeliest; `top_logprobs` holds the `top` likeliest (plus the sampled one)."""
    tokens, logprobs, tops, offsets = [], [], [], []
    for position, piece in enumerate(pieces):
        raw = hashlib.blake2b(f"{key}:{position}".encode(), digest_size=16).digest()
        u = int.from_bytes(raw[:8], "big") / 2.0**64
        chosen = math.log(max(1e-6, 1.0 - 0.95 * u**3))  # mostly confident, now and then not
        rest = 1.0 - math.exp(chosen)
        candidates = {piece: chosen}
        start = raw[8] % len(_ALTERNATIVES)
        shares = iter(_ALTERNATIVE_SHARES)
        for step in range(len(_ALTERNATIVES)):
            word = _ALTERNATIVES[(start + step) % len(_ALTERNATIVES)]
            share = next(shares, None)
            if share is None:
                break
            if word != piece and rest > 0:
                candidates[word] = math.log(rest * share)
        ranked = sorted(candidates.items(), key=lambda item: -item[1])[:top]
        table = dict(ranked)
        table.setdefault(piece, chosen)
        tokens.append(piece)
        logprobs.append(chosen)
        tops.append(table)
        offsets.append(offset)
        offset += len(piece)
    return {
        "tokens": tokens,
        "token_logprobs": logprobs,
        "top_logprobs": tops,
        "text_offset": offsets,
    }
