"""Suno's audio uploads as the gateway passes them through (`/suno/uploads/audio…`, Suno's
own shapes, no envelope): ask for an upload, send the file to the storage URL it names,
report it finished, poll its processing, make a clip of it.

    upload status: processing (until finished and while checked) → passed_artist_moderation
                   → complete | error
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

STAGES = ("SUBMITTED", "IN_PROGRESS")
STATUS = {"IN_PROGRESS": "passed_artist_moderation", "SUCCESS": "complete", "FAILURE": "error"}
EXTENSIONS = {"mp3": "audio/mpeg", "wav": "audio/wav", "m4a": "audio/mp4", "flac": "audio/flac",
              "ogg": "audio/ogg"}  # fmt: skip
UPLOAD_TYPES = ("file_upload",)


def uuid_of(key: str, label: str) -> str:
    h = ids.hex_digest(key, label, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def parse_request(body: Any) -> str:
    """`{"extension": "mp3"}`: the file's kind."""
    extension = body.get("extension", "mp3") if isinstance(body, dict) else None
    if extension not in EXTENSIONS:
        raise APIError(
            400,
            f"extension must be one of {', '.join(EXTENSIONS)}; got {extension!r}",
            code="invalid_request",
        )
    return str(extension)


def check_finish(body: Any) -> None:
    """`{"upload_type": "file_upload", "upload_filename": "song.mp3"}`."""
    if not isinstance(body, dict) or body.get("upload_type", "file_upload") not in UPLOAD_TYPES:
        raise APIError(400, "upload_type must be file_upload", code="invalid_request")


def storage_key(task: Task) -> str:
    return f"raw_uploads/{task.id}.{task.params['extension']}"


def render_request(task: Task, storage_url: str) -> dict[str, Any]:
    """The answer to `POST /suno/uploads/audio`: where and how to send the file (a form
    POST with these fields and `file`, as to S3)."""
    policy = orjson.dumps({"conditions": [{"bucket": "suno-uploads"},
                                          {"key": storage_key(task)}]})  # fmt: skip
    return {
        "id": task.id,
        "url": storage_url,
        "fields": {
            "Content-Type": EXTENSIONS[task.params["extension"]],
            "key": storage_key(task),
            "AWSAccessKeyId": "MOCKACCESSKEYID",
            "policy": base64.b64encode(policy).decode(),
            "signature": base64.b64encode(
                bytes.fromhex(ids.hex_digest(task.key, "sig", 40))
            ).decode(),
        },
        "is_file_uploaded": False,
    }


def clip_id(task: Task) -> str:
    return uuid_of(task.key, "suno-upload-clip")


def render_status(task: Task, image_url: str) -> dict[str, Any]:
    """`GET /suno/uploads/audio/{id}`."""
    done = task.succeeded
    return {
        "id": task.id,
        "status": "processing" if task.held else STATUS.get(task.status, "processing"),
        "error_message": task.reason if task.status == "FAILURE" else None,
        "s3_id": f"m_{clip_id(task)}" if done else None,
        "title": f"Upload {task.id[:8]}" if done else None,
        "image_url": image_url if done else None,
    }
