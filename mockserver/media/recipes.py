"""What a generated file is made from. A recipe is small, msgspec-encodable and complete: the
same recipe makes the same bytes in any process, so a worker can make a file another worker
named (`mockserver.media.files`). Pillow and PyAV are imported only when a file is made."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

from mockserver.core import ids

ImageFormat = Literal["png", "jpeg", "webp"]
AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]


class ImageRecipe(Struct, frozen=True, tag="image"):
    """Everything a picture is drawn from: two equal recipes give the same bytes."""

    seed: int
    prompt: str
    width: int
    height: int
    format: ImageFormat = "png"
    quality: int = 90  # JPEG / WebP quality (OpenAI's `output_compression`)
    transparent: bool = False  # a transparent background (PNG and WebP only)
    variant: int = 0  # the n-th image of one request
    caption: str = ""  # what else to print under the prompt (model, "edit of ...")

    @property
    def key(self) -> str:
        return ids.digest("image", self)


class SpeechRecipe(Struct, frozen=True, tag="speech"):
    seed: int
    text: str
    voice: str = "alloy"
    format: AudioFormat = "mp3"
    speed: float = 1.0
    instructions: str = ""

    @property
    def key(self) -> str:
        return ids.digest("speech", self)


class DiskRecipe(Struct, frozen=True, tag="disk"):
    """A scenario's file from disk (`reply: {file: ...}`) as a request asks for it."""

    path: str
    sha256: str  # of the file when it was asked for: an edited file is a new recipe
    kind: Literal["image", "audio"]
    format: str  # an ImageFormat or an AudioFormat
    width: int = 0
    height: int = 0
    quality: int = 90

    @property
    def key(self) -> str:
        return ids.digest(
            "disk", self.sha256, self.kind, self.format, self.width, self.height, self.quality
        )


Recipe = ImageRecipe | SpeechRecipe | DiskRecipe


def make(recipe: Recipe) -> bytes:
    """The file's bytes."""
    if isinstance(recipe, ImageRecipe):
        from mockserver.media.images import draw

        return draw(recipe)
    if isinstance(recipe, DiskRecipe):
        from mockserver.media.disk import convert

        return convert(recipe)
    from mockserver.media.audio import synthesize

    return synthesize(recipe)
