from __future__ import annotations

from mockserver.media.files import MediaStore, file_name


def test_made_once_then_cached() -> None:
    store = MediaStore(1000)
    calls: list[int] = []

    def make() -> bytes:
        calls.append(1)
        return b"x" * 10

    first = store.get_or_make("a.png", "image/png", make)
    again = store.get_or_make("a.png", "image/png", make)
    assert first is again and len(calls) == 1 and store.made == 1


def test_bounded_by_bytes_and_made_again_from_the_recipe() -> None:
    store = MediaStore(250)
    for index in range(5):
        store.get_or_make(f"{index}.png", "image/png", lambda index=index: bytes([index]) * 100)
    assert store.size <= 250
    assert store.file_if_cached("0.png") is None  # dropped: the oldest
    again = store.file("0.png")  # its recipe is still known
    assert again is not None and again.data == b"\x00" * 100
    assert store.file("unknown.png") is None


def test_a_file_larger_than_the_cache_is_served_not_kept() -> None:
    store = MediaStore(10)
    media = store.get_or_make("big.wav", "audio/wav", lambda: b"y" * 100)
    assert media.data == b"y" * 100 and store.size == 0


def test_file_names_are_stable() -> None:
    assert file_name("img", "k", "png") == file_name("img", "k", "png")
    assert file_name("img", "k", "png").startswith("img-")
    assert file_name("img", "k", "png") != file_name("img", "l", "png")
