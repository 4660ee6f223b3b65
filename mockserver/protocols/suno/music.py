"""Suno's submissions and the clips and lyrics a task holds (new-api's `dto/suno.go`; the
task itself is the gateway's TaskDto, `mockserver.protocols.newapi.tasks`).

A music task makes two clips, as Suno does; each clip's status follows the task
(submitted → queued → streaming → complete | error).
"""

from __future__ import annotations

from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

STAGES = ("SUBMITTED", "QUEUED", "IN_PROGRESS")
ACTIONS = ("MUSIC", "LYRICS")
DEFAULT_MODEL = "chirp-v3-0"
CLIP_STATUS = {
    "NOT_START": "submitted",
    "SUBMITTED": "submitted",
    "QUEUED": "queued",
    "IN_PROGRESS": "streaming",
    "SUCCESS": "complete",
    "FAILURE": "error",
}
FIELDS = (
    "gpt_description_prompt",
    "prompt",
    "mv",
    "title",
    "tags",
    "continue_at",
    "task_id",
    "continue_clip_id",
    "make_instrumental",
)


def parse_submit(action: str, body: Any) -> dict[str, Any]:
    """The fields new-api keeps (it re-marshals only these) and checks: a lyrics task needs a
    prompt; music defaults `mv` to chirp-v3-0."""
    action = action.upper()
    if not isinstance(body, dict):
        raise APIError(400, "invalid request body", code="invalid_request")
    if action not in ACTIONS:
        raise APIError(400, "invalid_action", code="invalid_request")
    kept = {name: body[name] for name in FIELDS if body.get(name) not in (None, "")}
    if action == "LYRICS" and not kept.get("prompt"):
        raise APIError(400, "prompt_empty", code="invalid_request")
    if action == "MUSIC":
        kept.setdefault("mv", DEFAULT_MODEL)
    return kept


def prompt_of(fields: dict[str, Any]) -> str:
    """What the scenario matches on: the description (inspiration mode) or the lyrics."""
    return str(fields.get("gpt_description_prompt") or fields.get("prompt") or "")


def clip_ids(key: str) -> list[str]:
    out = []
    for index in range(2):
        h = ids.hex_digest(key, f"suno-clip-{index}", 32)
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def clips_of(task: Task) -> list[str]:
    """The clip ids a task makes: two for music, the whole song for a concat."""
    if task.action == "CONCAT":
        return clip_ids(task.key)[:1]
    return clip_ids(task.key) if task.action == "MUSIC" else []


def seconds_of(task: Task) -> int:
    """A task's clip length (a concat's is the song's, kept at submission)."""
    return int(task.params.get("seconds") or clip_seconds(task.key))


def clip_seconds(key: str) -> int:
    """A clip's length: 20-29 s, from the task's key (short, so tests stay quick)."""
    return 20 + int(ids.hex_digest(key, "suno-length", 2), 16) % 10


def title_of(fields: dict[str, Any]) -> str:
    title = fields.get("title")
    if isinstance(title, str) and title:
        return title
    words = prompt_of(fields).split()[:4]
    return " ".join(words).title() or "Untitled"


def lyrics_text(key: str, prompt: str) -> str:
    """Verse and chorus lines made from the prompt's words (deterministic)."""
    words = [w.strip(",.!?") for w in prompt.split() if w.strip(",.!?")] or ["la"]
    shift = int(ids.hex_digest(key, "suno-lyrics", 2), 16)

    def line(n: int) -> str:
        return " ".join(words[(n + shift + i) % len(words)] for i in range(4)).capitalize()

    verse = "\n".join(line(n) for n in range(4))
    chorus = "\n".join(line(n + 7) for n in range(2))
    return f"[Verse]\n{verse}\n\n[Chorus]\n{chorus}"


def render_clips(task: Task, origin: str) -> list[dict[str, Any]]:
    fields: dict[str, Any] = task.params["fields"]
    status = CLIP_STATUS.get(task.status, "submitted")
    done = task.succeeded
    seconds = seconds_of(task)
    files = f"{origin}/suno/clips/{task.id}"  # the task in the path: no search for the clip
    clips = []
    for clip_id in clips_of(task):
        clips.append(
            {
                "id": clip_id,
                "video_url": "",
                "audio_url": f"{files}/{clip_id}.mp3" if done else "",
                "image_url": f"{files}/{clip_id}.jpeg" if done else "",
                "image_large_url": f"{files}/{clip_id}.jpeg" if done else "",
                "major_model_version": "v3",
                "model_name": fields.get("mv", DEFAULT_MODEL),
                "status": status,
                "title": title_of(fields),
                "text": fields.get("prompt", ""),
                "metadata": {
                    "tags": fields.get("tags", ""),
                    "prompt": fields.get("prompt", ""),
                    "gpt_description_prompt": fields.get("gpt_description_prompt", ""),
                    "audio_prompt_id": None,
                    "duration": seconds if done else None,
                    "error_type": "content_policy" if task.status == "FAILURE" else None,
                    "error_message": task.reason if task.status == "FAILURE" else None,
                },
            }
        )
        if task.action == "CONCAT":  # the song it was made from
            clips[-1]["metadata"]["type"] = "concat"
            clips[-1]["metadata"]["concat_history"] = [{"id": task.params["clip_id"]}]
    return clips


def render_lyrics(task: Task) -> dict[str, Any]:
    """A lyrics task's lyrics: the scripted ones (`task: {lyrics: ...}`, a recording's), else
    lines made from the prompt."""
    fields: dict[str, Any] = task.params["fields"]
    done = task.succeeded
    scripted: dict[str, Any] = task.params.get("lyrics") or {}
    title = scripted.get("title")
    text = scripted.get("text")
    return {
        "id": task.params["lyrics_id"],
        "status": CLIP_STATUS.get(task.status, "submitted"),
        "title": (title if title is not None else title_of(fields)) if done else "",
        "text": (text if text is not None else lyrics_text(task.key, task.prompt)) if done else "",
    }


def render_data(task: Task, origin: str) -> Any:
    """The TaskDto's `data`: the clips of a music task, the lyrics of a lyrics task."""
    return render_lyrics(task) if task.action == "LYRICS" else render_clips(task, origin)
