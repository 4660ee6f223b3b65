"""`file:` in a reply: resolved against the scenario file's folder, a missing file reported at
its file:line:column when the scenario loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.scenario.issues import ScenarioError
from mockserver.scenario.loader import load_data, validate_paths

SCENARIO = """\
version: 1
rules:
  - name: picture
    match: {model: dall-e-3}
    reply:
      file: {path}
"""


def write(folder: Path, path: str) -> Path:
    scenario = folder / "media.yaml"
    scenario.write_text(SCENARIO.replace("{path}", path))
    return scenario


def test_a_file_is_found_relative_to_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "fox.png").write_bytes(b"\x89PNG")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (scenario,) = validate_paths([write(tmp_path, "pictures/fox.png")])
    reply = scenario.rules[0].reply
    assert reply is not None and reply.file == str(tmp_path / "pictures" / "fox.png")


def test_a_missing_file_is_reported_at_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "fox.png").write_bytes(b"\x89PNG")
    scenario = write(tmp_path, "pictures/fxo.png")
    with pytest.raises(ScenarioError) as caught:
        validate_paths([scenario])
    (issue,) = caught.value.issues
    text = str(issue)
    assert text.startswith(f"{scenario}:6:13:"), text
    assert "no such file 'pictures/fxo.png'" in text
    assert "files there: fox.png" in text


def test_rules_without_a_file_may_not_reach_outside_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.wav").write_bytes(b"RIFF")
    rule = {"name": "spoken", "match": {"model": "tts-1"}, "reply": {"file": "here.wav"}}
    scenario = load_data({"version": 1, "rules": [rule]}, "<inline>")
    assert scenario.rules[0].reply is not None
    outside = {"name": "spoken", "match": {"model": "tts-1"}, "reply": {"file": "/etc/hostname"}}
    with pytest.raises(ScenarioError, match="outside the server's working folder"):
        load_data({"version": 1, "rules": [outside]}, "<inline>")


def test_an_empty_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="got an empty string"):
        validate_paths([write(tmp_path, '""')])
