from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockserver.journal.journal import Entry, Journal, redact_headers
from mockserver.store.sqlite import SqliteStore


def test_credential_headers_keep_only_a_hint_of_their_shape() -> None:
    headers = {
        "Authorization": "Bearer sk-proj-abcdefghijklmnop",
        "x-api-key": "sk-ant-api03-secretsecret",
        "x-goog-api-key": "AIzaSyDsecretsecret",
        "content-type": "application/json",
    }

    redacted = redact_headers(headers)

    assert redacted == {
        "Authorization": "Bearer sk-***",
        "x-api-key": "sk-***",
        "x-goog-api-key": "AIz***",
        "content-type": "application/json",
    }


def test_raw_headers_are_redacted_and_every_entry_owns_its_mapping() -> None:
    journal = Journal()
    raw = [(b"authorization", b"Bearer sk-proj-abcdefghijklmnop"), (b"x-trace", b"1")]
    first = journal.open_raw("POST", "/v1/chat/completions", raw)
    first.headers["x-trace"] = "changed"  # the same headers again are decoded afresh
    second = journal.open_raw("POST", "/v1/chat/completions", list(raw))
    assert second.headers == {"authorization": "Bearer sk-***", "x-trace": "1"}
    assert first.headers is not second.headers


def test_an_entry_holds_no_key_in_its_json_form() -> None:
    journal = Journal()
    journal.open("POST", "/v1/chat/completions", {"authorization": "Bearer sk-live-1234567890"})

    text = orjson.dumps([e.to_dict() for e in journal]).decode()

    assert "1234567890" not in text
    assert "sk-***" in text


def test_the_ring_keeps_the_newest_entries_only() -> None:
    journal = Journal(size=3)
    for n in range(5):
        journal.open("POST", f"/v1/{n}", {})

    assert [e.endpoint for e in journal] == ["/v1/2", "/v1/3", "/v1/4"]
    assert len(journal) == 3


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1; got 0"):
        Journal(size=0)


def test_a_request_begun_before_a_reset_never_shows_up_after_it() -> None:
    journal = Journal()
    in_flight = journal.open("POST", "/v1/chat/completions", {})
    journal.reset()
    in_flight.status = 200  # the old request finishes after the reset
    fresh = journal.open("POST", "/v1/messages", {})

    assert journal.entries() == [fresh]
    assert in_flight.generation != fresh.generation


def test_concurrent_opens_and_resets_never_mix_generations() -> None:
    journal = Journal(size=10_000)
    stop = threading.Event()

    def keep_opening() -> None:
        while not stop.is_set():
            journal.open("POST", "/v1/chat/completions", {})

    writers = [threading.Thread(target=keep_opening) for _ in range(4)]
    for writer in writers:
        writer.start()
    try:
        for _ in range(200):
            journal.reset()
            assert {e.generation for e in journal.entries()} <= {journal.generation}
    finally:
        stop.set()
        for writer in writers:
            writer.join()


def test_unmatched_means_matching_ran_and_no_rule_held() -> None:
    base: dict[str, Any] = {
        "seq": 1,
        "at": 0.0,
        "method": "POST",
        "endpoint": "/v1/chat/completions",
    }
    near = [{"rule": "weather", "failed": ["last_user: ..."]}]

    assert Entry(**base, near_misses=near).unmatched
    assert Entry(**base, strict_miss=True).unmatched
    assert not Entry(**base, rule="weather").unmatched
    assert not Entry(**base).unmatched  # no rules loaded, or an endpoint that doesn't match


def test_to_dict_names_every_recorded_fact() -> None:
    entry = Entry(seq=1, at=2.5, method="POST", endpoint="/v1/messages", strict_miss=True)

    assert set(entry.to_dict()) == {
        "seq",
        "at",
        "method",
        "endpoint",
        "dialect",
        "model",
        "headers",
        "body",
        "rule",
        "near_misses",
        "strict_miss",
        "fault",
        "status",
        "usage",
        "stream",
        "events_sent",
        "disconnected",
        "retry_group",
        "worker",
        "notes",
        "key_name",
        "quota",
        "cost",
        "response",
        "timeline",
        "sent_at",
    }


# --- On a store: entries close when answered; workers share one journal ----------------------


def test_an_entry_opened_while_answering_is_kept_when_the_block_ends() -> None:
    journal = Journal()
    with journal.closing() as closing:
        entry = journal.open("POST", "/v1/chat/completions", {})
        assert closing.entries == [entry]
        assert journal.entries() == [entry]  # in flight: this process shows it
        entry.status = 200
    assert journal.entries() == [entry] and journal.entries()[0].status == 200
    assert len(journal) == 1


def test_an_entry_in_flight_across_a_reset_is_dropped_when_it_closes() -> None:
    journal = Journal()
    with journal.closing():
        journal.open("POST", "/v1/chat/completions", {})
        journal.reset()
        assert journal.entries() == []
    assert journal.entries() == []


def test_two_workers_on_one_state_file_share_one_journal(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first, second = (
        Journal(100, SqliteStore(path).log("journal", 100), shared=True) for _ in range(2)
    )
    with first.closing():
        a = first.open("POST", "/v1/chat/completions", {"authorization": "Bearer sk-secret-1"})
        a.body, a.status, a.near_misses = {"messages": [{"role": "user"}]}, 200, [{"rule": "r"}]
        with second.closing() as closing:
            b = second.open("POST", "/v1/messages", {})
            assert [e.seq for e in second.entries()] == [b.seq]  # a is first's alone so far
            closing.close()  # before the response's last byte
            assert [e.seq for e in first.entries()] == [a.seq, b.seq]
        assert [e.endpoint for e in first.entries()] == ["/v1/chat/completions", "/v1/messages"]
    for journal in (first, second):
        # Decoded from the file, equal field by field to what was written: the entries without
        # the request's credential values, which never reach the file.
        assert journal.entries() == [a.scrubbed(), b.scrubbed()]
    assert "sk-secret-1" not in (path.read_bytes() + Path(f"{path}-wal").read_bytes()).decode(
        "latin-1"
    )
    second.reset()
    assert first.entries() == [] and first.generation == 1
