"""The engine: first match wins, sequences per conversation, fail_times per retry group, strict
misses naming the nearest rules, ids derived from seed + content + occurrence, reply shaping."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import msgspec
import pytest

from mockserver.core.catalog import load_builtin
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, Message, ResponseFormat, Tool, ToolChoice
from mockserver.core.reply import Reply
from mockserver.engine.decide import Engine
from mockserver.scenario import ScenarioSet, load_text
from mockserver.tokens.tokenizer import get_tokenizer

SCENARIO = """
version: 1
seed: 5
clock: 1700000000
rules:
  - name: flaky
    match: {last_user: {contains: flaky}}
    sequence:
      - fault: {status: 503}
      - reply: {content: "second"}
      - reply: {content: "third and last"}
  - name: retried
    match: {last_user: {contains: retry}}
    fail_times: 2
    fault: {preset: rate_limit}
    reply: {content: "made it"}
  - name: city
    match: {last_user: {regex: "in (?P<city>[A-Z]\\\\w+)"}, model: "gpt-4o*"}
    reply:
      content: "{{ match.city }} via {{ request.model }}"
      reasoning: "thinking about {{ match.city }}"
  - name: several
    match: {last_user: {contains: options}}
    reply:
      choices:
        - content: one
        - content: two
"""


def engine(text: str = SCENARIO, **options: object) -> Engine:
    return Engine(ScenarioSet.build([load_text(textwrap.dedent(text), "s.yaml")]), **options)  # type: ignore[arg-type]


def chat(user: str, *, model: str = "gpt-4o", system: str = "", **fields: object) -> Exchange:
    messages = [Message("system", system)] if system else []
    messages.append(Message("user", user))
    body = {"model": model, "messages": [user, system], **msgspec.to_builtins(fields)}
    return Exchange("openai.chat", "/v1/chat/completions", model, messages, body, **fields)  # type: ignore[arg-type]


def compose(eng: Engine, exchange: Exchange, *, implicit: bool = True) -> Reply:
    model = load_builtin().get(exchange.model)
    assert model is not None
    tokenizer = get_tokenizer(model.encoding)
    decision = eng.decide(exchange)
    return eng.compose(decision, exchange, model, tokenizer, 10, implicit_reasoning=implicit)


def test_sequence_walks_per_conversation_and_repeats_its_last_step() -> None:
    eng = engine()
    steps = [eng.decide(chat("flaky please")) for _ in range(4)]
    assert steps[0].fault is not None and steps[0].fault.status == 503
    assert [s.reply is not None for s in steps[1:]] == [True, True, True]
    assert steps[2].reply == steps[3].reply  # the last step repeats
    other = eng.decide(chat("flaky please", system="another conversation"))
    assert other.fault is not None  # a different conversation starts at the first step


def test_a_sequence_of_tasks_answers_the_nth_identical_submission_with_the_nth() -> None:
    eng = engine("""
        version: 1
        rules:
          - name: upscales
            match: {model: mj_upscale}
            sequence:
              - task: {id: "first", stages: [SUBMITTED]}
              - task: {id: "second", stages: [IN_PROGRESS], fail_at: IN_PROGRESS}
        """)  # fmt: skip
    koi = [Message("user", "koi")]
    submission = Exchange("midjourney", "/mj/submit/action", "mj_upscale", koi, {})
    tasks = [eng.decide(submission).task for _ in range(3)]
    assert [task.id if task else None for task in tasks] == ["first", "second", "second"]
    assert tasks[1] is not None and tasks[1].fail_at == "IN_PROGRESS"


def test_fail_times_counts_attempts_per_retry_group() -> None:
    eng = engine()
    attempts = [eng.decide(chat("retry me")) for _ in range(3)]
    assert [a.fault is not None for a in attempts] == [True, True, False]
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert len({a.retry_group for a in attempts}) == 1
    assert eng.decide(chat("retry something else")).fault is not None  # a new call starts fresh
    eng.reset()
    assert eng.decide(chat("retry me")).fault is not None


def test_ids_derive_from_seed_content_and_occurrence() -> None:
    a, b = engine(), engine()
    first, again = a.decide(chat("hello")), a.decide(chat("hello"))
    assert (first.key, first.created) == (b.decide(chat("hello")).key, 1700000000)
    assert again.key != first.key and again.created == 1700000001
    assert engine(seed=6).decide(chat("hello")).key != first.key


def test_template_variables_and_reasoning_for_reasoning_models_only() -> None:
    eng = engine()
    reply = compose(eng, chat("weather in Paris", model="gpt-4o"))
    assert reply.rule == "city"
    assert reply.choices[0].text == "Paris via gpt-4o"
    assert reply.choices[0].reasoning is None  # gpt-4o does not reason
    assert reply.usage.reasoning_tokens == 0
    assert reply.usage.completion_tokens == get_tokenizer("o200k_base").count("Paris via gpt-4o")


def test_strict_miss_names_the_nearest_rules_and_failed_predicates() -> None:
    with pytest.raises(APIError) as info:
        engine(strict=True).decide(chat("weather in paris", model="gpt-4o"))
    message = info.value.message
    assert info.value.status == 400 and "no scenario rule matches" in message
    assert "'city' failed on last_user" in message


def test_choices_cycle_for_n() -> None:
    reply = compose(engine(), chat("options", n=3))
    assert [c.text for c in reply.choices] == ["one", "two", "one"]


def test_default_reply_fake_text_length_json_and_forced_tools() -> None:
    eng = engine("version: 1\n")
    text = compose(eng, chat("anything at all", max_tokens=7))
    assert text.choices[0].finish_reason == "length" and text.choices[0].completion_tokens == 7
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["n", "tags"],
        "additionalProperties": False,
    }
    structured = compose(
        eng, chat("json please", response_format=ResponseFormat("json_schema", schema, "x"))
    )
    jsonschema.validate(json.loads(structured.choices[0].text or ""), schema)
    tool = Tool(
        "lookup",
        parameters={"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    )
    forced = compose(eng, chat("go", tools=[tool], tool_choice=ToolChoice("function", "lookup")))
    call = forced.choices[0].tool_calls[0]
    assert call.name == "lookup" and "q" in json.loads(call.arguments)
    assert call.id.startswith("call_") and len(call.id) == 29
    assert forced.choices[0].finish_reason == "tool_calls"
    reasoning = compose(eng, chat("think", model="o3"))
    assert reasoning.usage.reasoning_tokens > 0
    assert reasoning.usage.completion_tokens > reasoning.usage.reasoning_tokens


def test_stop_sequences_cut_before_the_stop_string() -> None:
    reply = compose(engine(), chat("weather in Rome", stop=[" via"]))
    assert reply.choices[0].text == "Rome"
    assert reply.choices[0].stop_sequence == " via"


def test_known_near_misses_mean_matching_is_skipped() -> None:
    eng = engine()
    exchange = chat("weather in Paris")
    assert eng.decide(exchange).rule == "city"
    # The memo passes near misses only for an exchange no rule matched: the rules aren't tried.
    decision = eng.decide(exchange, misses=[])
    assert decision.rule is None and decision.near_misses == []
    assert eng.decide(chat("nothing scripted")).near_misses  # computed when not given
