"""Scenario rules for media requests (images, speech, transcriptions), decided by the same
engine as text: the request becomes a neutral `Exchange` whose last user message is its prompt
(the text to speak, the transcription prompt), so `match: {model: dall-e-3, last_user: fox}`
picks the rule. A rule's `reply.content` becomes the scripted text (a revised prompt, a
transcript), one per image with `choices:`; a `fault` answers with the vendor's error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from mockserver import faults
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, Message
from mockserver.engine import latency
from mockserver.engine.decide import retry_group
from mockserver.faults.vendor import api_key_of
from mockserver.scenario import near_misses

if TYPE_CHECKING:
    from mockserver.journal.journal import Entry
    from mockserver.protocols.dialect import Dialect
    from mockserver.scenario import LatencySpec, NearMiss
    from mockserver.server_state import MockState


class MediaPrepared(Struct):
    """What a media request's content decides, kept in the memo (`engine.memo`) so that the
    same request sent again is neither parsed nor matched again."""

    exchange: Exchange
    retry_group: str
    request: Any  # the endpoint's parsed request (e.g. `protocols.openai.images.ImageRequest`)
    body: Any  # the parsed JSON, for the journal
    near_misses: list[NearMiss] | None = None  # known once matching found no rule
    outputs: list[Any] = field(default_factory=list)  # what the endpoint derives per output


def prepare_media(
    *,
    dialect: str,
    endpoint: str,
    model: str,
    prompt: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    request: Any,
    outputs: int = 1,
) -> MediaPrepared:
    exchange = Exchange(
        dialect=dialect,
        endpoint=endpoint,
        model=model,
        messages=[Message(role="user", text=prompt)],
        body=body,
        headers=headers,
        n=outputs,
    )
    return MediaPrepared(exchange, retry_group(exchange), request, body)


class MediaDecision(Struct):
    key: str  # seeds the ids of this occurrence of the request
    created: int
    rule: str | None = None
    texts: list[str | None] = field(default_factory=list)  # scripted text per output, or None
    files: list[str | None] = field(default_factory=list)  # a file from disk per output
    # The rule's `latency:` as the latency mode applies it (a recording's timing only with
    # latency on): how the answer is paced.
    latency: LatencySpec | None = None
    # The rule's `usage:` (a recording's counts: prompt_tokens, completion_tokens), reported
    # instead of the computed ones; None: computed.
    usage: dict[str, int] | None = None

    def text(self, index: int = 0) -> str | None:
        return self.texts[index] if index < len(self.texts) else None

    def file(self, index: int = 0) -> str | None:
        """The absolute path of the rule's `file:` for this output (None: generate one)."""
        return self.files[index] if index < len(self.files) else None


def decide_media(
    state: MockState,
    dialect: Dialect,
    entry: Entry,
    *,
    endpoint: str,
    model: str,
    prompt: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    outputs: int = 1,
    content_policy: APIError | None = None,
    prepared: MediaPrepared | None = None,
) -> MediaDecision:
    """The rule answering a media request and its scripted texts (`outputs` of them). A status
    fault is raised as the vendor's `APIError`; `content_policy` is what the `content_filter`
    preset answers with (an image API refuses the prompt rather than cutting a reply).
    `prepared`: the request as the memo kept it (its exchange, retry group, near misses)."""
    if prepared is None:
        prepared = prepare_media(
            dialect=dialect.name,
            endpoint=endpoint,
            model=model,
            prompt=prompt,
            body=body,
            headers=headers,
            request=None,
            outputs=outputs,
        )
    exchange = prepared.exchange
    engine = state.engine
    forced = faults.fault_from_headers(headers) if faults.HEADER in headers else None
    entry.model = model
    if engine.rate_limiter is not None:
        _limit(state, dialect, entry, model, headers)
    try:
        decision = engine.decide(exchange, forced, prepared.retry_group, prepared.near_misses)
    except APIError as error:
        if error.code == "mock_no_matching_rule":
            entry.strict_miss = True
            entry.near_misses = [m.to_dict() for m in near_misses(engine.rules, exchange)]
        raise
    entry.rule = decision.rule
    entry.retry_group = decision.retry_group
    entry.near_misses = [m.to_dict() for m in decision.near_misses]
    if decision.rule is None and forced is None:
        prepared.near_misses = decision.near_misses  # no rule matches this content
    fault = decision.fault
    if fault is not None:
        entry.fault = faults.summarize(fault, decision.fault_source)
        if fault.preset == "content_filter" and content_policy is not None:
            raise content_policy
        if faults.is_status(fault):
            info = state.catalog.get(model)
            context = faults.ErrorContext(
                dialect, model, api_key_of(headers, {}), info.context_window if info else 0
            )
            raise faults.status_error(fault, context)
    texts: list[str | None] = [None] * outputs
    if decision.reply is not None and _writes_text(decision.reply):
        texts = _scripted_texts(state, decision, exchange)
    files: list[str | None] = []
    if decision.reply is not None:
        choices = decision.reply.alternatives()  # cycled over the outputs, as texts are
        files = [choices[index % len(choices)].file for index in range(outputs)]
    mode = latency.mode_of(state.settings.latency, state.scenarios.latency)
    paced = latency.applied(decision.latency, mode)
    stated = decision.reply.usage if decision.reply is not None else None
    usage = stated.model_dump(exclude_none=True) if stated is not None else None
    return MediaDecision(
        decision.key, decision.created, decision.rule, texts, files, paced, usage or None
    )


def _limit(
    state: MockState, dialect: Dialect, entry: Entry, model: str, headers: Mapping[str, str]
) -> None:
    """The scenario's rate limits, one request (and no tokens) per media request."""
    from mockserver.gateway import ratelimit

    limiter = state.engine.rate_limiter
    assert limiter is not None
    key = api_key_of(headers, {})
    admission = limiter.admit(key, model, 0)
    if admission is not None and admission.refusal is not None:
        refusal = admission.refusal
        entry.fault = {"source": "rate_limit", "bucket": refusal.kind, "limit": refusal.limit}
        error = dialect.rate_limit_error(refusal, model, key)
        error.headers.update(ratelimit.refusal_headers(admission))
        raise error


def _writes_text(reply: Any) -> bool:
    return any(choice.content is not None for choice in reply.alternatives())


def _scripted_texts(state: MockState, decision: Any, exchange: Exchange) -> list[str | None]:
    """The rule's content, rendered as a text reply's would be (templates, fake_tokens)."""
    from mockserver.engine.compose import build_choices
    from mockserver.tokens.tokenizer import get_tokenizer

    info = state.catalog.get(exchange.model) or state.catalog.get("gpt-4o")
    assert info is not None
    choices = build_choices(decision, exchange, info, get_tokenizer(info.encoding), False)
    return [choice.text for choice in choices]
