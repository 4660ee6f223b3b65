"""The neutral request: what every dialect's `parse()` produces and the engine matches on.

A dialect turns its vendor JSON into an `Exchange`; nothing downstream of `parse()` knows which
vendor format the request arrived in, except through `Exchange.dialect` (used for journaling and
for choosing the error shape, never for matching).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from msgspec import Struct, field

Role = Literal["system", "user", "assistant", "tool"]
ToolChoiceMode = Literal["auto", "none", "required", "function"]
ResponseFormatType = Literal["text", "json_object", "json_schema"]


class ToolCall(Struct):
    """A function call, either in the conversation history or in a reply.

    `arguments` is the JSON text exactly as it goes over the wire.
    """

    id: str
    name: str
    arguments: str


class Attachment(Struct):
    """A non-text part of a message (image, audio, file/document); counted, never matched on."""

    kind: Literal["image", "audio", "file"]
    mime_type: str | None = None
    detail: str | None = None
    size: int = 0
    # An image's pixel size when its bytes came with the request (0: unknown, e.g. remote).
    width: int = 0
    height: int = 0


class Message(Struct):
    """One turn of the conversation, flattened to what matching and usage need.

    `text` joins all text parts with newlines. A tool result has role "tool", `tool_call_id`,
    and `tool_name` resolved from the assistant call it answers (when the history has it).
    """

    role: Role
    text: str = ""
    name: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    tool_name: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


class Tool(Struct):
    """A tool the request offers. `kind` "custom": a freeform tool whose call carries plain
    text (OpenAI's custom tools), not JSON arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    kind: Literal["function", "custom"] = "function"


class ToolChoice(Struct):
    mode: ToolChoiceMode = "auto"
    name: str | None = None  # set when mode == "function"


class ResponseFormat(Struct):
    type: ResponseFormatType = "text"
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool = False


class Exchange(Struct):
    """A request in neutral form.

    `body` is the parsed vendor JSON (kept for the journal and for content hashing);
    `headers` are lower-cased.
    """

    dialect: str
    endpoint: str
    model: str
    messages: list[Message]
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    tools: list[Tool] = field(default_factory=list)
    # Hosted tools the vendor runs itself, by neutral name ("web_search"); `tools:` sees them.
    server_tools: list[str] = field(default_factory=list)
    tool_choice: ToolChoice = field(default_factory=ToolChoice)
    response_format: ResponseFormat = field(default_factory=ResponseFormat)
    stream: bool = False
    n: int = 1
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    reasoning_effort: str | None = None
    reasoning_budget: int | None = None
    seed: int | None = None
    # What the request carried that its parser didn't know (lenient validation), for the journal.
    notes: list[str] = field(default_factory=list)
    # What a dialect derives from the request alone while rendering, kept for the next time the
    # same (memoized) request is rendered. Keys are the dialect's own. (A Struct compares and
    # shows every field, this one too; nothing compares exchanges.)
    derived: dict[str, Any] = field(default_factory=dict)

    @property
    def system(self) -> str:
        return "\n".join(m.text for m in self.messages if m.role == "system")

    @property
    def last_message(self) -> Message | None:
        return self.messages[-1] if self.messages else None

    @property
    def last_user(self) -> str:
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""

    @property
    def turn(self) -> int:
        """Assistant messages so far: 0 on the first request of a conversation."""
        return sum(1 for m in self.messages if m.role == "assistant")

    @property
    def tool_result(self) -> Message | None:
        """The last message, when it is a tool result."""
        last = self.last_message
        return last if last is not None and last.role == "tool" else None

    def tool_named(self, name: str) -> Tool | None:
        for tool in self.tools:
            if tool.name == name:
                return tool
        return None
