"""Turn the engine's decision into neutral choices: scripted replies rendered, or the default.

The built-in default answers anything plausibly and deterministically: a forced tool call with
schema-valid arguments, a schema-valid JSON document when a JSON response format is asked for,
otherwise 20-60 tokens of fake prose (cut to `max_tokens`, finish reason "length", when the
request allows fewer). Reasoning text is added for reasoning models.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.core.hosted import CODE_EXECUTION, URL_CONTEXT
from mockserver.core.model_families import thinking_suffix_budget
from mockserver.core.reply import Choice
from mockserver.core.search import WEB_SEARCH
from mockserver.engine.content.prose import default_reply_length, fake_pieces, fake_text
from mockserver.engine.content.templates import TemplateRenderError
from mockserver.scenario import template_context

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.engine.decide import Decision
    from mockserver.scenario import ChoiceSpec, ReplySpec
    from mockserver.tokens.tokenizer import Tokenizer

# Reasoning tokens a default reply spends per effort level (OpenAI's words; budgets cap them).
REASONING_BY_EFFORT = {"low": 48, "medium": 128, "high": 320, "xhigh": 512}
NO_REASONING = ("none", "minimal")


def build_choices(
    decision: Decision,
    exchange: Exchange,
    model: ModelInfo,
    tokenizer: Tokenizer,
    implicit_reasoning: bool,
) -> list[Choice]:
    reasons = wants_reasoning(exchange, model, implicit_reasoning)
    choices: list[Choice] = []
    specs = _choice_specs(decision.reply, exchange.n)
    context = template_context(exchange, decision.variables) if decision.reply else {}
    # A request `seed` makes the content repeat for the same request (OpenAI's best-effort
    # determinism); ids still come from the reply key, new on every occurrence.
    seeded = (
        ids.digest("seed", exchange.seed, decision.retry_group)
        if exchange.seed is not None
        else decision.key
    )
    for index in range(exchange.n):
        key = decision.key if index == 0 else ids.digest(decision.key, "choice", index)
        content_key = seeded if index == 0 else ids.digest(seeded, "choice", index)
        spec = specs[index] if specs else None
        if spec is None:
            choice = default_choice(exchange, content_key, tokenizer)
        else:
            try:
                choice = scripted_choice(spec, context, exchange, content_key, tokenizer)
            except TemplateRenderError as error:
                raise template_failed(decision.rule, error) from None
        if not reasons:
            choice.reasoning = None
        elif choice.reasoning is None and spec is None:
            choice.reasoning = fake_text(
                ids.digest(content_key, "reasoning"), reasoning_length(exchange), tokenizer
            )
        if WEB_SEARCH in exchange.server_tools and choice.text and not choice.tool_calls:
            from mockserver.engine.content.web_search import search_for  # offered: on demand

            choice.search = search_for(exchange, spec)
        if exchange.server_tools and not choice.tool_calls:
            hosted_tools(choice, exchange, spec)
        for call_index, call in enumerate(choice.tool_calls):
            if not call.id:
                call.id = ids.derive_id(key, "call", 24, label=f"call{call_index}")
        choices.append(choice)
    return choices


def hosted_tools(choice: Choice, exchange: Exchange, spec: ChoiceSpec | None) -> None:
    """Code runs and page reads of the hosted tools the request offers."""
    from mockserver.engine.content import hosted_tools as hosted  # offered: on demand

    if CODE_EXECUTION in exchange.server_tools:
        choice.code_runs = hosted.code_runs_for(exchange, spec)
    if URL_CONTEXT in exchange.server_tools:
        choice.url_fetches = hosted.url_fetches_for(exchange, spec)


def template_failed(rule: str | None, error: TemplateRenderError) -> APIError:
    """A reply template that failed on this request: the vendor's 500, naming the rule."""
    return APIError(
        500,
        f"mockserver: the reply template of rule {rule!r} failed on this request: {error}",
        type="server_error",
        code="mock_template_error",
    )


def wants_reasoning(exchange: Exchange, model: ModelInfo, implicit: bool) -> bool:
    """Whether the reply thinks: as the request asks, else as the model does unasked
    (`reasons_by_default`) or as its vendor's own route does (`implicit`: Gemini's). A model
    that can't think doesn't, whatever the request says."""
    if not model.reasoning:
        return False
    if exchange.reasoning_budget is not None:
        return exchange.reasoning_budget > 0
    if exchange.reasoning_effort is not None:
        return exchange.reasoning_effort not in NO_REASONING
    return model.reasons_by_default or implicit


def reasoning_length(exchange: Exchange) -> int:
    length = REASONING_BY_EFFORT.get(exchange.reasoning_effort or "medium", 128)
    if exchange.reasoning_budget is not None:
        length = min(length, exchange.reasoning_budget)
    suffix_budget = thinking_suffix_budget(exchange.model)  # "-thinking-<budget>"
    if suffix_budget is not None:
        length = min(length, suffix_budget)
    return length


def _choice_specs(reply: ReplySpec | None, n: int) -> list[ChoiceSpec]:
    """One spec per requested choice: scripted `choices` in order (cycling), else the reply."""
    if reply is None:
        return []
    alternatives = reply.alternatives()
    return [alternatives[i % len(alternatives)] for i in range(n)]


def depends_on_key(reply: ReplySpec | None, n: int) -> bool:
    """Whether the choices composed for `reply` change with the reply key, i.e. from one
    occurrence of a request to the next: fake prose, default text and generated tool-call ids
    do; literal text, templates (they see only the request) and scripted ids don't."""
    if reply is None:
        return True
    for spec in _choice_specs(reply, n):
        if _is_fake(spec.content) or _is_fake(spec.reasoning):
            return True
        if any(not call.id for call in spec.tool_calls):
            return True
        says_nothing = spec.content is None and spec.json_ is None and spec.refusal is None
        if says_nothing and not spec.tool_calls:
            return True  # answered with the default text
    return False


def _is_fake(value: Any) -> bool:
    return getattr(value, "fake_tokens", None) is not None


def scripted_choice(
    spec: ChoiceSpec, context: dict[str, Any], exchange: Exchange, key: str, tokenizer: Tokenizer
) -> Choice:
    choice = Choice()
    if spec.content is not None:
        choice.text = _text(spec.content, context, key, tokenizer)
    if spec.json_ is not None:
        choice.text = json.dumps(spec.json_.render(context), ensure_ascii=False)
        choice.is_json = True
    if spec.reasoning is not None:
        choice.reasoning = _text(spec.reasoning, context, ids.digest(key, "reasoning"), tokenizer)
    if spec.reasoning_redacted:
        choice.reasoning_redacted = True
        if choice.reasoning is None:  # what is redacted still took thinking
            choice.reasoning = fake_text(ids.digest(key, "reasoning"), 64, tokenizer)
    if spec.refusal is not None:
        choice.refusal = spec.refusal.render(context)
    choice.tool_calls = [
        ToolCall(call.id or "", call.name, _call_payload(call, context)) for call in spec.tool_calls
    ]
    if choice.text is None and not choice.tool_calls and choice.refusal is None:
        # A reply that scripts only reasoning or a finish reason still answers something.
        choice.text = _default_text(exchange, key, tokenizer)
    choice.file = spec.file
    if spec.finish_reason is not None:
        choice.finish_reason = spec.finish_reason
    elif choice.tool_calls:
        choice.finish_reason = "tool_calls"
    return choice


def _call_payload(call: Any, context: dict[str, Any]) -> str:
    """A scripted call's arguments as JSON text, or a custom tool's `input` as it is."""
    if call.input is not None:
        return str(call.input.render(context))
    return json.dumps(call.arguments.render(context), ensure_ascii=False)


def default_choice(exchange: Exchange, key: str, tokenizer: Tokenizer) -> Choice:
    forced = exchange.tool_choice
    tool = None
    if forced.mode == "function" and forced.name:
        tool = exchange.tool_named(forced.name)
    elif forced.mode == "required" and exchange.tools:
        tool = exchange.tools[0]
    if tool is not None:
        from mockserver.engine.content.schema_instance import (
            instance_for,
        )  # made-up arguments only: on demand

        arguments = instance_for(tool.parameters or {"type": "object"}, ids.digest(key, "args"))
        call = ToolCall("", tool.name, json.dumps(arguments, ensure_ascii=False))
        return Choice(tool_calls=[call], finish_reason="tool_calls")
    if exchange.response_format.type == "text":
        # Pieces past max_tokens would be cut anyway: one more tells shaping to cut.
        needed = None if exchange.max_tokens is None else exchange.max_tokens + 1
        pieces = fake_pieces(key, default_reply_length(key, None), tokenizer, needed=needed)
        return Choice(text="".join(pieces), text_pieces=pieces, pieces_are_tokens=True)
    return Choice(text=_default_text(exchange, key, tokenizer), is_json=_is_json(exchange))


def _default_text(exchange: Exchange, key: str, tokenizer: Tokenizer) -> str:
    fmt = exchange.response_format
    if fmt.type == "json_schema":
        from mockserver.engine.content.schema_instance import instance_for

        return json.dumps(instance_for(fmt.schema or {}, key), ensure_ascii=False)
    if fmt.type == "json_object":
        answer = fake_text(key, default_reply_length(key, None), tokenizer)
        return json.dumps({"answer": answer}, ensure_ascii=False)
    return fake_text(key, default_reply_length(key, None), tokenizer)


def _is_json(exchange: Exchange) -> bool:
    return exchange.response_format.type in ("json_schema", "json_object")


def _text(value: Any, context: dict[str, Any], key: str, tokenizer: Tokenizer) -> str:
    """A scripted text: a compiled template, or a `{fake_tokens: N}` request for fake prose."""
    if _is_fake(value):
        return fake_text(key, int(value.fake_tokens), tokenizer)
    return str(value.render(context))
