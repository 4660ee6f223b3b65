"""Long texts encoded on several cores: cut where tiktoken cuts anyway, encoded side by side.

tiktoken's Rust encoder releases the GIL while it encodes, and `encode_ordinary_batch` runs a
list of texts on a thread pool, but one text runs on one core: a 100k-token prompt takes ~40
ms here. Cut into pieces at places where the encodings' pre-tokenizing pattern always splits,
the pieces' ids, one after the other, are exactly the whole text's, and the pieces can be
encoded side by side (~25 ms for that prompt on two cores).

Where the pattern always splits: before a space (U+0020) that follows a character other than
whitespace. In both o200k_base's and cl100k_base's patterns no alternative matches a space
except as its first character or within a run of whitespace (letters take an optional leading
character, punctuation an optional leading space, numbers and contractions none), so the piece
holding the character before ends there, and nothing looks behind. The one lookahead, `\\s+(?!\\S)`,
is about whitespace, which never ends a cut piece. Texts without such spaces (Chinese or
Japanese prose, one long token-like string) stay whole.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

# Shorter texts go to one thread: below ~16k tokens (~6 ms) starting threads is not worth it.
MIN_CHARS = 65_536
MIN_PIECE_CHARS = 32_768
MAX_THREADS = 8  # tiktoken's own default for batches
# Python's `\S` is narrower than Unicode's White_Space-based `\S` of the Rust regex (it calls
# U+001C..U+001F spaces too), so a place found here is a place there: some are missed, never
# a wrong one.
_CUT = re.compile(r"(?<=\S) ")


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cut(text: str, pieces: int) -> list[str]:
    """`text` in at most `pieces` parts of about equal length, cut only before a space that
    follows a non-space character; "".join(result) == text."""
    size = len(text) // pieces
    parts: list[str] = []
    start = 0
    for n in range(1, pieces):
        found = _CUT.search(text, max(n * size, start + 1))
        if found is None:
            break
        parts.append(text[start : found.start()])
        start = found.start()
    parts.append(text[start:])
    return parts


def encode_ordinary(encoding: tiktoken.Encoding, text: str) -> list[int]:
    """`encoding.encode_ordinary(text)`, on several threads when the text is long enough and
    the process may use more than one core."""
    parts = _encoded_parts(encoding, text)
    return parts[0] if len(parts) == 1 else list(itertools.chain.from_iterable(parts))


def count_ordinary(encoding: tiktoken.Encoding, text: str) -> int:
    """len(encode_ordinary(encoding, text)), without joining the parts' ids."""
    return sum(map(len, _encoded_parts(encoding, text)))


def _encoded_parts(encoding: tiktoken.Encoding, text: str) -> list[list[int]]:
    parts = [text]
    if len(text) >= MIN_CHARS:
        parts = cut(text, min(usable_cores(), MAX_THREADS, len(text) // MIN_PIECE_CHARS))
    if len(parts) == 1:
        return [encoding.encode_ordinary(text)]
    # The calling thread encodes the first part itself while the pool does the others.
    others = [_helpers().submit(encoding.encode_ordinary, part) for part in parts[1:]]
    first: list[int] = encoding.encode_ordinary(parts[0])
    return [first, *(future.result() for future in others)]


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _helpers() -> ThreadPoolExecutor:
    """The threads that encode the other parts: made on first use, then kept (idle, they wait
    on a queue), which spares ~0.1 ms a thread per long text over a pool per call."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(MAX_THREADS - 1, thread_name_prefix="mockserver-encode")
        return _pool
