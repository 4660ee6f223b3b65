"""Which chat models answer with pictures, and how the image config is read and refused."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.media.files import MediaStore
from mockserver.protocols.openai import chat_images


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("gemini-2.5-flash-image", "inline"),
        ("gemini-3-pro-image-preview", "inline"),
        ("models/gemini-2.5-flash-image", "inline"),
        ("gpt-4o-image", "link"),
        ("gpt-4o-image-vip", "link"),
        ("sora_image", "link"),
        ("gpt-4o", None),
        ("gpt-image-1", None),
        ("gemini-2.5-flash", None),
    ],
)
def test_image_kind(model: str, kind: str | None) -> None:
    assert chat_images.image_kind(model) == kind


def exchange(model: str, body: dict[str, Any], host: str = "127.0.0.1:9") -> Exchange:
    return Exchange(
        dialect="chat",
        endpoint="/v1/chat/completions",
        model=model,
        messages=[],
        body=body,
        headers={"host": host},
    )


@pytest.mark.parametrize(
    ("config", "size"),
    [
        ({}, (1024, 1024)),
        ({"aspect_ratio": "9:16"}, (768, 1344)),
        ({"aspect_ratio": "3:2", "image_size": "2K"}, (2496, 1664)),
        ({"aspect_ratio": "7:1"}, (1024, 1024)),  # unknown: Gemini's default square
    ],
)
def test_image_config_from_either_extra_body_nesting(
    config: dict[str, Any], size: tuple[int, int]
) -> None:
    google = {"google": {"image_config": config}}
    assert chat_images.gemini_size(exchange("gemini-2.5-flash-image", google)) == size
    nested = {"extra_body": google}
    assert chat_images.gemini_size(exchange("gemini-2.5-flash-image", nested)) == size


def test_camel_case_names_are_refused() -> None:
    with pytest.raises(APIError) as refused:
        chat_images.check_image_config({"google": {"imageConfig": {}}})
    assert refused.value.status == 500
    chat_images.check_image_config({"google": {"image_config": {"aspect_ratio": "1:1"}}})


def test_link_files_are_named_at_parse_and_servable_without_being_drawn() -> None:
    made = exchange("gpt-4o-image", {})
    chat_images.note_files(made)
    ((name, _),) = made.derived[chat_images.MEDIA_KEY]
    store = MediaStore(1 << 20)
    chat_images.register_files(store, made)
    assert store.made == 0
    link = chat_images.markdown(made, "link", 0)
    assert link == f"![image](http://127.0.0.1:9/_mock/files/{name})"
    served = store.file(name)
    assert served is not None and served.data.startswith(b"\x89PNG")
    assert store.made == 1
