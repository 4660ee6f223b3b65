from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mockserver.core.exchange import Exchange, Message
from mockserver.scenario.issues import ScenarioError
from mockserver.scenario.loader import load_data, load_text
from mockserver.scenario.model import DEFAULT_CLOCK
from mockserver.scenario.scenario_set import CompiledRule, ScenarioSet, load_paths

GOOD = (Path(__file__).parent / "good.yaml").read_text()


def issues_of(text: str, source: str = "x.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_text(textwrap.dedent(text), source)
    return [str(issue) for issue in caught.value.issues]


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def ask(text: str, **fields: object) -> Exchange:
    return Exchange(
        dialect="openai",
        endpoint="/v1/chat/completions",
        model="gpt-4o",
        messages=[Message(role="user", text=text)],
        body={},
        **fields,  # type: ignore[arg-type]
    )


# ----------------------------------------------------------------------------- valid files


def test_good_file_loads() -> None:
    scenario = load_text(GOOD, "good.yaml")
    assert (scenario.seed, scenario.clock, scenario.strict) == (42, 1748736000, True)
    assert [rule.name for rule in scenario.rules] == ["weather-tool-call", "flaky"]
    assert scenario.source == "good.yaml"
    assert scenario.location(("rules", 1)) == (15, 5)
    assert scenario.location(("rules", 1, "sequence", 2, "reply")) == (20, 16)


def test_load_paths_combines_files_in_order(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", GOOD)
    second = write(tmp_path, "b.yaml", "version: 1\nseed: 7\nstrict: false\nrules: [{name: x}]\n")
    second.write_text("version: 1\nseed: 7\nrules:\n  - {name: other, reply: {}}\n")
    loaded = load_paths([first, str(second)])
    assert isinstance(loaded, ScenarioSet)
    assert (loaded.seed, loaded.clock, loaded.strict) == (42, 1748736000, True)
    assert [rule.name for rule in loaded.rules] == ["weather-tool-call", "flaky", "other"]
    other = loaded.rules[2]
    assert isinstance(other, CompiledRule)
    assert (other.source, other.line, other.column, other.seed, other.index) == (
        str(second),
        4,
        5,
        7,
        2,
    )
    assert other.where == f"{second}:4:5"
    assert [m.id for m in loaded.models] == ["my-model"]
    assert loaded.summary_lines() == [
        f"{first}: 2 rules, 1 model",
        f"{second}: 1 rule",
        "2 files, 3 rules; seed 42, clock 1748736000, strict on",
    ]


def test_empty_set_has_defaults() -> None:
    empty = load_paths([])
    assert (empty.rules, empty.seed, empty.clock, empty.strict) == ((), 0, DEFAULT_CLOCK, False)
    assert empty.first_match(ask("hi")) is None


def test_directory_loads_yaml_files_sorted(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", "version: 1\nrules: [{name: b, reply: {}}]\n")
    write(tmp_path, "a.yaml", "version: 1\nseed: 3\nrules: [{name: a, reply: {}}]\n")
    write(tmp_path, "notes.txt", "not yaml: [")
    (tmp_path / "sub.yaml").mkdir()
    loaded = load_paths([tmp_path])
    assert [rule.name for rule in loaded.rules] == ["a", "b"]
    assert loaded.seed == 3


def test_load_data_for_dicts() -> None:
    scenario = load_data({"version": 1, "rules": [{"name": "r", "reply": {"content": "hi"}}]}, "t")
    assert scenario.source == "t"
    assert scenario.location(("rules", 0)) == (None, None)
    with pytest.raises(ScenarioError) as caught:
        load_data({"version": 1, "rules": [{"name": "r", "reply": {"contnet": "hi"}}]}, "test_x")
    assert str(caught.value) == (
        "test_x: unknown key 'contnet' at rules[0].reply; did you mean 'content'? "
        "(valid keys: content, tool_calls, reasoning, reasoning_redacted, refusal, json, "
        "finish_reason, web_search, code_execution, url_context, file, choices, usage)"
    )


# ----------------------------------------------------------------------------- error kinds


def test_unknown_key_with_did_you_mean() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            mach: {last_user: hi}
            reply: {}
    """
    assert issues_of(text, "scenarios/x.yaml") == [
        "scenarios/x.yaml:4:5: unknown key 'mach' at rules[0]; did you mean 'match'? "
        "(valid keys: name, match, reply, sequence, fault, fail_times, latency, task)"
    ]


def test_unknown_top_level_key() -> None:
    assert issues_of("version: 1\nrulez: []\n") == [
        "x.yaml:2:1: unknown key 'rulez' at the top level; did you mean 'rules'? "
        "(valid keys: version, seed, clock, strict, catalog, validation, latency, models, rules, "
        "chaos, rate_limits, embeddings, moderation, gateway)"
    ]


def test_unknown_key_without_a_close_match() -> None:
    [issue] = issues_of("version: 1\nrules: [{name: a, reply: {}, zzz: 1}]\n")
    assert issue.startswith("x.yaml:2:30: unknown key 'zzz' at rules[0] (valid keys: name,")


def test_wrong_enum_value_says_expected_and_got() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            reply: {finish_reason: done}
    """
    assert issues_of(text) == [
        "x.yaml:4:28: rules[0].reply.finish_reason: expected one of stop, length, tool_calls, "
        "content_filter; got 'done'"
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("seed: '42'", "x.yaml:2:7: seed: expected an integer; got '42'"),
        ("strict: 1", "x.yaml:2:9: strict: expected true or false; got 1"),
        ("rules: {}", "x.yaml:2:8: rules: expected a list; got a mapping"),
        ("models: [{id: m, context_window: 0}]", "x.yaml:2:34: models[0].context_window: "
         "expected a number > 0; got 0"),
        ("rules: [oops]", "x.yaml:2:9: rules[0]: expected a mapping (keys: name, match, reply, "
         "sequence, fault, fail_times, latency, task); got 'oops'"),
        ("clock: soon", "x.yaml:2:8: clock: expected unix seconds or an ISO-8601 datetime like "
         "2025-01-01T00:00:00Z; got 'soon'"),
    ],
)  # fmt: skip
def test_type_errors(line: str, message: str) -> None:
    assert issues_of(f"version: 1\n{line}\n") == [message]


def test_union_shapes_say_what_they_accept() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            match: {turn: "2", tool_choice: bogus, model: 5}
            reply: {content: 3}
    """
    assert issues_of(text) == [
        "x.yaml:4:19: rules[0].match.turn: expected an integer or {min: N, max: M}; got '2'",
        "x.yaml:4:37: rules[0].match.tool_choice: expected one of auto, none, required; "
        "got 'bogus'",
        "x.yaml:4:51: rules[0].match.model: expected a model name or glob, or a list of them; "
        "got 5",
        "x.yaml:5:22: rules[0].reply.content: expected a string or {fake_tokens: N}; got 3",
    ]


def test_missing_required_key_points_at_the_mapping() -> None:
    assert issues_of("version: 1\nrules:\n  - reply: {}\n") == [
        "x.yaml:3:5: missing required key 'name' at rules[0]"
    ]


def test_rule_outcome_errors_point_at_the_rule() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            reply: {}
            fault: {status: 500}
    """
    assert issues_of(text) == [
        "x.yaml:3:5: rules[0]: a rule needs exactly one of reply, sequence, fault, task "
        "(or fault + reply + fail_times); got reply and fault"
    ]


def test_bad_regex_located_at_its_value() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            match:
              last_user: {regex: "weather (in"}
            reply: {}
    """
    assert issues_of(text) == [
        "x.yaml:5:26: rules[0].match.last_user.regex: bad regex: missing ), unterminated "
        "subpattern at position 8"
    ]


def test_bad_template_located_at_the_nested_leaf() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            reply:
              tool_calls:
                - name: get_weather
                  arguments:
                    units: metric
                    city: "{{ match.city }"
    """
    assert issues_of(text) == [
        "x.yaml:9:19: rules[0].reply.tool_calls[0].arguments.city: bad template: "
        "unexpected '}' (template line 1)"
    ]


def test_template_line_inside_a_block_scalar() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            reply:
              content: |
                Hello {{ request.model }}.
                {% if %}
    """
    [issue] = issues_of(text)
    assert issue.startswith("x.yaml:5:16: rules[0].reply.content: bad template:")
    assert issue.endswith("(template line 2)")


def test_misspelt_template_variable_caught_at_load() -> None:
    text = 'version: 1\nrules: [{name: a, reply: {refusal: "{{ reqest.model }}"}}]\n'
    assert issues_of(text) == [
        "x.yaml:2:36: rules[0].reply.refusal: bad template: unknown variable reqest; "
        "templates can use match, request, tool_result"
    ]


def test_yaml_syntax_error_has_position() -> None:
    [issue] = issues_of("version: 1\nrules: [\n  {name: a\n")
    assert issue.startswith("x.yaml:4:1: YAML syntax error:")


def test_duplicate_yaml_keys_are_errors() -> None:
    text = "version: 1\nrules:\n  - name: a\n    reply: {}\n    reply: {content: b}\n"
    assert issues_of(text) == ["x.yaml:5:5: duplicate key 'reply' at rules[0] (first at line 4)"]


def test_yaml_merge_keys_still_work() -> None:
    text = """\
        version: 1
        rules:
          - &base {name: a, reply: {content: hi}}
          - <<: *base
            name: b
    """
    scenario = load_text(textwrap.dedent(text), "x.yaml")
    assert [rule.name for rule in scenario.rules] == ["a", "b"]


def test_python_tags_are_refused() -> None:
    [issue] = issues_of("version: 1\nseed: !!python/object/apply:os.getpid []\n")
    assert issue.startswith("x.yaml:2:7: YAML syntax error: could not determine a constructor")


def test_empty_file() -> None:
    assert issues_of("# nothing yet\n") == [
        "x.yaml:1:1: the file is empty; a scenario file starts with `version: 1`"
    ]


def test_top_level_list() -> None:
    assert issues_of("- name: a\n") == [
        "x.yaml:1:1: expected a mapping of scenario keys (version, seed, clock, strict, catalog, "
        "validation, latency, models, rules, chaos, rate_limits, embeddings, moderation, gateway) "
        "at the top level; got a list"
    ]


def test_two_documents() -> None:
    [issue] = issues_of("version: 1\n---\nversion: 1\n")
    assert issue.startswith("x.yaml:2:1: YAML syntax error: but found another document")


def test_missing_version() -> None:
    assert issues_of("rules: []\n") == [
        "x.yaml:1:1: missing required key 'version' at the top level; "
        "scenario files start with `version: 1`"
    ]


def test_other_version_reported_alone() -> None:
    [issue] = issues_of("version: 2\nrules: [{nom: a}]\nwhatever: 1\n")
    assert issue.startswith("x.yaml:1:10: version: unsupported scenario version 2: ")
    assert "reads version 1 only" in issue


def test_duplicate_rule_names_in_one_file() -> None:
    text = "version: 1\nrules:\n  - {name: a, reply: {}}\n  - {name: a, reply: {}}\n"
    assert issues_of(text) == [
        "x.yaml:4:12: duplicate rule name 'a': first defined at x.yaml:3:12; "
        "rule names must be unique across all loaded files"
    ]


# ----------------------------------------------------------------------------- many files


def test_every_issue_of_every_file(tmp_path: Path) -> None:
    one = write(tmp_path, "one.yaml", "version: 1\nrules:\n  - {name: a, mach: {}}\n  - {}\n")
    two = write(tmp_path, "two.yaml", "version: 1\nseed: x\nrules:\n  - {name: b, reply: 5}\n")
    with pytest.raises(ScenarioError) as caught:
        load_paths([one, two, tmp_path / "missing.yaml"])
    where = [(Path(i.file).name, i.line, i.column, i.path) for i in caught.value.issues]
    assert where == [
        ("one.yaml", 3, 15, "rules[0].mach"),
        ("one.yaml", 4, 5, "rules[1].name"),
        ("two.yaml", 2, 7, "seed"),
        ("two.yaml", 4, 22, "rules[0].reply"),
        ("missing.yaml", None, None, ""),
    ]
    text = str(caught.value)
    assert text.startswith("5 problems in scenario files:\n  ")
    assert f"\n  {tmp_path / 'missing.yaml'}: no such file or directory" in text


def test_duplicate_names_across_files_name_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "version: 1\nrules:\n  - {name: same, reply: {}}\n")
    second = write(tmp_path, "b.yaml", "version: 1\nrules:\n  - name: same\n    reply: {}\n")
    with pytest.raises(ScenarioError) as caught:
        load_paths([first, second])
    assert [str(i) for i in caught.value.issues] == [
        f"{second}:3:11: duplicate rule name 'same': first defined at {first}:3:12; "
        "rule names must be unique across all loaded files"
    ]


def test_duplicates_found_even_in_a_file_that_fails(tmp_path: Path) -> None:
    good = write(tmp_path, "a.yaml", "version: 1\nrules: [{name: same, reply: {}}]\n")
    bad = write(tmp_path, "b.yaml", "version: 1\nrules: [{name: same, reply: {}, x: 1}]\n")
    with pytest.raises(ScenarioError) as caught:
        load_paths([good, bad])
    messages = [i.message for i in caught.value.issues]
    assert len(messages) == 2
    assert messages[0].startswith("unknown key 'x'")
    assert messages[1].startswith("duplicate rule name 'same'")


def test_duplicate_model_ids_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "version: 1\nmodels: [{id: m}]\n")
    second = write(tmp_path, "b.yaml", "version: 1\nmodels: [{id: m}]\n")
    with pytest.raises(ScenarioError, match="duplicate model id 'm'"):
        load_paths([first, second])


def test_nothing_half_loaded(tmp_path: Path) -> None:
    good = write(tmp_path, "a.yaml", GOOD)
    bad = write(tmp_path, "b.yaml", "version: 1\nrules: [{name: z, reply: {content: 1}}]\n")
    with pytest.raises(ScenarioError) as caught:
        load_paths([good, bad])
    assert {Path(issue.file).name for issue in caught.value.issues} == {"b.yaml"}


def test_unreadable_file(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00version")
    with pytest.raises(ScenarioError, match="cannot read file"):
        load_paths([binary])


def test_a_tasks_lyrics_need_their_text_and_name_the_valid_keys() -> None:
    text = """\
        version: 1
        rules:
          - name: song
            task:
              lyrics: {id: abc, titel: Night}
    """
    assert issues_of(text) == [
        "x.yaml:5:15: missing required key 'text' at rules[0].task.lyrics",
        "x.yaml:5:25: unknown key 'titel' at rules[0].task.lyrics; did you mean 'title'? "
        "(valid keys: id, title, text)",
    ]
