"""Citations on documents (`{"type": "document", ..., "citations": {"enabled": true}}`): the
answer's text cites the first such document, in the location type its source takes.

    text source     -> char_location            {start_char_index, end_char_index}
    base64/url PDF  -> page_location            {start_page_number: 1, end_page_number: 2}
    content source  -> content_block_location   {start_block_index: 0, end_block_index: 1}

`cited_text` is the document's first sentence (a PDF's text isn't extracted: its title, or
empty). `document_index` counts every document block of the request, in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

MAX_CITED = 200  # characters of a cited sentence


def document_citation(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The citation the answer carries; None when no document asks for citations."""
    for index, document in enumerate(_documents(body)):
        settings = document.get("citations")
        if isinstance(settings, dict) and settings.get("enabled") is True:
            return _citation(document, index)
    return None


def _documents(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "document":
                yield block


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    return sentence[:MAX_CITED]


def _citation(document: dict[str, Any], index: int) -> dict[str, Any]:
    raw_source = document.get("source")
    source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {}
    title = document.get("title") if isinstance(document.get("title"), str) else None
    kind = source.get("type")
    common = {"document_index": index, "document_title": title}
    if kind == "text":
        cited = _first_sentence(str(source.get("data", "")))
        location = {"start_char_index": 0, "end_char_index": len(cited)}
        return {"type": "char_location", "cited_text": cited, **common, **location}
    if kind == "content":
        blocks = source.get("content")
        first = blocks[0] if isinstance(blocks, list) and blocks else blocks
        text = first.get("text", "") if isinstance(first, dict) else str(first or "")
        location = {"start_block_index": 0, "end_block_index": 1}
        cited = _first_sentence(text)
        return {"type": "content_block_location", "cited_text": cited, **common, **location}
    location = {"start_page_number": 1, "end_page_number": 2}
    return {"type": "page_location", "cited_text": title or "", **common, **location}
