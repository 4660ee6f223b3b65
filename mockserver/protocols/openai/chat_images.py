"""Pictures inside Chat Completions answers, as the gateway returns them.

- Gemini image models (`gemini-2.5-flash-image`, `gemini-3-pro-image-preview`): new-api asks
  Gemini for `responseModalities: [TEXT, IMAGE]` and turns each `inlineData` image part into
  markdown in the message content, `![image](data:image/png;base64,...)`, parts joined by a
  newline (new-api: service/relayconvert/internal/gemini_chat/to_oai_chat_resp.go,
  `ResponseGeminiChat2OpenAI` / `StreamResponseGeminiChat2OpenAI`). Streamed, the image comes
  in the chunk of the Gemini event that carried it (the last), with no separator. The size is
  `extra_body.google.image_config` (`aspect_ratio`, `image_size`), which new-api maps to
  Gemini's `imageConfig` (oai_chat/to_gemini_chat_req.go); the picture is the one the Gemini
  dialect draws for the same model, prompt and size.
- "gpt-4o-image"-style models that gateways sell (`gpt-4o-image`, `gpt-4o-image-vip`,
  `sora_image`): the content ends with a markdown link to a PNG this server serves,
  `![image](http://<host>/_mock/files/img-....png)`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.media.files import ROUTE_PREFIX, file_name
from mockserver.media.recipes import ImageRecipe
from mockserver.protocols.gemini import images as gemini_images

if TYPE_CHECKING:
    from mockserver.media.files import MediaStore

Kind = Literal["inline", "link"]
LINK_MODELS = frozenset({"gpt-4o-image", "gpt-4o-image-vip", "sora_image", "sora-image"})
LINK_SIZE = (1024, 1024)
MEDIA_KEY = "chat_image_files"  # exchange.derived: [(name, recipe)] the server must serve


def image_kind(model: str) -> Kind | None:
    """How a model's chat answers carry pictures, or None when they carry none."""
    name = model.lower().rsplit("/", 1)[-1]
    if name in LINK_MODELS or name.startswith("gpt-4o-image"):
        return "link"
    if name.startswith("gemini-") and "-image" in name:
        return "inline"
    return None


def _image_config(body: Mapping[str, Any]) -> Mapping[str, Any]:
    google = body.get("google")
    if google is None and isinstance(body.get("extra_body"), dict):
        google = body["extra_body"].get("google")
    config = google.get("image_config") if isinstance(google, dict) else None
    return config if isinstance(config, dict) else {}


def check_image_config(body: Mapping[str, Any]) -> None:
    """new-api refuses Gemini's own camelCase names in `extra_body.google` (it wants
    `image_config`, `aspect_ratio`, `image_size`): a 500 `convert_request_failed`."""
    google = body.get("google")
    if google is None and isinstance(body.get("extra_body"), dict):
        google = body["extra_body"].get("google")
    if not isinstance(google, dict):
        return
    wrong = None
    if "imageConfig" in google:
        wrong = ("imageConfig", "image_config")
    config = google.get("image_config")
    if isinstance(config, dict):
        for camel, snake in (("aspectRatio", "aspect_ratio"), ("imageSize", "image_size")):
            if wrong is None and camel in config:
                wrong = (f"image_config.{camel}", f"image_config.{snake}")
    if wrong is not None:
        raise APIError(
            500,
            f"extra_body.google.{wrong[0]} is not supported, "
            f"use extra_body.google.{wrong[1]} instead",
            type="new_api_error",
            code="convert_request_failed",
        )


def gemini_size(exchange: Exchange) -> tuple[int, int]:
    """The picture's size from `image_config`, as new-api passes it on to Gemini."""
    config = _image_config(exchange.body)
    aspect = config.get("aspect_ratio")
    width, height = gemini_images.ASPECT_SIZES.get(
        aspect if isinstance(aspect, str) else "1:1", gemini_images.ASPECT_SIZES["1:1"]
    )
    scale_name = config.get("image_size")
    scale = gemini_images.IMAGE_SCALE.get(scale_name if isinstance(scale_name, str) else "1K", 1)
    return width * scale, height * scale


def _edit(exchange: Exchange) -> bool:
    return bool(exchange.messages) and any(
        a.kind == "image" for a in exchange.messages[-1].attachments
    )


def _link_recipe(exchange: Exchange, index: int) -> ImageRecipe:
    seed = ids.seed_for(ids.digest(exchange.model, exchange.last_user), "chat-image") % 100_000
    width, height = LINK_SIZE
    return ImageRecipe(
        seed, exchange.last_user, width, height, variant=index, caption=exchange.model
    )


def _link_name(recipe: ImageRecipe) -> str:
    return file_name("img", recipe.key, "png")


def _link_url(exchange: Exchange, name: str) -> str:
    host = exchange.headers.get("host", "127.0.0.1")
    scheme = exchange.headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{host}{ROUTE_PREFIX}{name}"


def markdown(exchange: Exchange, kind: Kind, index: int, file: str | None = None) -> str:
    """The markdown image of choice `index` (an inline one from `file`, a reply's `file:`,
    when given)."""
    if kind == "inline":
        width, height = gemini_size(exchange)
        mime = "image/png"
        if file is not None:
            mime, data = gemini_images.picture_file(file, width, height)
        else:
            data = gemini_images.picture(
                exchange.model, exchange.last_user, width, height, index, _edit(exchange)
            )
        return f"![image](data:{mime};base64,{base64.b64encode(data).decode('ascii')})"
    name = _link_name(_link_recipe(exchange, index))
    return f"![image]({_link_url(exchange, name)})"


def note_files(exchange: Exchange) -> None:
    """Record the files a link-style answer names (at parse), so the server can serve them."""
    if image_kind(exchange.model) != "link":
        return
    recipes = [_link_recipe(exchange, index) for index in range(max(exchange.n, 1))]
    exchange.derived[MEDIA_KEY] = [(_link_name(recipe), recipe) for recipe in recipes]


def register_files(media: MediaStore, exchange: Exchange) -> None:
    """Let `GET /_mock/files/{name}` make the files a link-style answer names."""
    for name, recipe in exchange.derived.get(MEDIA_KEY, ()):
        media.remember(name, "image/png", recipe)


def _joined(text: str | None, image: str, kind: Kind) -> str:
    if not text:
        return image
    return f"{text}\n{image}" if kind == "inline" else f"{text}\n\n{image}"


def _file(files: Sequence[str | None], index: int) -> str | None:
    return files[index] if index < len(files) else None


def add_to_message(
    rest: dict[str, Any], exchange: Exchange, kind: Kind, files: Sequence[str | None] = ()
) -> None:
    """Each choice's message content followed by its picture (in `rest`, a completion's
    fields); `files[i]`: choice i's picture from disk."""
    for index, body in enumerate(rest["choices"]):
        message = body["message"]
        if message.get("tool_calls") or message.get("refusal") is not None:
            continue
        image = markdown(exchange, kind, index, _file(files, index))
        message["content"] = _joined(message.get("content"), image, kind)


def add_to_deltas(
    deltas: list[list[dict[str, Any]]],
    exchange: Exchange,
    kind: Kind,
    files: Sequence[str | None] = (),
) -> None:
    """A content delta with each choice's picture, before its finishing chunk."""
    for index, choice_deltas in enumerate(deltas):
        if not choice_deltas or any("tool_calls" in d["delta"] for d in choice_deltas):
            continue
        image = markdown(exchange, kind, index, _file(files, index))
        piece = image if kind == "inline" else "\n\n" + image
        finish = choice_deltas[-1]
        choice_deltas.insert(
            len(choice_deltas) - 1,
            {
                "index": finish["index"],
                "delta": {"content": piece},
                "logprobs": None,
                "finish_reason": None,
            },
        )
