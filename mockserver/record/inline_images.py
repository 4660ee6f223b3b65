"""Pictures inside a text answer: Gemini's `inlineData` image parts (gemini-2.5-flash-image and
the like) and, through the gateway's Chat Completions, the same pictures as markdown data URLs
in the message content (`![image](data:image/png;base64,...)`). Each is written beside the
recording and named by its choice's `file:`, so a replay sends the same bytes; the text around
it stays the reply's `content` (the replay puts the picture back where the dialect puts it).

    taken("A kite.\\n![image](data:image/png;base64,iVBOR...)")  ->  ("A kite.", [b"\\x89PNG..."])
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.core.exchange import Exchange
    from mockserver.record.cassette import Cassette
    from mockserver.record.replies import RecordedReply

# The newline before it is the separator the gateway adds after text (not in a stream).
_MARKDOWN_IMAGE = re.compile(r"\n?!\[[^\]]*\]\(data:image/[\w.+-]+;base64,([A-Za-z0-9+/=\s]+)\)")


def taken(content: str | None) -> tuple[str | None, list[bytes]]:
    """`content` without its markdown data-URL pictures, and the pictures' bytes."""
    if not content or "](data:image/" not in content:
        return content, []
    pictures: list[bytes] = []

    def take(found: re.Match[str]) -> str:
        try:
            pictures.append(base64.b64decode(found.group(1)))
        except (binascii.Error, ValueError):
            return found.group(0)  # not a picture after all: left in the text
        return ""

    return _MARKDOWN_IMAGE.sub(take, content), pictures


def image_part(part: dict[str, Any]) -> bytes | None:
    """The bytes of a Gemini `inlineData` image part (None for any other part)."""
    blob = part.get("inlineData") or part.get("inline_data")
    if not isinstance(blob, dict):
        return None
    mime = blob.get("mimeType") or blob.get("mime_type") or ""
    if not str(mime).startswith("image/") or not isinstance(blob.get("data"), str):
        return None
    return base64.b64decode(blob["data"])


def keep(kind: str, exchange: Exchange, reply: RecordedReply, cassette: Cassette) -> None:
    """Write each choice's picture beside the recording and name it in the choice (a chat
    answer's are taken out of its text, for the models whose replay puts them back). A choice
    answers with one picture: a second one in the same choice is not kept."""
    from mockserver.protocols.openai.chat_images import image_kind
    from mockserver.record.media import picture_extension

    for choice in reply.choices:
        if kind == "chat" and image_kind(exchange.model) == "inline":
            choice.content, choice.pictures = taken(choice.content)
        if choice.pictures:
            data = choice.pictures[0]
            choice.file = cassette.keep(data, picture_extension(data))
