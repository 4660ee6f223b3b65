"""A task submission meets the scenario like any request: it becomes a neutral `Exchange`
(model, the prompt as the user's message, the body), the engine picks the rule, and the rule's
`task:` scripts the task — or its `fault:` answers the submission with an error.

    decision = decide(state, "video", "/v1/videos", "sora-2", "a cat", body, headers)
    task = new_task(decision, family="video", action="generate", ..., defaults=VIDEO_STAGES)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mockserver import faults
from mockserver.core.exchange import Exchange, Message
from mockserver.tasks import lifecycle
from mockserver.tasks.task import Task

if TYPE_CHECKING:
    from mockserver.engine.decide import Decision
    from mockserver.journal.journal import Entry
    from mockserver.server_state import MockState


def decide(
    state: MockState,
    family: str,
    endpoint: str,
    model: str,
    prompt: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    entry: Entry | None = None,
) -> Decision:
    """The engine's decision for a submission; a status fault (the rule's or chaos') is raised
    as the gateway's `APIError`, for the family to word."""
    exchange = Exchange(
        dialect=family,
        endpoint=endpoint,
        model=model,
        messages=[Message("user", prompt)],
        body=body,
        headers=headers,
    )
    decision = state.engine.decide(exchange)  # `x-mock-fault` was applied by the endpoint
    if entry is not None:
        entry.rule, entry.retry_group = decision.rule, decision.retry_group
        entry.near_misses = [m.to_dict() for m in decision.near_misses]
    if decision.fault is not None:
        if entry is not None:
            entry.fault = faults.summarize(decision.fault, decision.fault_source)
        context = faults.ErrorContext(state.dialects.rerank, model)  # the gateway's words
        raise faults.status_error(faults.in_stream_error_spec(decision.fault), context)
    return decision


def new_task(
    decision: Decision,
    *,
    task_id: str,
    family: str,
    action: str,
    model: str,
    prompt: str,
    defaults: Sequence[str],
    params: dict[str, Any] | None = None,
    callback_url: str | None = None,
) -> Task:
    """The task a decision scripts (the family's `defaults` stages when no rule says);
    `callback_url` (the request's hook) is kept when the script asks for callbacks."""
    spec = decision.task
    calls_back = spec is not None and spec.callbacks and bool(callback_url)
    params = dict(params or {})
    if spec is not None and spec.file is not None:
        params["file"] = spec.file  # a recorded task's artifact, served as it was downloaded
    if spec is not None and spec.files is not None:
        params["file"], params["files"] = spec.files[0], list(spec.files)
    if spec is not None and spec.wavs is not None:
        params["wavs"] = list(spec.wavs)  # Suno's clips' WAV, as recorded
    return Task(
        id=spec.id if spec is not None and spec.id is not None else task_id,
        family=family,
        action=action,
        model=model,
        prompt=prompt,
        key=decision.key,
        created=decision.created,
        stages=lifecycle.plan(spec, defaults),
        advance=spec.advance if spec is not None else "poll",
        reason=spec.reason if spec is not None else "",
        code=spec.code if spec is not None else "",
        poll_after_ms=spec.poll_after_ms if spec is not None else 0,
        rule=decision.rule,
        params=params,
        callback_url=callback_url if calls_back else None,
        callback_retries=spec.callback_retries if spec is not None and calls_back else 0,
    )
