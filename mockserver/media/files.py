"""Generated files, made once per distinct recipe and kept in a bounded cache, served at stable
URLs (`GET /_mock/files/{name}`).

A file's name derives from its recipe (`img-<24 base62>.png`), so the same request names the
same file on every run and every worker. The bytes are kept least-recently-used up to
`capacity_bytes`, per process; the recipe (small) is written to the shared store's "media"
table, so a URL whose bytes were dropped, or that another worker named, is made again on its
next download, byte for byte the same.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from msgspec import Struct

from mockserver.core import ids
from mockserver.media.recipes import Recipe, make
from mockserver.store import MemoryStore, Table

ROUTE_PREFIX = "/_mock/files/"
RECIPES_KEPT = 8192


class MediaFile(Struct, frozen=True):
    name: str  # "img-….png": the last segment of its URL
    content_type: str
    data: bytes


class Shared(Struct, frozen=True):
    """A file's recipe as the store keeps it."""

    content_type: str
    recipe: Recipe


def file_name(prefix: str, key: str, extension: str) -> str:
    """`file_name("img", key, "png")` -> "img-" + 24 base62 characters + ".png"."""
    return f"{prefix}-{ids.base62(key, 'file', 24)}.{extension}"


class MediaStore:
    def __init__(self, capacity_bytes: int, recipes: Table | None = None) -> None:
        self.capacity_bytes = capacity_bytes
        self.size = 0
        self._lock = threading.Lock()
        self._files: OrderedDict[str, MediaFile] = OrderedDict()
        self._recipes = (
            recipes if recipes is not None else MemoryStore().table("media", RECIPES_KEPT)
        )
        self.made = 0  # files generated (not served from the cache): for tests and benches

    def get_or_make(self, name: str, content_type: str, recipe: Recipe) -> MediaFile:
        """The file `name`, made from `recipe` unless it is still cached. Two first requests
        that race may both make it; they make the same bytes."""
        cached = self.file_if_cached(name)
        if cached is not None:
            return cached
        self._recipes.set(name, Shared(content_type, recipe))
        media = MediaFile(name, content_type, make(recipe))
        with self._lock:
            self.made += 1
            self._keep(media)
        return media

    def remember(self, name: str, content_type: str, recipe: Recipe) -> None:
        """Make `name` servable without drawing it now (a link named before it is fetched)."""
        if self.file_if_cached(name) is None:
            self._recipes.set(name, Shared(content_type, recipe))

    def file_if_cached(self, name: str) -> MediaFile | None:
        with self._lock:
            cached = self._files.get(name)
            if cached is not None:
                self._files.move_to_end(name)
            return cached

    def file(self, name: str) -> MediaFile | None:
        """A file served at its URL: cached, or made again from its recipe; None if unknown."""
        cached = self.file_if_cached(name)
        if cached is not None:
            return cached
        shared = self._recipes.get(name, Shared)
        if shared is None:
            return None
        return self.get_or_make(name, shared.content_type, shared.recipe)

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
            self.size = 0
        self._recipes.clear()
