"""Exact token ids of short texts in pure Python, for the moments before tiktoken's Rust encoder
exists.

Building tiktoken's CoreBPE takes a while and holds the GIL, so a server that built it before
answering would answer its first request late. A `Bridge` needs only the verified ranks (a
`mockserver.tokens.bpe_files.RankTable`, quick to load from the cache, or a dict) and gives
the same ids: `puretiktoken`'s pre-tokenizers reproduce tiktoken's split patterns and its
`byte_pair_encode` tiktoken's merge order, over the very same ranks.

    bridge = Bridge("o200k_base", load_rank_table("o200k_base"))
    bridge.encode("tiktoken is great!") -> [83, 8251, 2488, 382, 2212, 0]
    bridge.tokens("a🏽") -> ([64, 9552, 121, 121] ids, [1, 3, ...] byte lengths)

It is much slower than Rust on text it has not seen, so `mockserver.tokens.tokenizer` only
sends it short texts, and only until the CoreBPE is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# puretiktoken's function per encoding; imported with the first Bridge (the ranks come first).
_PRETOKENIZERS = {"o200k_base": "pretokenize_o200k", "cl100k_base": "pretokenize_cl100k"}
# Real text repeats its pre-tokens (" the", ".", "\n"), so their tokens are memoised; bounded so
# that text made of unique pieces cannot grow the memo without limit.
_MEMO_SIZE = 1 << 16

Tokens = tuple[list[int], list[int]]  # (ids, byte length of each token)


class Bridge:
    """tiktoken's `encode_ordinary` over a ranks dict: special-token text is plain text."""

    __slots__ = ("_memo", "_merge", "_pretokenize", "name", "ranks")

    def __init__(self, name: str, ranks: Mapping[bytes, int]) -> None:
        if name not in _PRETOKENIZERS:
            known = ", ".join(_PRETOKENIZERS)
            raise ValueError(f"no pure-Python pre-tokenizer for {name!r}: expected one of {known}")
        import puretiktoken

        self.name = name
        self.ranks = ranks
        self._pretokenize: Callable[[str], list[str]] = getattr(puretiktoken, _PRETOKENIZERS[name])
        self._merge: Callable[[bytes, Mapping[bytes, int]], list[int]] = (
            puretiktoken.byte_pair_encode
        )
        self._memo: dict[str, Tokens] = {}

    def encode(self, text: str) -> list[int]:
        return self.tokens(text)[0]

    def tokens(self, text: str) -> Tokens:
        """The ids of `text` and how many UTF-8 bytes each covers (of `usable_text(text)`)."""
        ids: list[int] = []
        lengths: list[int] = []
        memo = self._memo
        for piece in self._pretokenize(usable_text(text)):
            found = memo.get(piece)
            if found is None:
                found = self._piece_tokens(piece)
                if len(memo) < _MEMO_SIZE:
                    memo[piece] = found
            ids += found[0]
            lengths += found[1]
        return ids, lengths

    def _piece_tokens(self, piece: str) -> Tokens:
        data = piece.encode("utf-8")
        rank = self.ranks.get(data)
        if rank is not None:
            return [rank], [len(data)]
        ids = self._merge(data, self.ranks)
        return ids, self._byte_lengths(data, ids)

    def _byte_lengths(self, data: bytes, ids: list[int]) -> list[int]:
        """Each token's length: the merge returns ids only, and ranks map bytes to ids one to
        one, so the prefix of the rest whose rank is the next id is that token."""
        ranks = self.ranks
        lengths: list[int] = []
        start = 0
        for token in ids[:-1]:
            end = start + 1
            while ranks.get(data[start:end]) != token:
                end += 1
                if end > len(data):
                    raise AssertionError(f"token {token} is not a prefix of {data[start:]!r}")
            lengths.append(end - start)
            start = end
        lengths.append(len(data) - start)
        return lengths


def usable_text(text: str) -> str:
    """`text` as tiktoken encodes it: lone surrogates (not valid UTF-8) become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
