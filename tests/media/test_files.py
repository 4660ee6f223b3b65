from __future__ import annotations

from pathlib import Path

from mockserver.media.files import MediaStore, file_name
from mockserver.media.recipes import ImageRecipe, SpeechRecipe, make
from mockserver.store import MemoryStore
from mockserver.store.sqlite import SqliteStore


def tiny(index: int) -> ImageRecipe:
    return ImageRecipe(seed=index, prompt=f"picture {index}", width=32, height=32)


def test_made_once_then_cached() -> None:
    store = MediaStore(100_000)
    first = store.get_or_make("a.png", "image/png", tiny(0))
    again = store.get_or_make("a.png", "image/png", tiny(0))
    assert first is again and store.made == 1
    assert first.data == make(tiny(0))


def test_bounded_by_bytes_and_made_again_from_the_recipe() -> None:
    one = len(make(tiny(0)))
    store = MediaStore(one * 2 + one // 2)
    for index in range(5):
        store.get_or_make(f"{index}.png", "image/png", tiny(index))
    assert store.size <= store.capacity_bytes
    assert store.file_if_cached("0.png") is None  # dropped: the oldest
    again = store.file("0.png")  # its recipe is still known
    assert again is not None and again.data == make(tiny(0))
    assert store.file("unknown.png") is None


def test_a_file_larger_than_the_cache_is_served_not_kept() -> None:
    store = MediaStore(10)
    media = store.get_or_make("big.png", "image/png", tiny(1))
    assert media.data and store.size == 0


def test_another_worker_makes_a_file_from_the_shared_recipe(tmp_path: Path) -> None:
    """Two processes' stores on one SQLite file: the second serves what the first named."""
    path = str(tmp_path / "state.db")
    first = MediaStore(1 << 20, SqliteStore(path).table("media", 100))
    second = MediaStore(1 << 20, SqliteStore(path).table("media", 100))
    speech = SpeechRecipe(seed=1, text="Shared.", format="wav")
    made = first.get_or_make("speech-x.wav", "audio/wav", speech)
    served = second.file("speech-x.wav")
    assert served is not None and served.data == made.data and served.content_type == "audio/wav"
    assert MediaStore(1 << 20, MemoryStore().table("media", 10)).file("speech-x.wav") is None


def test_file_names_are_stable() -> None:
    assert file_name("img", "k", "png") == file_name("img", "k", "png")
    assert file_name("img", "k", "png").startswith("img-")
    assert file_name("img", "k", "png") != file_name("img", "l", "png")


def test_a_file_from_disk_is_shared_by_its_recipe(tmp_path: Path) -> None:
    """A rule's `file:` converted for one worker is made the same by another."""
    from PIL import Image

    from mockserver.media.disk import digest_of
    from mockserver.media.recipes import DiskRecipe

    picture = tmp_path / "logo.png"
    Image.new("RGB", (300, 200), (10, 200, 30)).save(picture)
    recipe = DiskRecipe(str(picture), digest_of(str(picture)), "image", "jpeg", 128, 128)
    path = str(tmp_path / "state.db")
    first = MediaStore(1 << 20, SqliteStore(path).table("media", 100))
    second = MediaStore(1 << 20, SqliteStore(path).table("media", 100))
    made = first.get_or_make("img-disk.jpeg", "image/jpeg", recipe)
    served = second.file("img-disk.jpeg")
    assert served is not None and served.data == made.data
    assert made.data.startswith(b"\xff\xd8")  # converted to JPEG
