"""The files a finished task points at, made from its key: an MP4 of the requested length and
size (PyAV, H.264), its thumbnail and spritesheet, and Midjourney's 2×2 grid and its tiles
(Pillow). Byte-identical for the same key and parameters (single-threaded, bitexact encoding).

Kept small and self-contained so that they can join the shared media module later.
"""

from __future__ import annotations

import functools
import hashlib
import io
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image


FPS = 1  # a new picture each second: a valid video for any player, and cheap to encode


def recorded(
    params: dict[str, object], index: int = 0, kinds: tuple[str, ...] = ()
) -> bytes | None:
    """A recorded task's file (`mockserver record` downloaded it from the upstream): output
    `index` of its `files`, else its one `file` — of those whose extension is one of `kinds`
    when given (a Suno clip's cover beside its audio); None when the task was not recorded."""
    files = params.get("files") or ([params["file"]] if params.get("file") else [])
    if isinstance(files, list) and kinds:
        files = [name for name in files if str(name).rpartition(".")[2] in kinds]
    if not isinstance(files, list) or not files or not files[index % len(files)]:
        return None
    return Path(str(files[index % len(files)])).read_bytes()


def palette(key: str, count: int) -> list[tuple[int, int, int]]:
    """`count` distinct-looking colours derived from the key."""
    digest = hashlib.blake2b(key.encode(), digest_size=3 * count).digest()
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 3 * count, 3)]


def _frame(key: str, width: int, height: int, position: float) -> Image.Image:
    """One picture: the key's background with a band sweeping across as `position` goes 0 → 1."""
    from PIL import Image, ImageDraw  # with the first artifact, not at start-up

    background, band = palette(key, 2)
    image = Image.new("RGB", (width, height), background)
    left = int(position * width * 0.8)
    ImageDraw.Draw(image).rectangle((left, 0, left + width // 5, height), fill=band)
    return image


@functools.lru_cache(maxsize=8)
def video_mp4(key: str, seconds: int, width: int, height: int) -> bytes:
    """An H.264 MP4 of exactly `seconds` seconds at width × height."""
    import av  # loaded with the first video made

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast", "threads": "1", "crf": "32"}
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        stream.codec_context.time_base = Fraction(1, FPS)
        for index in range(seconds * FPS):
            picture = _frame(key, width, height, index / (seconds * FPS))
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _encode(image: Image.Image, format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format)
    return out.getvalue()


@functools.lru_cache(maxsize=32)
def thumbnail(key: str, width: int, height: int) -> bytes:
    """The video's first frame as WebP."""
    return _encode(_frame(key, width, height, 0.0), "WEBP")


@functools.lru_cache(maxsize=32)
def spritesheet(key: str, width: int, height: int, tiles: int = 4) -> bytes:
    """`tiles` frames across the video, side by side, as JPEG (each a quarter of the size)."""
    from PIL import Image  # with the first artifact, not at start-up

    w, h = max(1, width // 4), max(1, height // 4)
    sheet = Image.new("RGB", (w * tiles, h))
    for index in range(tiles):
        sheet.paste(_frame(key, width, height, index / tiles).resize((w, h)), (index * w, 0))
    return _encode(sheet, "JPEG")


@functools.lru_cache(maxsize=64)
def grid_png(key: str, side: int = 512) -> bytes:
    """Midjourney's answer to imagine: four images in a 2×2 grid, `side` pixels square."""
    from PIL import Image  # with the first artifact, not at start-up

    half = side // 2
    grid = Image.new("RGB", (side, side))
    for index in range(4):
        grid.paste(tile(key, index + 1, half), ((index % 2) * half, (index // 2) * half))
    return _encode(grid, "PNG")


def tile(key: str, index: int, side: int) -> Image.Image:
    """Image `index` (1-4) of a grid: a colour field with a disc, from the key and index."""
    from PIL import Image, ImageDraw  # with the first artifact, not at start-up

    background, disc = palette(f"{key}:{index}", 2)
    image = Image.new("RGB", (side, side), background)
    margin = side // 4
    ImageDraw.Draw(image).ellipse((margin, margin, side - margin, side - margin), fill=disc)
    return image


@functools.lru_cache(maxsize=64)
def tile_png(key: str, index: int, side: int = 512) -> bytes:
    """One grid image on its own (what an upscale gives)."""
    return _encode(tile(key, index, side), "PNG")


SAMPLE_RATE = 44100


def _tone(key: str, seconds: float) -> bytes:
    """Signed 16-bit mono samples: a note a second, picked by the key (each second is one
    period repeated, so making minutes of audio stays cheap)."""
    import math
    from array import array

    notes = hashlib.blake2b(key.encode(), digest_size=16).digest()
    samples = array("h")
    for second in range(math.ceil(seconds)):
        period = round(SAMPLE_RATE / (110 + 2 * notes[second % len(notes)]))
        cycle = array("h", (int(8000 * math.sin(2 * math.pi * i / period)) for i in range(period)))
        count = min(SAMPLE_RATE, round((seconds - second) * SAMPLE_RATE))
        block = cycle * (count // period + 1)
        samples.extend(block[:count])
    return samples.tobytes()


@functools.lru_cache(maxsize=16)
def audio_mp3(key: str, seconds: float) -> bytes:
    """An MP3 (mono, 44.1 kHz) of `seconds` seconds."""
    import av

    pcm = _tone(key, seconds)
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp3", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libmp3lame", rate=SAMPLE_RATE, layout="mono")
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        chunk = 1152 * 2  # bytes of one MP3 frame's samples
        for offset in range(0, len(pcm), chunk):
            part = pcm[offset : offset + chunk]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(part) // 2)
            frame.planes[0].update(part)
            frame.sample_rate = SAMPLE_RATE
            frame.pts = offset // 2
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


@functools.lru_cache(maxsize=16)
def audio_wav(key: str, seconds: float) -> bytes:
    """The same tone as `audio_mp3`, as a 16-bit mono WAV (Suno's lossless download)."""
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(SAMPLE_RATE)
        file.writeframes(_tone(key, seconds))
    return out.getvalue()


@functools.lru_cache(maxsize=32)
def cover_jpeg(key: str, side: int = 400) -> bytes:
    """A square cover picture (a Suno clip's `image_url`)."""
    return _encode(tile(key, 1, side), "JPEG")
