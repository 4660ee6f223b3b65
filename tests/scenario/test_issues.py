from __future__ import annotations

from mockserver.scenario.issues import ScenarioIssue


def test_issue_without_line_prints_file_only() -> None:
    assert str(ScenarioIssue("f.yaml", None, None, "", "boom")) == "f.yaml: boom"
    assert str(ScenarioIssue("f.yaml", 3, 7, "seed", "seed: bad")) == "f.yaml:3:7: seed: bad"
