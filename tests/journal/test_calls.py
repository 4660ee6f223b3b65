from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mockserver.journal.calls import (
    Calls,
    Filters,
    assert_all_rules_used,
    assert_called,
    report,
    strict_miss_message,
)
from mockserver.journal.journal import Entry


def entry(seq: int, **fields: Any) -> Entry:
    defaults: dict[str, Any] = {
        "method": "POST",
        "endpoint": "/v1/chat/completions",
        "dialect": "openai.chat",
        "model": "gpt-4o",
        "status": 200,
    }
    return Entry(seq=seq, at=float(seq), **{**defaults, **fields})


JOURNAL = Calls(
    [
        entry(1, rule="weather", usage={"prompt_tokens": 12, "completion_tokens": 5}),
        entry(2, rule="weather", model="gpt-4o-mini", stream=True, events_sent=7),
        entry(
            3,
            endpoint="/v1/messages",
            dialect="anthropic.messages",
            model="claude-sonnet-4-5",
            body={"messages": [{"role": "user", "content": "hello"}]},
            near_misses=[{"rule": "weather", "failed": ["last_user: expected 'weather'"]}],
        ),
        entry(
            4,
            endpoint="/v1beta/models/gemini-2.5-flash:generateContent",
            dialect="gemini",
            model="gemini-2.5-flash",
            rule="flaky",
            fault={"status": 503},
            status=503,
        ),
    ]
)


def test_a_snapshot_answers_called_call_count_and_last() -> None:
    assert JOURNAL.called
    assert JOURNAL.call_count == 4
    assert JOURNAL.last.seq == 4
    assert not Calls([]).called


def test_last_of_nothing_names_the_filters() -> None:
    with pytest.raises(IndexError, match="no request recorded \\(rule='nope'\\)"):
        _ = JOURNAL(rule="nope").last


@pytest.mark.parametrize(
    ("criteria", "seqs"),
    [
        ({"rule": "weather"}, [1, 2]),
        ({"model": "gpt-4o*"}, [1, 2]),
        ({"model": "gpt-4o"}, [1]),
        ({"endpoint": "*:generateContent"}, [4]),
        ({"dialect": "openai.*"}, [1, 2]),
        ({"status": 503}, [4]),
        ({"matched": False}, [3]),
        ({"matched": True}, [1, 2, 4]),
        ({"rule": "weather", "model": "gpt-4o-mini"}, [2]),
    ],
)
def test_filters_are_globs_combined_with_and(criteria: dict[str, Any], seqs: list[int]) -> None:
    assert [e.seq for e in JOURNAL.filter(**criteria)] == seqs
    assert [e.seq for e in JOURNAL(**criteria)] == seqs  # calling it is the same


def test_filtering_a_filtered_snapshot_narrows_it_and_remembers_why() -> None:
    narrowed = JOURNAL(rule="weather")(model="gpt-4o-mini")

    assert [e.seq for e in narrowed] == [2]
    assert narrowed.filters == Filters(rule="weather", model="gpt-4o-mini")
    assert repr(narrowed) == "<Calls (rule='weather', model='gpt-4o-mini'): 1 requests>"


def test_slices_stay_snapshots() -> None:
    assert isinstance(JOURNAL[1:], Calls)
    assert [e.seq for e in JOURNAL[-2:]] == [3, 4]


def test_assert_called_returns_what_it_counted() -> None:
    found = assert_called(JOURNAL, Filters(rule="weather"), times=2)

    assert [e.seq for e in found] == [1, 2]


def test_assert_called_lists_the_most_similar_requests_and_what_each_missed() -> None:
    with pytest.raises(AssertionError) as failure:
        assert_called(JOURNAL, Filters(rule="weather", model="claude*"), times=1)

    message = str(failure.value)
    assert message.startswith("expected 1 request with rule='weather', model='claude*'; found 0.")
    lines = message.splitlines()
    assert lines[1] == "The journal holds 4 requests; the most similar:"
    # One missed criterion before two; each line says which.
    assert "#1 POST /v1/chat/completions (openai.chat, gpt-4o) → 200, rule 'weather'" in lines[2]
    assert "[model: expected 'claude*', got 'gpt-4o']" in lines[2]
    assert "rule: expected 'weather', got 'flaky'; model: expected 'claude*'" in lines[-1]


def test_assert_called_with_no_times_wants_at_least_one() -> None:
    assert_called(JOURNAL, Filters(dialect="gemini"))
    with pytest.raises(AssertionError, match="expected at least 1 request with rule='x'"):
        assert_called(JOURNAL, Filters(rule="x"))


def test_assert_called_on_an_empty_journal_says_so() -> None:
    with pytest.raises(AssertionError, match="The journal is empty"):
        assert_called(Calls([]), Filters(), times=1)


@dataclass
class NamedRule:
    name: str
    where: str


def test_assert_all_rules_used_names_each_unused_rule_and_where_it_is() -> None:
    rules = [
        NamedRule("weather", "a.yaml:3:5"),
        NamedRule("flaky", "a.yaml:9:5"),
        NamedRule("greeting", "b.yaml:4:5"),
    ]
    assert_all_rules_used(JOURNAL, rules[:2])
    with pytest.raises(AssertionError) as failure:
        assert_all_rules_used(JOURNAL, rules)

    assert str(failure.value) == (
        "1 rule never matched a request in this test:\n  'greeting' (b.yaml:4:5)"
    )


def test_report_shows_outcome_body_and_near_misses() -> None:
    text = report(JOURNAL)

    assert text.splitlines() == [
        "#1 POST /v1/chat/completions (openai.chat, gpt-4o) → 200, rule 'weather', "
        "usage 12+5 tokens",
        "#2 POST /v1/chat/completions (openai.chat, gpt-4o-mini) → 200, rule 'weather', "
        "stream of 7 events",
        "#3 POST /v1/messages (anthropic.messages, claude-sonnet-4-5) → 200, "
        "no rule matched (default reply)",
        '    body: {"messages":[{"role":"user","content":"hello"}]}',
        "    near miss 'weather': last_user: expected 'weather'",
        "#4 POST /v1beta/models/gemini-2.5-flash:generateContent (gemini, gemini-2.5-flash) "
        "→ 503, rule 'flaky', fault {\"status\":503}",
    ]
    assert report(Calls([])) == "no request reached the mock server in this test"


def test_long_bodies_are_cut_in_the_report() -> None:
    text = report(Calls([entry(1, body={"text": "x" * 1000})]))

    body_line = text.splitlines()[1]
    assert body_line.endswith("…")
    assert len(body_line) < 220


def test_strict_miss_message_lists_each_miss_with_its_near_misses() -> None:
    journal = Calls(
        [
            entry(1, rule="weather"),
            entry(
                2,
                status=400,
                strict_miss=True,
                near_misses=[{"rule": "weather", "failed": ["last_user: expected 'weather'"]}],
            ),
            entry(3, status=400, strict_miss=True),
        ]
    )

    lines = strict_miss_message(journal).splitlines()

    assert lines[0] == (
        "mockserver (strict mode): 2 requests matched no scenario rule (the client got HTTP 400):"
    )
    assert lines[1].startswith("  #2 POST /v1/chat/completions")
    assert "near miss 'weather': last_user: expected 'weather'" in lines[2]
    assert lines[3].startswith("  #3 POST")
    assert lines[4] == "      (no rules are loaded)"
