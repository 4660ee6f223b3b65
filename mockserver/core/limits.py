"""Every bound on the work a request or a scenario can make the server do, in one place.

A request body, a scenario file and a reply template are all data someone else wrote; none of
them may freeze the server, exhaust its memory or make it fail later on something it accepted.
Each bound is enforced where the data comes in, and a breach is an error that says which bound
and where: a located scenario error at load, the vendor's 400 for a request, a vendor-shaped
500 naming the rule for a template or regex that overruns at request time.

>>> too_deep([[[]]], 2)
True
"""

from __future__ import annotations

from typing import Any

# Nesting levels of a JSON request body. orjson reads 1,024 levels but writes only 254, and the
# body is written again later (the journal, retry groups): anything accepted must write back.
MAX_JSON_DEPTH = 128

# Scenario files: nesting levels, and the values YAML aliases may add to a file beyond the ones
# it spells out (nine anchors of nine aliases each are 9**10 values: an "alias bomb").
MAX_YAML_DEPTH = 128
MAX_ALIAS_EXPANSION = 100_000

# One render of a reply template (or of every template in one templated value): operations
# (calls, filters, operators, loop iterations, outputs), characters produced, and a wall-clock
# backstop for single operations that are slow on large data.
TEMPLATE_OPERATIONS = 100_000
TEMPLATE_OUTPUT_CHARS = 4_000_000
TEMPLATE_SECONDS = 2.0

# One search of a `match:` regex against a request's text.
REGEX_SECONDS = 0.05


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `value` (parsed JSON: dicts, lists, scalars) nests more than `limit` levels; a
    scalar is level 0, `[]` level 1."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level + 1 > limit:
            return True
        pending.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return False


def json_too_deep(raw: bytes, value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """`too_deep` for a body parsed from `raw`: with no more brackets in it than `limit`, it
    can't be (most bodies), and the parsed value isn't walked."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    return too_deep(value, limit)
