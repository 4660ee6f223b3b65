"""Big prompt: a 100k-token chat prompt counted and answered, against tiktoken encoding it alone.

The subject's time is the client-side round trip of the request on a keep-alive connection; the
baseline is `encode_ordinary` of the same text in the bench process. Each round uses a new text
(so no cache can answer) and alternates which of the two goes first. While the client waits,
the server (pinned to its core for the throughput figures) may run on every core, as a deployed
one does.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import time

from bench import client
from bench.context import Context, progress
from bench.report import FigureResult, FigureSpec, Target
from bench.stats import median
from bench.tokenizer import chat_prompt_tokens, o200k
from bench.workloads import AUTH, CHAT, chat_body, encode_json

SPEC = FigureSpec(
    "big-prompt", "big prompt, 100k tokens", Target("max", "≤ 1.3× tiktoken encode", 1.3), "s"
)
PROMPT_TOKENS = 100_000
MARKER = "bench-big-prompt "

_WORDS = """
the of and to in is was for on that with as by at from this be are it an or which have
not has were but had their its can more all also new other one two first after most some
time people year city system server request token stream reply model test value number
state world part between during under while where because through small large early late
history music river mountain science language network memory window thousand record
budget station theory market winter summer garden letter bridge engine signal pattern
Anthropic OpenAI Gemini latency throughput benchmark median percentile 2024 1999 42 3.14
"""
_VOCABULARY = tuple(_WORDS.split())


_SYLLABLE_TEXT = "ka lo mi ren tas vol quin dra pel sor ith ban cu ze fro gant lyx mor ept ul"
_SYLLABLES = tuple(_SYLLABLE_TEXT.split())


def _word(rng: random.Random) -> str:
    """A vocabulary word, or (one time in three) an invented one, so BPE has merges to do."""
    if rng.random() < 2 / 3:
        return rng.choice(_VOCABULARY)
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def build_prompt(seed: int, tokens: int = PROMPT_TOKENS) -> str:
    """Deterministic prose-like text of exactly `tokens` o200k tokens, starting with MARKER."""
    rng = random.Random(seed)
    words: list[str] = []
    while len(words) < tokens:
        sentence = [_word(rng) for _ in range(rng.randint(6, 18))]
        words += [sentence[0].capitalize(), *sentence[1:-1], sentence[-1] + rng.choice(".,;?!")]
    encoding = o200k()
    ids = encoding.encode_ordinary(MARKER + " ".join(words))[:tokens]
    text: str = encoding.decode(ids)
    return text


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    server = ctx.mock()
    port = server.port
    encoding = o200k()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    served: list[float] = []
    encoded: list[float] = []
    # The client only waits for one answer: the server may use the machine, as deployed.
    with server.on_every_core(), contextlib.closing(connection):
        warm = chat_body(build_prompt(0, 2000))  # load paths, compile patterns
        client.request(port, CHAT.path, encode_json(warm), AUTH, connection=connection)
        for n in range(ctx.options.rounds):
            text = build_prompt(n + 1)
            body = encode_json(chat_body(text))
            expected = chat_prompt_tokens(text)
            for step in ("server", "tiktoken") if n % 2 == 0 else ("tiktoken", "server"):
                start = time.perf_counter()
                if step == "tiktoken":
                    encoding.encode_ordinary(text)
                    encoded.append(time.perf_counter() - start)
                    continue
                reply = client.request(port, CHAT.path, body, AUTH, connection=connection)
                served.append(time.perf_counter() - start)
                if reply.status != 200:
                    return [
                        SPEC.failed(f"100k-token prompt -> {reply.status}: {reply.excerpt(160)}")
                    ]
                got = reply.json().get("usage", {}).get("prompt_tokens")
                if got != expected:
                    return [SPEC.failed(f"usage.prompt_tokens {got}, expected {expected}")]
            timings = f"server {served[-1]:.3f}s, tiktoken {encoded[-1]:.3f}s"
            progress(f"big prompt round {n + 1}: {timings}")
    ratios = [a / b for a, b in zip(served, encoded, strict=True)]
    data = {
        "server_s": served,
        "tiktoken_s": encoded,
        "round_ratios": ratios,
    }
    return [SPEC.result(median(served), median(encoded), median(ratios), data=data).judge()]
