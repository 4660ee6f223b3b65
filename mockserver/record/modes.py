"""When the upstream is asked: VCR.py's record modes, named by the words users write."""

from __future__ import annotations

import enum


class RecordMode(enum.StrEnum):
    """`record`: every request goes upstream and is written (the file is started afresh).
    `replay`: never upstream; a request no recorded rule matches is the strict-mode error
    listing the nearest rules. `once`: record when the file does not exist yet, else replay.
    `new_episodes`: replay what the file has, record (append) what it lacks."""

    RECORD = "record"
    REPLAY = "replay"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"

    @classmethod
    def parse(cls, word: str) -> RecordMode:
        try:
            return cls(word)
        except ValueError:
            choices = ", ".join(mode.value for mode in cls)
            raise ValueError(f"unknown record mode {word!r}; expected one of {choices}") from None

    def effective(self, file_exists: bool) -> RecordMode:
        """The mode for one file: `once` is `record` for a new file and `replay` for one that
        exists."""
        if self is RecordMode.ONCE:
            return RecordMode.REPLAY if file_exists else RecordMode.RECORD
        return self

    @property
    def replays(self) -> bool:
        """Whether recorded rules answer (before the upstream is asked, if it is at all)."""
        return self in (RecordMode.REPLAY, RecordMode.NEW_EPISODES)

    @property
    def records(self) -> bool:
        return self in (RecordMode.RECORD, RecordMode.NEW_EPISODES)
