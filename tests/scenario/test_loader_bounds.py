"""A scenario file is bounded before anything walks it: aliases that would expand it beyond
measure, a value that holds itself and nesting past the limit are located errors; a folder's
symbolic links don't lead out of it; an error never quotes a file that isn't a scenario."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mockserver.core.limits import MAX_ALIAS_EXPANSION, MAX_YAML_DEPTH
from mockserver.scenario.issues import ScenarioError
from mockserver.scenario.loader import load_text, validate_paths


def issues_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "x.yaml")
    return [str(issue) for issue in caught.value.issues]


def bomb(levels: int) -> str:
    lines = ["version: 1", "rules:", "  - name: bomb", "    reply:", "      json:"]
    lines.append('        a0: &a0 ["{{ request.model }}", 1, 2, 3, 4, 5, 6, 7, 8]')
    for level in range(1, levels):
        lines.append(f"        a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_the_anchor_used_most() -> None:
    [issue] = issues_of(bomb(10))
    assert issue.startswith("x.yaml:14:13: YAML aliases expand this file by ")
    assert f"at most {MAX_ALIAS_EXPANSION:,} are allowed" in issue
    assert "used 10 times" in issue


def test_a_few_aliases_are_fine() -> None:
    scenario = load_text(bomb(3), "x.yaml")  # 9 + 81 + 729 values
    assert scenario.rules[0].name == "bomb"


def test_a_value_holding_itself_is_refused() -> None:
    [issue] = issues_of("version: 1\nrules: &r\n  - name: x\n    reply: {json: *r}\n")
    assert issue == "x.yaml:2:8: recursive YAML alias: the anchored value here contains itself"


def test_nesting_past_the_limit_is_located() -> None:
    deep = "[" * (MAX_YAML_DEPTH + 10) + "]" * (MAX_YAML_DEPTH + 10)
    [issue] = issues_of(f"version: 1\nrules:\n  - name: x\n    reply:\n      json: {deep}\n")
    assert issue.startswith("x.yaml:5:")
    assert f"nest more than {MAX_YAML_DEPTH} levels" in issue


def test_a_folder_link_out_of_it_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "ok.yaml").write_text("version: 1\n")
    (folder / "inside.yaml").symlink_to(folder / "ok.yaml")
    os.symlink(secret, folder / "leak.yaml")
    with pytest.raises(ScenarioError) as caught:
        validate_paths([folder])
    [issue] = caught.value.issues
    assert issue.file.endswith("leak.yaml")
    assert "symbolic link out of" in issue.message
    assert "root:x" not in str(caught.value)


def test_a_file_that_is_no_scenario_is_not_quoted() -> None:
    [issue] = issues_of("root:x:0:0:root:/root:/bin/bash\n")
    assert "got a string" in issue
    assert "/bin/bash" not in issue
