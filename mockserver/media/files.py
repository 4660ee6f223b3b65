"""Generated files, made once per distinct recipe and kept in a bounded cache, served at stable
URLs (`GET /_mock/files/{name}`).

A file's name derives from its recipe (`img-<24 base62>.png`), so the same request names the
same file on every run and every worker. The bytes are kept least-recently-used up to
`capacity_bytes`; the recipe (small) is kept longer, so a URL whose bytes were dropped is made
again on its next download, byte for byte the same.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from msgspec import Struct

from mockserver.core import ids
from mockserver.core.fifo import FifoMap

ROUTE_PREFIX = "/_mock/files/"
RECIPES_KEPT = 8192


class MediaFile(Struct, frozen=True):
    name: str  # "img-….png": the last segment of its URL
    content_type: str
    data: bytes


class Recipe(Struct, frozen=True):
    content_type: str
    make: Callable[[], bytes]


def file_name(prefix: str, key: str, extension: str) -> str:
    """`file_name("img", key, "png")` -> "img-" + 24 base62 characters + ".png"."""
    return f"{prefix}-{ids.base62(key, 'file', 24)}.{extension}"


class MediaStore:
    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self.size = 0
        self._lock = threading.Lock()
        self._files: OrderedDict[str, MediaFile] = OrderedDict()
        self._recipes: FifoMap[str, Recipe] = FifoMap(RECIPES_KEPT)
        self.made = 0  # files generated (not served from the cache): for tests and benches

    def get_or_make(self, name: str, content_type: str, make: Callable[[], bytes]) -> MediaFile:
        """The file `name`, made by `make()` unless it is still cached. `make` may run twice
        when two first requests race; both make the same bytes."""
        with self._lock:
            self._recipes.put(name, Recipe(content_type, make))
            cached = self._files.get(name)
            if cached is not None:
                self._files.move_to_end(name)
                return cached
        media = MediaFile(name, content_type, make())
        with self._lock:
            self.made += 1
            self._keep(media)
        return media

    def file_if_cached(self, name: str) -> MediaFile | None:
        with self._lock:
            cached = self._files.get(name)
            if cached is not None:
                self._files.move_to_end(name)
            return cached

    def file(self, name: str) -> MediaFile | None:
        """A file served at its URL: cached, or made again from its recipe; None if unknown."""
        with self._lock:
            cached = self._files.get(name)
            if cached is not None:
                self._files.move_to_end(name)
                return cached
            recipe = self._recipes.get(name)
        if recipe is None:
            return None
        return self.get_or_make(name, recipe.content_type, recipe.make)

    def _keep(self, media: MediaFile) -> None:
        old = self._files.pop(media.name, None)
        if old is not None:
            self.size -= len(old.data)
        if len(media.data) > self.capacity_bytes:
            return  # larger than the whole cache: served, not kept
        self._files[media.name] = media
        self.size += len(media.data)
        while self.size > self.capacity_bytes:
            _, dropped = self._files.popitem(last=False)
            self.size -= len(dropped.data)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._recipes.clear()
            self.size = 0
