from __future__ import annotations

import orjson

from mockserver.core.limits import MAX_JSON_DEPTH, json_too_deep, too_deep


def test_depth_counts_containers() -> None:
    assert not too_deep(1, 0)
    assert not too_deep([], 1)
    assert too_deep([[]], 1)
    assert not too_deep({"a": [{"b": []}]}, 4)
    assert too_deep({"a": [{"b": []}]}, 3)


def test_the_limit_leaves_room_to_write_a_body_back() -> None:
    raw = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    body = orjson.loads(raw)
    assert not json_too_deep(raw, body)
    orjson.dumps({"requests": [{"body": body}]})  # the journal's envelope fits
    deeper = b"[" + raw + b"]"
    assert json_too_deep(deeper, orjson.loads(deeper))


def test_brackets_in_strings_only_make_the_check_look_closer() -> None:
    raw = orjson.dumps({"text": "[" * 500})
    assert not json_too_deep(raw, orjson.loads(raw))
