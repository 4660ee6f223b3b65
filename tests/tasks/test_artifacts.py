from __future__ import annotations

import io

import av
from PIL import Image

from mockserver.tasks import artifacts


def test_video_has_the_requested_length_and_size_and_is_deterministic() -> None:
    data = artifacts.video_mp4("key-a", 4, 720, 1280)
    artifacts.video_mp4.cache_clear()
    assert artifacts.video_mp4("key-a", 4, 720, 1280) == data
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height, stream.codec_context.name) == (720, 1280, "h264")
        assert container.duration == 4 * av.time_base
        assert sum(1 for _ in container.decode(video=0)) == 4 * artifacts.FPS


def test_different_keys_give_different_pictures() -> None:
    assert artifacts.grid_png("a") != artifacts.grid_png("b")
    assert artifacts.thumbnail("a", 64, 32) != artifacts.thumbnail("b", 64, 32)


def test_grid_is_four_tiles() -> None:
    grid = Image.open(io.BytesIO(artifacts.grid_png("k", side=256))).convert("RGB")
    for index, (x, y) in enumerate([(0, 0), (128, 0), (0, 128), (128, 128)], start=1):
        tile = artifacts.tile("k", index, 128)
        assert grid.getpixel((x + 2, y + 2)) == tile.getpixel((2, 2))
        assert grid.getpixel((x + 64, y + 64)) == tile.getpixel((64, 64))


def test_spritesheet_and_thumbnail_formats() -> None:
    sheet = Image.open(io.BytesIO(artifacts.spritesheet("k", 400, 200)))
    assert (sheet.format, sheet.size) == ("JPEG", (400, 50))
    thumb = Image.open(io.BytesIO(artifacts.thumbnail("k", 400, 200)))
    assert (thumb.format, thumb.size) == ("WEBP", (400, 200))
