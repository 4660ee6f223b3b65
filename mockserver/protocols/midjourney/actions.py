"""Midjourney's buttons and the actions their `customId`s name, read as new-api reads them.

parse_custom_id("MJ::JOB::upsample::2::3dbb…") -> ("UPSCALE", 2)
parse_simple_change("1730621718151844 V3") -> ("1730621718151844", "VARIATION", 3)
"""

from __future__ import annotations

import functools
from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError

REQUEST_ERROR = 4  # midjourney-proxy's code for a bad request


def mj_error(description: str, code: int = REQUEST_ERROR, status: int = 400) -> APIError:
    return APIError(status, description, code=str(code))


def job_hash(key: str) -> str:
    """The message hash a task's buttons carry (a uuid's shape)."""
    h = ids.hex_digest(key, "mj-hash", 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _button(custom_id: str, label: str = "", emoji: str = "") -> dict[str, Any]:
    return {"customId": custom_id, "emoji": emoji, "label": label, "type": 2, "style": 2}


# Buttons are the same for every fetch of a task: made once (callers must not change them).
@functools.lru_cache(maxsize=1024)
def grid_buttons(key: str) -> list[dict[str, Any]]:
    """U1-U4, reroll and V1-V4: what a finished grid (imagine, variation...) offers."""
    h = job_hash(key)
    upscales = [_button(f"MJ::JOB::upsample::{i}::{h}", f"U{i}") for i in range(1, 5)]
    reroll = _button(f"MJ::JOB::reroll::0::{h}::SOLO", emoji="🔄")
    variations = [_button(f"MJ::JOB::variation::{i}::{h}", f"V{i}") for i in range(1, 5)]
    return [*upscales, reroll, *variations]


@functools.lru_cache(maxsize=1024)
def upscale_buttons(key: str) -> list[dict[str, Any]]:
    """What an upscaled image offers: vary, zoom out and pan."""
    h = job_hash(key)
    return [
        _button(f"MJ::JOB::high_variation::1::{h}::SOLO", "Vary (Strong)", "🪄"),
        _button(f"MJ::JOB::low_variation::1::{h}::SOLO", "Vary (Subtle)", "🪄"),
        _button(f"MJ::Inpaint::1::{h}::SOLO", "Vary (Region)", "🖌️"),
        _button(f"MJ::Outpaint::50::1::{h}::SOLO", "Zoom Out 2x", "🔍"),
        _button(f"MJ::Outpaint::75::1::{h}::SOLO", "Zoom Out 1.5x", "🔍"),
        _button(f"MJ::CustomZoom::{h}", "Custom Zoom", "🔍"),
        _button(f"MJ::JOB::pan_left::1::{h}::SOLO", "", "⬅️"),
        _button(f"MJ::JOB::pan_right::1::{h}::SOLO", "", "➡️"),
        _button(f"MJ::JOB::pan_up::1::{h}::SOLO", "", "⬆️"),
        _button(f"MJ::JOB::pan_down::1::{h}::SOLO", "", "⬇️"),
    ]


def parse_custom_id(custom_id: str) -> tuple[str, int]:
    """The action and index a button's customId names (new-api's reading: reroll is not one
    of them)."""
    if not custom_id:
        raise mj_error("custom_id_is_required")
    parts = custom_id.split("::")
    if len(parts) < 3:
        raise mj_error("unknown_action")
    name = parts[2] if parts[1] == "JOB" else parts[1]
    if "upsample" in name:
        return "UPSCALE", _index(parts)
    if name == "variation":
        return "VARIATION", _index(parts)
    if name == "low_variation":
        return "LOW_VARIATION", 1
    if name == "high_variation":
        return "HIGH_VARIATION", 1
    if "pan" in name:
        return "PAN", 1
    if name in ("Outpaint", "CustomZoom"):
        return "ZOOM", 1
    if name == "Inpaint":  # needs the region and prompt: answered with code 21, then /modal
        return "INPAINT", 1
    raise mj_error("unknown_action")


def _index(parts: list[str]) -> int:
    try:
        return int(parts[3])
    except (IndexError, ValueError):
        raise mj_error("index_parse_failed") from None


def parse_simple_change(content: str) -> tuple[str, str, int]:
    """`"<task id> U1"` / `V1`-`V4` / `R`: (task id, action, index)."""
    if not content:
        raise mj_error("content_is_required")
    parts = content.split(" ")
    if len(parts) != 2 or not parts[1]:
        raise mj_error("content_parse_failed")
    task_id, word = parts[0], parts[1].lower()
    if word == "r":
        return task_id, "REROLL", 0
    action = {"u": "UPSCALE", "v": "VARIATION"}.get(word[0])
    index = int(word[1]) if len(word) == 2 and word[1].isdigit() else 0
    if action is None or not 1 <= index <= 4:
        raise mj_error("content_parse_failed")
    return task_id, action, index
