"""Legacy Completions in-process: the four prompt shapes, parameters and the API's rejections,
prompt-major choice numbering, echo, best_of, logprobs, the stream, and validity against the spec,
the openai SDK types and the SDK's own stream reader."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest
from openai.types import Completion

from mockserver.core.catalog import load_builtin
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice, Reply, Usage
from mockserver.protocols.dialect import Inbound
from mockserver.protocols.openai.completions import CompletionsDialect
from mockserver.protocols.openai.completions_prompt import INVALID_PROMPT
from mockserver.tokens.tokenizer import get_tokenizer
from tests.openapi_spec import validate

AUTH = {"authorization": "Bearer sk-test"}
MODEL = "gpt-3.5-turbo-instruct"
TOKENIZER = get_tokenizer("cl100k_base")
dialect = CompletionsDialect()


def parse(body: Any, headers: dict[str, str] | None = None) -> list[Exchange]:
    inbound = Inbound("/v1/completions", headers=AUTH if headers is None else headers)
    return dialect.parse_prompts(body, inbound)


def rejected(body: Any, headers: dict[str, str] | None = None) -> APIError:
    with pytest.raises(APIError) as caught:
        parse(body, headers)
    return caught.value


def reply_for(exchange: Exchange, *texts: str, finish: str = "stop", key: str = "k") -> Reply:
    """A reply as the engine would shape it: pieces on token boundaries, exact counts."""
    choices = [
        Choice(
            text=text,
            finish_reason=finish,  # type: ignore[arg-type]
            text_pieces=TOKENIZER.pieces(text),
            completion_tokens=TOKENIZER.count(text),
        )
        for text in texts
    ]
    usage = Usage(
        prompt_tokens=dialect.prompt_tokens(exchange, TOKENIZER),
        completion_tokens=sum(c.completion_tokens for c in choices),
    )
    return Reply(
        choices,
        key=f"{key}:{exchange.messages[0].text}",
        created=1700000000,
        fingerprint="fp_abc",
        usage=usage,
    )


def spec_view(chunk: dict[str, Any]) -> dict[str, Any]:
    """A stream chunk as the spec can check it. The spec says chunks share the non-stream shape,
    but live streams carry `finish_reason: null` until the end and `usage: null` with
    include_usage (as chat chunks do); those two nulls are the only liberties taken."""
    view = {k: v for k, v in chunk.items() if not (k == "usage" and v is None)}
    view["choices"] = [
        c | {"finish_reason": c["finish_reason"] or "stop"} for c in chunk["choices"]
    ]
    return view


def events(frames: list[bytes]) -> list[Any]:
    assert all(f.startswith(b"data: ") and f.endswith(b"\n\n") for f in frames)
    assert frames[-1] == b"data: [DONE]\n\n"
    return [json.loads(f[6:]) for f in frames[:-1]]


def test_a_string_prompt_with_the_documented_defaults() -> None:
    (exchange,) = parse({"model": MODEL, "prompt": "Say this is a test"})
    assert exchange.messages[0].role == "user" and exchange.messages[0].text == "Say this is a test"
    assert exchange.max_tokens == 16 and exchange.n == 1 and not exchange.stream
    assert dialect.prompt_tokens(exchange, TOKENIZER) == 5  # no chat framing


def test_every_prompt_shape_gives_one_exchange_per_prompt() -> None:
    ids = TOKENIZER.encode("Hello world")
    assert [e.messages[0].text for e in parse({"model": MODEL, "prompt": ["a", "b"]})] == ["a", "b"]
    (by_ids,) = parse({"model": MODEL, "prompt": ids})
    assert by_ids.messages[0].text == "Hello world" and by_ids.body["prompt"] == ids
    assert dialect.prompt_tokens(by_ids, TOKENIZER) == len(ids)
    nested = parse({"model": MODEL, "prompt": [ids, [9906]]})
    assert [e.messages[0].text for e in nested] == ["Hello world", "Hello"]
    assert parse({"model": MODEL, "prompt": None})[0].messages[0].text == ""


def test_parameters_reach_the_exchange() -> None:
    (exchange,) = parse(
        {
            "model": MODEL,
            "prompt": "x",
            "max_tokens": 0,
            "n": 2,
            "best_of": 3,
            "stop": ["\n", "END"],
            "seed": 7,
            "temperature": 0,
            "echo": True,
            "suffix": "tail",
            "logprobs": 5,
            "user": "u",
            "logit_bias": {"50256": -100},
            "a_future_field": 1,
        }
    )
    assert (exchange.max_tokens, exchange.n, exchange.stop, exchange.seed) == (
        0,
        3,
        ["\n", "END"],
        7,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": MODEL}, "Missing required parameter: 'prompt'."),
        ({"prompt": "x"}, "you must provide a model parameter"),
        (
            {"model": MODEL, "prompt": []},
            "Invalid 'prompt': empty array. Expected an array with "
            "minimum length 1, but got an empty array instead.",
        ),
        ({"model": MODEL, "prompt": ["a", 1]}, INVALID_PROMPT),
        ({"model": MODEL, "prompt": [[1], []]}, INVALID_PROMPT),
        ({"model": MODEL, "prompt": {"text": "x"}}, INVALID_PROMPT),
        (
            {"model": MODEL, "prompt": "x", "logprobs": 6},
            "Invalid 'logprobs': integer above maximum "
            "value. Expected a value <= 5, but got 6 instead.",
        ),
        (
            {"model": MODEL, "prompt": "x", "logprobs": True},
            "Invalid type for 'logprobs': expected an integer, but got a boolean instead.",
        ),
        (
            {"model": MODEL, "prompt": "x", "n": 3, "best_of": 2},
            "best_of must be greater than or equal to n, but got best_of=2 and n=3.",
        ),
        (
            {"model": MODEL, "prompt": "x", "best_of": 2, "stream": True},
            "Cannot stream results with best_of > 1.",
        ),
        (
            {"model": MODEL, "prompt": "x", "stream_options": {"include_usage": True}},
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        ),
        (
            {"model": MODEL, "prompt": "x", "max_tokens": -1},
            "Invalid 'max_tokens': integer below "
            "minimum value. Expected a value >= 0, but got -1 instead.",
        ),
        (
            {"model": MODEL, "prompt": "x", "stop": ["1", "2", "3", "4", "5"]},
            "Invalid 'stop': array "
            "too long. Expected an array with maximum length 4, but got an array with length 5 "
            "instead.",
        ),
        (
            {"model": MODEL, "prompt": [100277]},
            "Invalid token in prompt: 100277. Minimum value is 0, "
            "maximum value is 100276 (inclusive).",
        ),
    ],
)
def test_rejections_use_the_api_wording(body: dict[str, Any], message: str) -> None:
    error = rejected(body)
    assert (error.status, error.message, error.type) == (400, message, "invalid_request_error")


def test_a_missing_key_is_401() -> None:
    assert rejected({"model": MODEL, "prompt": "x"}, headers={}).status == 401


def test_render_a_single_prompt() -> None:
    (exchange,) = parse({"model": MODEL, "prompt": "Say this is a test"})
    body = dialect.render(
        reply_for(exchange, "\n\nThis is indeed a test", finish="length"), exchange
    )
    validate("CreateCompletionResponse", body)
    Completion.model_validate(body)
    assert body["object"] == "text_completion"
    assert body["id"].startswith("cmpl-") and len(body["id"]) == 5 + 29
    assert body["choices"] == [
        {
            "text": "\n\nThis is indeed a test",
            "index": 0,
            "logprobs": None,
            "finish_reason": "length",
        }
    ]
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}
    assert body["system_fingerprint"] == "fp_abc" and body["model"] == MODEL


def test_several_prompts_are_numbered_prompt_major() -> None:
    exchanges = parse({"model": MODEL, "prompt": ["one", "two"], "n": 2})
    replies = [
        reply_for(e, f"{e.messages[0].text} a", f"{e.messages[0].text} b") for e in exchanges
    ]
    body = dialect.render_many(replies, exchanges)
    validate("CreateCompletionResponse", body)
    assert [(c["index"], c["text"]) for c in body["choices"]] == [
        (0, "one a"),
        (1, "one b"),
        (2, "two a"),
        (3, "two b"),
    ]
    assert body["usage"]["prompt_tokens"] == 2
    assert body["usage"]["completion_tokens"] == sum(r.usage.completion_tokens for r in replies)


def test_best_of_returns_n_choices_and_bills_every_candidate() -> None:
    (exchange,) = parse({"model": MODEL, "prompt": "x", "n": 1, "best_of": 3})
    reply = reply_for(exchange, "first", "second one", "third one here")
    body = dialect.render(reply, exchange)
    assert [c["text"] for c in body["choices"]] == ["first"]
    assert body["usage"]["completion_tokens"] == reply.usage.completion_tokens > 1


def test_echo_prepends_the_prompt_and_suffix_changes_nothing() -> None:
    (exchange,) = parse({"model": MODEL, "prompt": "Once upon", "echo": True, "suffix": "END"})
    body = dialect.render(reply_for(exchange, " a time"), exchange)
    assert body["choices"][0]["text"] == "Once upon a time"


def test_logprobs_are_plausible_and_offsets_count_from_the_prompt() -> None:
    (exchange,) = parse({"model": MODEL, "prompt": "Hello", "logprobs": 3})
    body = dialect.render(reply_for(exchange, " there, friend"), exchange)
    validate("CreateCompletionResponse", body)
    Completion.model_validate(body)
    lp = body["choices"][0]["logprobs"]
    assert lp["tokens"] == [" there", ",", " friend"]
    assert lp["text_offset"] == [5, 11, 12]
    assert all(v < 0 for v in lp["token_logprobs"])
    for token, value, top in zip(
        lp["tokens"], lp["token_logprobs"], lp["top_logprobs"], strict=True
    ):
        assert top[token] == value and 3 <= len(top) <= 4
        assert sum(2.718281828459045**x for x in top.values()) <= 1.0 + 1e-9
    assert body == dialect.render(reply_for(exchange, " there, friend"), exchange)


def test_echo_with_logprobs_scores_the_prompt_tokens_first_one_null() -> None:
    request = {
        "model": MODEL,
        "prompt": "Hello world",
        "logprobs": 0,
        "echo": True,
        "max_tokens": 0,
    }
    (exchange,) = parse(request)
    body = dialect.render(reply_for(exchange, "", finish="length"), exchange)
    lp = body["choices"][0]["logprobs"]
    assert lp["tokens"] == ["Hello", " world"] and lp["text_offset"] == [0, 5]
    # The live API sends null for the first prompt token (nothing precedes it); the spec and the
    # SDK's strict model say "number", but the SDK parses leniently and hands the None through.
    assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None
    assert list(lp["top_logprobs"][1]) == [" world"]  # logprobs=0: the sampled token only
    completion = sdk_client().completions.create(
        model=MODEL, prompt="Hello world", logprobs=0, echo=True, max_tokens=0
    )
    assert completion.choices[0].logprobs is not None
    assert completion.choices[0].logprobs.token_logprobs == lp["token_logprobs"]


def test_stream_chunks_finish_usage_and_done() -> None:
    (exchange,) = parse(
        {"model": MODEL, "prompt": "Hi", "stream": True, "stream_options": {"include_usage": True}}
    )
    reply = reply_for(exchange, "Hello there!")
    chunks = events(dialect.render_stream(reply, exchange))
    for chunk in chunks:
        validate("CreateCompletionResponse", spec_view(chunk))
        assert chunk["object"] == "text_completion" and chunk["id"] == chunks[0]["id"]
    texts = [c["choices"][0]["text"] for c in chunks[:-1]]
    assert texts == ["Hello", " there", "!", ""]
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]] == [None, None, None, "stop"]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 1 + 3


def test_stream_without_usage_and_with_several_prompts_interleaves_choices() -> None:
    exchanges = parse({"model": MODEL, "prompt": ["a", "b"], "stream": True})
    replies = [reply_for(e, "x y") for e in exchanges]
    chunks = events(dialect.render_stream_many(replies, exchanges))
    assert all("usage" not in c for c in chunks)
    assert [c["choices"][0]["index"] for c in chunks] == [0, 1, 0, 1, 0, 1]


def test_stream_logprobs_and_echo_match_the_non_stream_body() -> None:
    request = {"model": MODEL, "prompt": "Hello", "logprobs": 2, "echo": True}
    (plain,) = parse(request)
    (streamed,) = parse(request | {"stream": True})
    whole = dialect.render(reply_for(plain, " big world"), plain)["choices"][0]
    chunks = events(dialect.render_stream(reply_for(streamed, " big world"), streamed))
    assert "".join(c["choices"][0]["text"] for c in chunks) == whole["text"]
    joined: dict[str, list[Any]] = {
        "tokens": [],
        "token_logprobs": [],
        "top_logprobs": [],
        "text_offset": [],
    }
    for chunk in chunks[:-1]:
        for name, values in chunk["choices"][0]["logprobs"].items():
            joined[name] += values
    assert joined == whole["logprobs"]
    assert chunks[0]["choices"][0]["text"] == "Hello"


def sdk_client() -> openai.OpenAI:
    """The real openai client, answered in-process by the dialect (one reply per prompt)."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        inbound = Inbound("/v1/completions", headers=dict(request.headers.items()))
        exchanges = dialect.parse_prompts(body, inbound)
        count = max(body.get("n") or 1, body.get("best_of") or 1)
        text = "" if body.get("max_tokens") == 0 else "streamed text"
        replies = [reply_for(e, *[text] * count) for e in exchanges]
        if exchanges[0].stream:
            content = b"".join(dialect.render_stream_many(replies, exchanges))
            return httpx2.Response(
                200, content=content, headers={"content-type": "text/event-stream"}
            )
        return httpx2.Response(200, json=dialect.render_many(replies, exchanges))

    return openai.OpenAI(
        api_key="sk-test",
        base_url="http://mock/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )


def test_the_openai_sdk_streams_and_parses_completions() -> None:
    client = sdk_client()
    stream = client.completions.create(model=MODEL, prompt="go", stream=True)
    assert "".join(chunk.choices[0].text for chunk in stream) == "streamed text"
    result = client.completions.create(model=MODEL, prompt=["a", "b"], n=2)
    assert [c.index for c in result.choices] == [0, 1, 2, 3]


def test_context_errors_use_the_completions_wording() -> None:
    error = dialect.context_exceeded(4097, 4066, 256)
    assert error.message == (
        "This model's maximum context length is 4097 tokens, however you requested 4322 tokens "
        "(4066 in your prompt; 256 for the completion). Please reduce your prompt; or completion "
        "length."
    )
    assert dialect.render_error(error)["error"]["code"] == "context_length_exceeded"


def test_chat_models_are_pointed_to_the_chat_endpoint() -> None:
    chat, instruct = load_builtin().get("gpt-4o"), load_builtin().get(MODEL)
    assert chat is not None and instruct is not None
    dialect.check_model(instruct)
    with pytest.raises(APIError) as caught:
        dialect.check_model(chat)
    assert (caught.value.status, caught.value.param) == (404, "model")
    assert caught.value.message.startswith("This is a chat model and not supported")
