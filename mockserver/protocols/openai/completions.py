"""OpenAI legacy Completions: `POST /v1/completions` (gpt-3.5-turbo-instruct, davinci-002...).

`prompt` may be a string, an array of strings, an array of token ids or an array of token-id
arrays (read by `completions_prompt`). Each prompt is its own `Exchange` (`parse_prompts`), the
engine answers each once, and `render_many` / `render_stream_many` put the answers into ONE
`text_completion` whose choices are numbered prompt-major, as the API does: prompt i, choice j
-> index i·n + j. `parse`, `render` and `render_stream` are the one-prompt case, so the generic
pipeline serves single prompts as is.

- `max_tokens` defaults to 16, like the API. `best_of` candidates are generated (`Exchange.n`
  is best_of, so usage bills them all, as the API does) and the first `n` are returned.
- `echo` prepends the prompt text to every choice; `suffix` is accepted and ignored (the
  returned text is the same with or without it).
- `logprobs: k` (0..5) adds deterministic, plausible log probabilities for every token piece
  (made in `completions_logprobs`):
  `text_offset` counts from the start of the prompt, and with `echo` the prompt's tokens come
  first, the first one with a null logprob.
- The stream sends one `text_completion` chunk per token piece, then one chunk per choice with
  an empty text and the finish reason, then the usage chunk (`choices: []`) when
  `stream_options.include_usage` is set, then `data: [DONE]`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, Message
from mockserver.core.model_families import vendor_of
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.dialect import Dialect, Inbound
from mockserver.protocols.openai import validation as v
from mockserver.protocols.openai.chat import DONE, ChatDialect, openai_headers
from mockserver.protocols.openai.chat_render import interleave
from mockserver.protocols.openai.completions_logprobs import (
    synth_logprobs,
)
from mockserver.protocols.openai.completions_prompt import (
    prompt_text,
    split_prompts,
)

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.tokens.tokenizer import Tokenizer

DEFAULT_MAX_TOKENS = 16
_CHAT = ChatDialect()


def _builtin_encoding(model: str) -> str:
    from mockserver.core.catalog import load_builtin

    return load_builtin().encoding_for(model)


class CompletionsDialect(Dialect):
    name: ClassVar[str] = "openai.completions"

    def __init__(self, encoding_for: Callable[[str], str] = _builtin_encoding) -> None:
        # Token-id prompts are decoded, and echoed prompts cut into pieces, with the model's
        # tokenizer; `encoding_for` names it (the built-in catalog unless told otherwise).
        self.encoding_for = encoding_for

    def tokenizer(self, model: str) -> Tokenizer:
        from mockserver.tokens.tokenizer import get_tokenizer

        return get_tokenizer(self.encoding_for(model))

    def parse(self, body: Any, inbound: Inbound) -> Exchange:
        """The first prompt's exchange (the only one unless `prompt` is an array of prompts)."""
        return self.parse_prompts(body, inbound)[0]

    def parse_prompts(self, body: Any, inbound: Inbound) -> list[Exchange]:
        """One Exchange per prompt; each carries the body with `prompt` set to its own prompt."""
        v.require_bearer(inbound.headers)
        body = v.expect_object(body)
        model = v.typed(body, "model", "string")
        if not model:
            raise v.bad("you must provide a model parameter", None, None)
        if "prompt" not in body:
            raise v.missing("prompt")
        prompts = split_prompts(body["prompt"])
        n = v.typed(body, "n", "integer")
        v.in_range(n, "n", minimum=1, maximum=128, integer=True)
        best_of = v.typed(body, "best_of", "integer")
        v.in_range(best_of, "best_of", minimum=0, maximum=20, integer=True)
        n = n or 1
        stream = bool(v.typed(body, "stream", "boolean"))
        if best_of is not None:
            _check_best_of(n, best_of, stream)
        best_of = max(n, best_of or 1)
        if v.typed(body, "stream_options", "object") is not None and not stream:
            raise v.bad(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
                None,
            )
        max_tokens = v.typed(body, "max_tokens", "integer")
        v.in_range(max_tokens, "max_tokens", minimum=0, integer=True)
        v.in_range(
            v.typed(body, "logprobs", "integer"), "logprobs", minimum=0, maximum=5, integer=True
        )
        v.in_range(v.typed(body, "temperature", "number"), "temperature", minimum=0, maximum=2)
        v.in_range(v.typed(body, "top_p", "number"), "top_p", minimum=0, maximum=1)
        for penalty in ("frequency_penalty", "presence_penalty"):
            v.in_range(v.typed(body, penalty, "number"), penalty, minimum=-2, maximum=2)
        for key, kind in (("echo", "boolean"), ("suffix", "string"), ("user", "string")):
            v.typed(body, key, kind)
        v.typed(body, "logit_bias", "object")
        seed = v.typed(body, "seed", "integer")
        stop = v.string_list(body.get("stop"), "stop", limit=4)
        tokenizer = self.tokenizer(model) if any(isinstance(p, list) for p in prompts) else None
        return [
            Exchange(
                dialect=self.name,
                endpoint=inbound.path,
                model=model,
                messages=[Message(role="user", text=prompt_text(prompt, tokenizer))],
                body={**body, "prompt": prompt},
                headers=inbound.headers,
                stream=stream,
                n=max(n, best_of),
                max_tokens=DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens,
                stop=stop,
                seed=seed,
            )
            for prompt in prompts
        ]

    def prompt_tokens(self, exchange: Exchange, tokenizer: Tokenizer) -> int:
        """Plain tokens of the prompt, no chat framing; a token-id prompt counts its ids."""
        prompt = exchange.body.get("prompt")
        if isinstance(prompt, list):
            return len(prompt)
        return tokenizer.count(exchange.messages[0].text if exchange.messages else "")

    def check_model(self, info: ModelInfo) -> None:
        """OpenAI's chat models are refused here with the API's pointer to the chat endpoint
        (a model of another vendor, or of nobody known, the gateway relays as it is)."""
        if info.kind == "chat" and vendor_of(info.id) == "openai":
            raise APIError(
                404,
                "This is a chat model and not supported in the v1/completions endpoint. "
                "Did you mean to use v1/chat/completions?",
                type="invalid_request_error",
                param="model",
            )

    def context_exceeded(self, limit: int, prompt: int, completion: int | None) -> APIError:
        """The completions endpoint kept the pre-chat wording."""
        asked = completion or 0
        return APIError(
            400,
            f"This model's maximum context length is {limit} tokens, however you requested "
            f"{prompt + asked} tokens ({prompt} in your prompt; {asked} for the completion). "
            "Please reduce your prompt; or completion length.",
            type="invalid_request_error",
            param="prompt",
            code="context_length_exceeded",
        )

    def render(self, reply: Reply, exchange: Exchange) -> dict[str, Any]:
        return self.render_many([reply], [exchange])

    def render_stream(self, reply: Reply, exchange: Exchange) -> list[bytes]:
        return self.render_stream_many([reply], [exchange])

    def render_many(
        self, replies: Sequence[Reply], exchanges: Sequence[Exchange]
    ) -> dict[str, Any]:
        """One `text_completion` for all prompts: reply i answers exchange i."""
        first, exchange = replies[0], exchanges[0]
        choices = []
        for index, reply, ex, choice in self._returned(replies, exchanges):
            echo = ex.messages[0].text if ex.body.get("echo") else ""
            choices.append(
                {
                    "text": echo + _text(choice),
                    "index": index,
                    "logprobs": self._logprobs(reply, ex, index, choice, bool(echo)),
                    "finish_reason": _finish(choice),
                }
            )
        return {
            "id": completion_id(first),
            "object": "text_completion",
            "created": first.created,
            "model": exchange.model,
            "choices": choices,
            "usage": usage_body(replies),
            "system_fingerprint": first.fingerprint,
        }

    def render_stream_many(
        self, replies: Sequence[Reply], exchanges: Sequence[Exchange]
    ) -> list[bytes]:
        first, exchange = replies[0], exchanges[0]
        options = exchange.body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        envelope = orjson.dumps(
            {
                "id": completion_id(first),
                "object": "text_completion",
                "created": first.created,
                "model": exchange.model,
                "system_fingerprint": first.fingerprint,
            }
        )[:-1]
        prefix = b"data: " + envelope + b',"choices":['
        tail = b'],"usage":null}\n\n' if include_usage else b"]}\n\n"
        streams = [
            self._choice_chunks(reply, ex, index, choice)
            for index, reply, ex, choice in self._returned(replies, exchanges)
        ]
        frames = [prefix + orjson.dumps(chunk) + tail for chunk in interleave(streams)]
        if include_usage:
            frames.append(prefix + b'],"usage":' + orjson.dumps(usage_body(replies)) + b"}\n\n")
        frames.append(DONE)
        return frames

    def render_error(self, error: APIError) -> dict[str, Any]:
        return _CHAT.render_error(error)  # the same error body as chat

    def reply_headers(self, reply: Reply | None, exchange: Exchange | None) -> dict[str, str]:
        return openai_headers(reply.key if reply is not None else None)

    def _returned(
        self, replies: Sequence[Reply], exchanges: Sequence[Exchange]
    ) -> list[tuple[int, Reply, Exchange, Choice]]:
        """(API index, reply, exchange, choice) for the first `n` choices of every prompt."""
        if len(replies) != len(exchanges):
            raise ValueError(f"{len(replies)} replies for {len(exchanges)} prompts")
        n = exchanges[0].body.get("n") or 1
        return [
            (prompt * n + position, reply, exchange, choice)
            for prompt, (reply, exchange) in enumerate(zip(replies, exchanges, strict=True))
            for position, choice in enumerate(reply.choices[:n])
        ]

    def _choice_chunks(
        self, reply: Reply, exchange: Exchange, index: int, choice: Choice
    ) -> list[dict[str, Any]]:
        """The choice's chunks: the echoed prompt (if asked), one per piece, the finish chunk."""
        echo = bool(exchange.body.get("echo")) and bool(exchange.messages[0].text)
        texts = ([exchange.messages[0].text] if echo else []) + _pieces(choice)
        # The same numbers as the non-stream body, one token per chunk (the echo in one chunk).
        table = self._logprobs(reply, exchange, index, choice, echo)
        slices: list[dict[str, Any] | None] = [None] * len(texts)
        if table is not None:
            bounds = [0, len(table["tokens"]) - len(_pieces(choice))] if echo else [0]
            bounds += range(bounds[-1] + 1, len(table["tokens"]) + 1)
            slices = [
                {name: values[low:high] for name, values in table.items()}
                for low, high in itertools.pairwise(bounds)
            ]
        chunks = [
            {"text": text, "index": index, "logprobs": lp, "finish_reason": None}
            for text, lp in zip(texts, slices, strict=True)
        ]
        chunks.append(
            {"text": "", "index": index, "logprobs": None, "finish_reason": _finish(choice)}
        )
        return chunks

    def _logprobs(
        self, reply: Reply, exchange: Exchange, index: int, choice: Choice, echo: bool
    ) -> dict[str, Any] | None:
        want = exchange.body.get("logprobs")
        if want is None:
            return None
        prompt = exchange.messages[0].text
        key = ids.digest(reply.key, "logprobs", index)
        completion = synth_logprobs(_pieces(choice), len(prompt), want, key)
        if not echo or not prompt:
            return completion
        head = synth_logprobs(
            self.tokenizer(exchange.model).pieces(prompt), 0, want, ids.digest(key, "echo")
        )
        head["token_logprobs"][0] = None  # no context before the first token
        head["top_logprobs"][0] = None
        return {name: head[name] + completion[name] for name in head}


def completion_id(reply: Reply) -> str:
    return ids.derive_id(reply.key, "cmpl", 29, sep="-")


def usage_body(replies: Sequence[Reply]) -> dict[str, int]:
    prompt = sum(r.usage.prompt_tokens for r in replies)
    completion = sum(r.usage.completion_tokens for r in replies)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _text(choice: Choice) -> str:
    return choice.text or choice.refusal or ""


def _pieces(choice: Choice) -> list[str]:
    if choice.text:
        return choice.text_pieces or [choice.text]
    if choice.refusal:
        return choice.refusal_pieces or [choice.refusal]
    return []


def _finish(choice: Choice) -> str:
    # No tools on this endpoint: a scripted tool call still ends the text naturally.
    return "stop" if choice.finish_reason == "tool_calls" else choice.finish_reason


def _check_best_of(n: int, best_of: int, stream: bool) -> None:
    # Wording not confirmed against the live API (the endpoint is legacy).
    if best_of < n:
        raise v.bad(
            f"best_of must be greater than or equal to n, but got best_of={best_of} and n={n}.",
            "best_of",
            None,
        )
    if stream and best_of > 1:
        raise v.bad("Cannot stream results with best_of > 1.", "best_of", None)
