"""`generationConfig.responseLogprobs` (and `logprobs: k`): each candidate's `avgLogprobs` and
`logprobsResult` (`chosenCandidates`, one per token; `topCandidates`, k alternatives per
token), made up from the text as `engine.content.logprobs` does for every vendor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.reply import Choice
from mockserver.engine.content.logprobs import token_logprobs
from mockserver.protocols.gemini.proto import pick


def requested(body: Mapping[str, Any]) -> int | None:
    """k alternatives per token (0: none) when the request asked for logprobs; else None."""
    config = pick(body, "generationConfig")
    if not isinstance(config, Mapping) or pick(config, "responseLogprobs") is not True:
        return None
    top = pick(config, "logprobs")
    return top if isinstance(top, int) and not isinstance(top, bool) else 0


def add_logprobs(candidate: dict[str, Any], choice: Choice, index: int, top: int) -> None:
    entries = token_logprobs(choice, index, top)
    if not entries:
        return
    chosen = [{"token": e.token, "logProbability": e.logprob} for e in entries]
    result: dict[str, Any] = {}
    if top:
        result["topCandidates"] = [
            {"candidates": [{"token": t, "logProbability": p} for t, p in e.top]} for e in entries
        ]
    result["chosenCandidates"] = chosen
    result["logProbabilitySum"] = round(sum(e.logprob for e in entries), 6)
    candidate["avgLogprobs"] = round(result["logProbabilitySum"] / len(entries), 6)
    candidate["logprobsResult"] = result
