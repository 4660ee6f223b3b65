"""Files from disk a scenario answers with (`reply: {file: fox.png}`), as the request asks.

A picture keeps its bytes when it already has the asked size and format; otherwise it is
resized (cover-cropped, so it is never distorted) and saved in the asked format. A recording
keeps its bytes when its container is the asked one; otherwise it is decoded, mixed down to
mono at 24 kHz and encoded as the speech endpoint's own files are (`mockserver.media.audio`).
The recipe names the file's sha256, so an edited file is a new file with a new URL.
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

from mockserver.media.recipes import DiskRecipe

# Formats FFmpeg names a container by, per response_format of the speech endpoint.
CONTAINERS = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav"}

_digests: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


def digest_of(path: str) -> str:
    """The sha256 of a file, read again only when its size or modification time change."""
    stat = Path(path).stat()
    key = (path, stat.st_size, stat.st_mtime_ns)
    with _lock:
        known = _digests.get(key)
    if known is None:
        known = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        with _lock:
            _digests[key] = known
    return known


def convert(recipe: DiskRecipe) -> bytes:
    data = Path(recipe.path).read_bytes()
    if recipe.kind == "image":
        return _picture(data, recipe)
    return _recording(data, recipe)


def _picture(data: bytes, recipe: DiskRecipe) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        fmt = (image.format or "").lower()
        size = (recipe.width, recipe.height)
        if fmt == recipe.format and image.size == size:
            return data
        image.load()
        fitted = image if image.size == size else ImageOps.fit(image, size)
    out = io.BytesIO()
    if recipe.format == "png":
        fitted.save(out, "PNG", compress_level=1)
    elif recipe.format == "jpeg":
        fitted.convert("RGB").save(out, "JPEG", quality=recipe.quality)
    else:
        mode = "RGBA" if "A" in fitted.getbands() else "RGB"
        fitted.convert(mode).save(out, "WEBP", quality=recipe.quality, method=0)
    return out.getvalue()


def _recording(data: bytes, recipe: DiskRecipe) -> bytes:
    import av
    import numpy as np

    from mockserver.media.audio import SAMPLE_RATE, encode

    with av.open(io.BytesIO(data), "r") as container:
        if container.format.name.split(",")[0] == CONTAINERS.get(recipe.format):
            return data
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        chunks = []
        for frame in container.decode(container.streams.audio[0]):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    if recipe.format == "pcm":
        return pcm.astype("<i2").tobytes()
    return encode(pcm, recipe.format)
