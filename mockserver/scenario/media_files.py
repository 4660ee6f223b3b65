"""`file:` in a reply: a picture or a recording on disk that an image or speech request is
answered with (`mockserver.media.disk` converts it to what the request asks).

The path is relative to the folder of the scenario file that names it, and must name an
existing file when the scenario loads. A scenario with no file behind it (inline rules,
rules published through `/_mock/`) may only name files inside the server's working folder.
"""

from __future__ import annotations

from pathlib import Path


def resolve(value: str, base_dir: Path | None) -> str:
    """The absolute path `value` names; ValueError (located at the key by the loader) when
    there is no such file or it lies where this scenario may not read."""
    if not value.strip():
        raise ValueError("file: expected a path to an image or audio file; got an empty string")
    root = base_dir if base_dir is not None else Path.cwd()
    path = (root / value).resolve()
    if base_dir is None and not path.is_relative_to(Path.cwd().resolve()):
        raise ValueError(
            f"file: {value!r} lies outside the server's working folder; a scenario without a "
            "file of its own may only name files inside it"
        )
    if not path.is_file():
        where = "the scenario file's folder" if base_dir is not None else "the working folder"
        nearby = _nearby(path.parent)
        hint = f"; files there: {', '.join(nearby)}" if nearby else ""
        raise ValueError(
            f"file: no such file {value!r} (looked for {path}, relative to {where}){hint}"
        )
    return str(path)


def _nearby(folder: Path, limit: int = 5) -> list[str]:
    """A few files of the folder the path points into: the likely intended one among them."""
    try:
        names = sorted(p.name for p in folder.iterdir() if p.is_file())
    except OSError:
        return []
    return names[:limit]
