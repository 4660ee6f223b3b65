"""What each task endpoint of the mock matches a submission on — its model and its prompt —
read from the request as that endpoint reads it (mostly with the vendor's own parser), so that
a recorded rule matches the replayed submission. None leaves one to the parent task (an
action's prompt, a remix's model).

    parsed(doubao)({"model": "doubao-seedance-1-0-lite-t2v-250428",
                    "content": [{"type": "text", "text": "a fox"}]}, {})
    -> ("doubao-seedance-1-0-lite-t2v-250428", "a fox")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Json = dict[str, Any]
# (request fields, the path's named groups) -> (model, prompt); None: the parent task's
Subject = Callable[[Json, Mapping[str, str]], tuple[str | None, str | None]]


def _get(fields: Json, name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def model_and_prompt(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    return _get(fields, "model"), _get(fields, "prompt")


def parsed(parse: Callable[[Json, Mapping[str, str]], Any]) -> Subject:
    """A subject read by the vendor's own parser (the mock endpoint's): its model and prompt."""

    def subject(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
        parsed = parse(fields, groups)
        if isinstance(parsed, dict):
            return str(parsed["model"]), str(parsed["prompt"])
        return str(parsed.model), str(parsed.prompt)

    return subject


def doubao(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.doubao import video

    return video.parse_create(fields)


def wan(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.dashscope import video

    return video.parse_create(fields, "enable")


def text2image(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.dashscope import images

    return images.parse_synthesis(fields)


def minimax(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.minimax import video

    return video.parse_create(fields)


def runway(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.runway import video

    return video.parse_image_to_video(fields)


def luma(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.luma import video

    return video.parse_generation(fields)


def luma_extension(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    return None, _get(fields, "user_prompt") or None  # the source's model (and prompt)


def jimeng(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.jimeng import video

    return video.parse_submit(fields)


def replicate(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.replicate import predictions

    model = f"{groups['owner']}/{groups['name']}" if groups.get("owner") else None
    return predictions.parse_create(fields, model)


def fal(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.fal import queue

    return queue.parse_submit(f"fal-ai/{groups['model']}", fields)


def kling(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.kling import videos

    return videos.parse_submit(groups["kind"], fields)


def video_create(fields: Json, groups: Mapping[str, str]) -> Any:
    from mockserver.protocols.newapi import video_create

    return video_create.parse_create(fields)


def remix(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    return None, _get(fields, "prompt")  # the source video's model


def suno(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    from mockserver.protocols.suno import music

    action = groups["action"]
    return f"suno_{action}", music.prompt_of(music.parse_submit(action.upper(), fields))


def mj(action: str, prompt_field: str = "") -> Subject:
    """A Midjourney submission: `mj_<action>`, its prompt (or, without one, the parent's)."""

    def subject(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
        return f"mj_{action}", _get(fields, prompt_field) if prompt_field else ""

    return subject


def mj_child(fields: Json, groups: Mapping[str, str]) -> tuple[str | None, str | None]:
    """An action on a finished task (`/submit/action`, `/change`, `/simple-change`,
    `/video`): `mj_<action>` with the parent's prompt."""
    from mockserver.protocols.midjourney import actions

    kind = groups["kind"]
    if kind == "action":
        name = actions.parse_custom_id(_get(fields, "customId"))[0]
    elif kind == "simple-change":
        name = actions.parse_simple_change(_get(fields, "content"))[1]
    elif kind == "change":
        name = _get(fields, "action").upper()
    else:
        name = "VIDEO"
    return f"mj_{name.lower()}", None


def mj_parent(fields: Json, groups: Mapping[str, str]) -> str:
    """The task a Midjourney action works on (`taskId`, or simple-change's `content`)."""
    if groups["kind"] == "simple-change":
        return _get(fields, "content").partition(" ")[0]
    return str(fields.get("taskId") or "")


def in_path(fields: Json, groups: Mapping[str, str]) -> str:
    return groups["parent"]
