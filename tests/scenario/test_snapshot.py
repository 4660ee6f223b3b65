"""Scenario files served from snapshots: records read as the validated models do, a file
validated once is read back without the loader, and anything off falls back to validating."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver.http.app import create_app
from mockserver.scenario import ScenarioError, ScenarioSet, loader, snapshot
from mockserver.scenario.loader import validate_paths
from mockserver.scenario.records import FaultLike, Record
from mockserver.scenario.snapshot import decode, encode, load_paths
from mockserver.server_state import MockState
from mockserver.settings import Settings

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SCENARIO_FILES = [
    HERE / "everything.yaml",
    HERE / "good.yaml",
    *sorted((ROOT / "scenarios").glob("*.yaml")),
    *sorted((ROOT / "bench" / "scenarios").glob("*.yaml")),
]


@pytest.fixture(autouse=True)
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(folder))
    return folder


def walk(value: Any) -> list[Any]:
    """Every model (or record) inside `value`, depth first."""
    found = []
    if hasattr(type(value), "model_fields") and not isinstance(value, type):
        found.append(value)
        for name in type(value).model_fields:
            found += walk(getattr(value, name))
    elif isinstance(value, list):
        for item in value:
            found += walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            found += walk(item)
    return found


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_records_read_as_the_validated_models(path: Path) -> None:
    (model,) = validate_paths([path])
    (record,) = decode(orjson.loads(orjson.dumps(encode([model]))))
    assert isinstance(record, Record)
    models, records = walk(model), walk(record)
    assert [type(m).__name__ for m in models] == [type(r).__name__ for r in records]
    for m, r in zip(models, records, strict=True):
        assert r.model_fields_set == m.model_fields_set, type(m).__name__
        for options in ({}, {"exclude_none": True, "by_alias": True}):
            assert r.model_dump(**options) == m.model_dump(**options), type(m).__name__
    assert record.source == model.source
    for i, rule in enumerate(model.rules):
        assert record.rules[i].kind == rule.kind
        for n in range(6):
            assert record.rules[i].step(n).model_dump() == rule.step(n).model_dump()
        for place in (("rules", i), ("rules", i, "name")):
            assert record.location(place) == model.location(place)
    assert record.embeddings.rules() == model.embeddings.rules()


def test_every_model_of_the_format_is_in_the_equivalence_file() -> None:
    from mockserver.scenario import model, outcomes, predicates
    from mockserver.scenario.spec import Spec

    defined = {
        name
        for module in (model, outcomes, predicates)
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, Spec)
        and value.__module__ == module.__name__
    }
    (everything,) = validate_paths([HERE / "everything.yaml"])
    assert {type(m).__name__ for m in walk(everything)} == defined


def test_record_methods_behave_as_pydantic_ones() -> None:
    (model,) = validate_paths([HERE / "everything.yaml"])
    (record,) = decode(encode([model]))
    fault_model, fault_record = model.rules[1].step(1), record.rules[1].step(1)
    assert isinstance(fault_model, FaultLike) and isinstance(fault_record, FaultLike)
    assert not isinstance(record.rules[1].step(9), FaultLike)
    copied = fault_record.model_copy(update={"preset": "server_error"})
    expected = fault_model.model_copy(update={"preset": "server_error"})
    assert copied.model_dump() == expected.model_dump()
    assert copied.model_fields_set == expected.model_fields_set
    assert fault_record.preset is None  # the original is untouched
    with pytest.raises(AttributeError, match="frozen"):
        fault_record.status = 404
    assert fault_record == decode(encode([model]))[0].rules[1].step(1)
    latency = record.rules[1].step(3).latency
    assert hash(latency) == hash(decode(encode([model]))[0].rules[1].step(3).latency)
    assert fault_record != fault_model.model_copy(update={"status": 501})
    reply = record.rules[0].reply
    assert [c.model_dump() for c in reply.alternatives()] == [
        c.model_dump() for c in model.rules[0].reply.alternatives()
    ]
    plain = record.rules[2].reply
    assert plain.alternatives() == [plain]
    assert "FaultSpec(preset=None, status=500" in repr(fault_record)


LOOKUP = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
EVERYTHING = {
    "model": "gpt-4o",
    "n": 5,
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        {"role": "user", "content": "ORDER 42?"},
    ],
    "tools": [LOOKUP],
    "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    "response_format": {"type": "json_schema", "json_schema": {"name": "o", "schema": {}}},
}
REQUESTS: list[dict[str, Any]] = [
    EVERYTHING,
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "flaky"}], "stream": True},
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "flaky"}], "stream": True},
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "flaky"}], "stream": True},
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "please filter"}]},
    {"model": "paced-model", "messages": [{"role": "user", "content": "hi"}]},
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "weather in Rome?"}]},
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "flaky"}]},
]


def served(scenarios: ScenarioSet) -> list[str]:
    state = MockState(Settings(), scenarios)
    with TestClient(create_app(state=state), base_url="http://localhost") as client:
        headers = {"authorization": "Bearer sk-test", "x-trace": "t-1", "x-retry": "2"}
        answers = [
            client.post("/v1/chat/completions", json=body, headers=headers) for body in REQUESTS
        ]
        embedded = client.post(
            "/v1/embeddings",
            json={"model": "text-embedding-3-small", "input": ["cat", "kitten"]},
            headers=headers,
        )
        journal = client.get("/_mock/requests").json()["requests"]
    for call in journal:  # clock readings: when it came, when its fault struck
        call.pop("at")
        if call.get("fault"):
            call["fault"].pop("at", None)
    return [
        *(f"{a.status_code} {a.text}" for a in [*answers, embedded]),
        orjson.dumps(journal).decode(),
    ]


def test_served_from_records_and_from_models_byte_for_byte() -> None:
    files = [HERE / "everything.yaml", HERE / "good.yaml"]
    from_models = served(ScenarioSet.build(validate_paths(files)))
    assert from_models == served(load_paths(files))  # validated now
    assert from_models == served(load_paths(files))  # read from the snapshot
    journal = from_models[-1]
    for rule in ("everything-matched", "flaky-twice", "plain-fault", "flaky"):
        assert f'"rule":"{rule}"' in journal, rule


def test_a_file_validated_once_is_read_back_without_the_loader(
    cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    write(folder, "b.yml", "version: 1\nrules: [{name: b, reply: {}}]\n")
    write(folder, "a.yaml", "version: 1\nrules: [{name: a, reply: {}}]\n")
    first = load_paths([HERE / "good.yaml", folder])
    assert [r.name for r in first.rules] == ["weather-tool-call", "flaky", "a", "b"]
    (written,) = cache.glob("scenarios-*.json")

    def no_validating(paths: object) -> None:
        raise AssertionError("validated again")

    monkeypatch.setattr(loader, "validate_paths", no_validating)
    again = load_paths([HERE / "good.yaml", folder])
    assert [r.where for r in again.rules] == [r.where for r in first.rules]
    assert (again.seed, again.clock, again.strict) == (first.seed, first.clock, first.strict)
    assert again.summary_lines() == first.summary_lines()
    assert list(cache.glob("scenarios-*.json")) == [written]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_an_edited_file_is_validated_again(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "version: 1\nrules: [{name: a, reply: {content: one}}]\n")
    assert load_paths([path]).rules[0].reply.content.source == "one"
    write(tmp_path, "a.yaml", "version: 1\nrules: [{name: a, reply: {content: two}}]\n")
    assert load_paths([path]).rules[0].reply.content.source == "two"
    write(tmp_path, "a.yaml", "version: 1\nrules: [{name: a, reply: {contnt: two}}]\n")
    with pytest.raises(ScenarioError, match="did you mean 'content'"):
        load_paths([path])


@pytest.mark.parametrize(
    "damage",
    [
        b"{",
        b"[]",
        b'{"scenarios": [], "classes": 3}',
        b'{"scenarios": [{"value": {"$m": "Nope"}}], "classes": {}}',
    ],
)
def test_a_damaged_snapshot_is_validated_again(cache: Path, tmp_path: Path, damage: bytes) -> None:
    path = write(tmp_path, "a.yaml", "version: 1\nseed: 5\nrules: [{name: a, reply: {}}]\n")
    load_paths([path])
    (written,) = cache.glob("scenarios-*.json")
    written.write_bytes(damage)
    loaded = load_paths([path])
    assert (loaded.seed, [r.name for r in loaded.rules]) == (5, ["a"])
    assert orjson.loads(written.read_bytes())["scenarios"]  # written again, whole


def test_files_with_errors_leave_no_snapshot(cache: Path, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", "version: 1\nrules: [{name: a}]\n")
    with pytest.raises(ScenarioError, match="exactly one of reply"):
        load_paths([bad])
    one = write(tmp_path, "one.yaml", "version: 1\nembeddings: {pinned: {kitten: [1, 0]}}\n")
    near = "{near: [{texts: [cat, kitten], similarity: 0.5}]}"
    two = write(tmp_path, "two.yaml", f"version: 1\nembeddings: {near}\n")
    with pytest.raises(ScenarioError):  # each file is valid alone; together they clash
        load_paths([one, two])
    with pytest.raises(ScenarioError, match="no such file"):
        load_paths([tmp_path / "missing.yaml"])
    assert not cache.exists() or not list(cache.glob("scenarios-*.json"))


def test_values_json_would_change_are_served_but_not_kept(cache: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path, "dated.yaml", "version: 1\nrules: [{name: d, reply: {json: {day: 2025-01-01}}}]\n"
    )
    (rule,) = load_paths([path]).rules
    assert str(rule.reply.json_.value["day"]) == "2025-01-01"
    assert not cache.exists() or not list(cache.glob("scenarios-*.json"))


def test_only_the_newest_snapshots_are_kept(
    cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(snapshot, "KEEP", 3)
    written = []
    for i in range(5):
        path = write(tmp_path, f"s{i}.yaml", f"version: 1\nseed: {i}\n")
        load_paths([path])
        (new,) = set(cache.glob("scenarios-*.json")) - set(written)
        os.utime(new, (i + 1, i + 1))  # distinct, ordered times whatever the file system's
        written.append(new)
    assert sorted(cache.glob("scenarios-*.json")) == sorted(written[2:])


def test_an_unwritable_cache_folder_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", "/proc/no-such-folder")
    assert [r.name for r in load_paths([HERE / "good.yaml"]).rules] == [
        "weather-tool-call",
        "flaky",
    ]


def test_a_file_edited_while_it_is_validated_leaves_no_snapshot(
    cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write(tmp_path, "a.yaml", "version: 1\nseed: 1\n")
    validate = loader.validate_paths

    def edited_meanwhile(paths: list[Path]) -> object:
        validated = validate(paths)
        write(tmp_path, "a.yaml", "version: 1\nseed: 2\n")
        return validated

    monkeypatch.setattr(loader, "validate_paths", edited_meanwhile)
    assert load_paths([path]).seed == 1
    assert not cache.exists() or not list(cache.glob("scenarios-*.json"))
    monkeypatch.undo()
    assert load_paths([path]).seed == 2


def test_without_the_validating_code_to_key_them_files_are_validated_every_time(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "_VALIDATING_CODE", ("scenario/no-such-module.py",))
    snapshot._code_digest.cache_clear()
    try:
        assert load_paths([HERE / "good.yaml"]).rules
        assert not cache.exists() or not list(cache.glob("scenarios-*.json"))
    finally:
        monkeypatch.undo()
        snapshot._code_digest.cache_clear()


def test_the_made_up_empty_reply_is_the_one_pydantic_validates() -> None:
    from mockserver.scenario import ReplySpec
    from mockserver.scenario.records import REPLY_FIELDS, empty_reply

    assert tuple(ReplySpec.model_fields) == REPLY_FIELDS
    made = empty_reply("content_filter")
    validated = ReplySpec.model_validate({"content": "", "finish_reason": "content_filter"})
    assert made.model_dump() == validated.model_dump()
    assert made.model_fields_set == validated.model_fields_set
    assert [c.model_dump() for c in made.alternatives()] == [validated.model_dump()]
