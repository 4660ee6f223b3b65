"""Multipart bodies (image edits, audio uploads) read with Starlette's form parser.

`read_form(request, limit)` gives the text fields and, per field name, the uploaded files'
bytes; `image[]` is filed under `image` as the API treats both names alike.
"""

from __future__ import annotations

from msgspec import Struct, field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from mockserver.core.errors import APIError, invalid_request

MAX_FILES = 32


class Upload(Struct, frozen=True):
    data: bytes
    filename: str
    content_type: str


class Form(Struct):
    fields: dict[str, str] = field(default_factory=dict)  # the first value of each
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value, in order
    files: dict[str, list[Upload]] = field(default_factory=dict)

    def file(self, name: str) -> Upload | None:
        uploads = self.files.get(name)
        return uploads[0] if uploads else None


async def read_form(request: Request, limit: int) -> Form:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        shown = content_type.split(";")[0] or "none"
        raise invalid_request(
            f"Invalid Content-Type header ({shown}), expected multipart/form-data. (HINT: If "
            "you're using curl, you can pass -H 'Content-Type: multipart/form-data')"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise APIError(
            413,
            f"Request body too large: {declared} bytes exceeds the limit of {limit} bytes.",
            type="invalid_request_error",
            code="request_too_large",
        )
    try:
        form_data = await request.form(
            max_files=MAX_FILES, max_fields=1000, max_part_size=min(limit, 4 * 1024 * 1024)
        )
    except HTTPException as error:  # a malformed body, or past a part's limit
        raise invalid_request(f"Could not parse multipart form: {error.detail}") from None
    form = Form()
    try:
        for name, value in form_data.multi_items():
            key = name.removesuffix("[]")
            if isinstance(value, UploadFile):
                data = await value.read()
                upload = Upload(data, value.filename or "", value.content_type or "")
                form.files.setdefault(key, []).append(upload)
            else:
                form.fields.setdefault(key, value)
                form.lists.setdefault(key, []).append(value)
    finally:
        await form_data.close()
    return form
