"""What the dashboard shows of a finished task: the files its family serves for it (paths on
this server), each with the kind of player it needs. A family without an entry here shows
none; every path is one its own routes answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypedDict

from mockserver.tasks.task import Task


class Preview(TypedDict):
    kind: Literal["image", "audio", "video"]
    url: str


def _video(task: Task) -> list[Preview]:
    content = f"/v1/videos/{task.id}/content"
    return [
        {"kind": "video", "url": content},
        {"kind": "image", "url": f"{content}?variant=thumbnail"},
    ]


def _midjourney(task: Task) -> list[Preview]:
    from mockserver.protocols.midjourney import tasks as midjourney

    if task.action == "VIDEO":
        return [{"kind": "video", "url": midjourney.video_url("", task)}]
    if task.action in ("DESCRIBE", "SHORTEN"):  # text answers: nothing to show
        return []
    return [{"kind": "image", "url": midjourney.image_url("", task)}]


def _suno(task: Task) -> list[Preview]:
    from mockserver.protocols.suno import music

    if task.action != "MUSIC":
        return []
    previews: list[Preview] = []
    for clip in music.render_clips(task, ""):
        previews += [
            {"kind": "image", "url": clip["image_url"]},
            {"kind": "audio", "url": clip["audio_url"]},
        ]
    return previews


def _kling(task: Task) -> list[Preview]:
    from mockserver.http.kling_endpoints import video_url

    return [{"kind": "video", "url": video_url("", task)}]


def _vendor_video(prefix: str) -> Callable[[Task], list[Preview]]:
    """A pass-through video family's MP4 (`http/vendor_video`), under the family's prefix."""

    def render(task: Task) -> list[Preview]:
        from mockserver.http.vendor_video import file_url

        return [{"kind": "video", "url": file_url(prefix, task)}]

    return render


def _prediction(prefix: str) -> Callable[[Task], list[Preview]]:
    """Replicate's and fal's output: an MP4 for a video model, else a PNG."""

    def render(task: Task) -> list[Preview]:
        if task.params.get("video"):
            return [{"kind": "video", "url": f"{prefix}/files/{task.id}.mp4"}]
        return [{"kind": "image", "url": f"{prefix}/files/{task.id}.png"}]

    return render


PREVIEWS: dict[str, Callable[[Task], list[Preview]]] = {
    "video": _video,
    "midjourney": _midjourney,
    "suno": _suno,
    "kling": _kling,
    "dashscope": _vendor_video("/alibailian"),
    "doubao": _vendor_video("/volc"),
    "jimeng": _vendor_video("/jimeng"),
    "luma": _vendor_video("/luma"),
    "minimax": _vendor_video("/minimax"),
    "runway": _vendor_video("/runwayml"),
    "replicate": _prediction("/replicate"),
    "fal": _prediction("/fal-ai"),
}


def previews(task: Task) -> list[Preview]:
    """The files of `task` once it has succeeded; none before, or for a family not listed."""
    render = PREVIEWS.get(task.family)
    if render is None or not task.succeeded:
        return []
    return render(task)
