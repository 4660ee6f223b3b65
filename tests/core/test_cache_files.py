from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest
import yaml

from mockserver.core import cache_files

MODELS = "data/models.yaml"


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_files.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("MOCKSERVER_CACHE_DIR")
    assert cache_files.cache_dir() == tmp_path / "xdg" / "mockserver"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_files.cache_dir() == tmp_path / "home" / ".cache" / "mockserver"


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(tmp_path))
    return tmp_path


def expected_models() -> object:
    text = Path(cache_files.__file__).parent.parent.joinpath(MODELS).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_packaged_yaml_is_parsed_once_then_read_without_pyyaml(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cache_files.packaged_yaml(MODELS)
    assert first == expected_models()
    (written,) = cache.glob("models-*.json")
    monkeypatch.setitem(sys.modules, "yaml", None)  # importing PyYAML now fails
    assert cache_files.packaged_yaml(MODELS) == first
    assert list(cache.glob("models-*.json")) == [written]


def test_a_corrupt_cache_file_is_parsed_again(cache: Path) -> None:
    cache_files.packaged_yaml(MODELS)
    (written,) = cache.glob("models-*.json")
    written.write_bytes(b'{"models": [')
    assert cache_files.packaged_yaml(MODELS) == expected_models()
    assert orjson.loads(written.read_bytes()) == expected_models()  # written again, whole


def test_data_json_cannot_keep_is_not_cached(
    cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    (package / "data").mkdir(parents=True)
    (package / "data" / "dated.yaml").write_text("released: 2025-01-01\n")
    monkeypatch.setattr(cache_files, "PACKAGE_DIR", package)
    document = cache_files.packaged_yaml("data/dated.yaml")
    assert document == {"released": yaml.safe_load("d: 2025-01-01")["d"]}
    assert not list(cache.glob("dated-*.json"))


def test_an_unwritable_cache_folder_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", "/proc/no-such-folder")
    assert cache_files.packaged_yaml(MODELS) == expected_models()


def test_derived_json_derives_once_per_source(cache: Path) -> None:
    calls: list[bytes] = []

    def derive(source: bytes) -> object:
        calls.append(source)
        return {"length": len(source), "parts": [1, 2]}

    for source in (b"one", b"one", b"three", b"one"):
        value = cache_files.derived_json("stem", source, lambda s=source: derive(s))
        assert value == {"length": len(source), "parts": [1, 2]}
    assert calls == [b"one", b"three"]
    assert len(list(cache.glob("stem-*.json"))) == 2


def test_derived_values_json_would_change_are_not_stored(cache: Path) -> None:
    assert cache_files.derived_json("tuples", b"x", lambda: {"parts": (1, 2)}) == {"parts": (1, 2)}
    assert not list(cache.glob("tuples-*.json"))


def test_package_sources_are_the_files_bytes_or_none() -> None:
    here = cache_files.PACKAGE_DIR
    expected = (here / "core/ids.py").read_bytes() + (here / "core/errors.py").read_bytes()
    assert cache_files.package_sources(["core/ids.py", "core/errors.py"]) == expected
    assert cache_files.package_sources(["core/ids.py", "no-such-module.py"]) is None
