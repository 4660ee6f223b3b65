"""Smoke tests of the `make bench` harness: parsing, formatting and scenarios, on fake numbers.

Nothing here generates load or asserts on timing.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import sys
import time
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from bench import (
    baseline_app,
    client,
    fixture_startup,
    report,
    runner,
    servers,
    stats,
    steal,
    stream_client,
    tasks,
    throughput,
    workloads,
    wrk,
)
from bench.context import Options
from bench.latency import INTERVAL, TTFT, analyse
from bench.report import FigureResult, FigureSpec, Target
from bench.stream_client import StreamTiming

WRK_OUTPUT = """\
Running 4s test @ http://127.0.0.1:8123/v1/chat/completions
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.31ms  412.05us   9.87ms   88.12%
    Req/Sec     6.95k   301.22     7.31k    80.00%
  Latency Distribution
     50%    2.25ms
     75%    2.41ms
     90%    2.70ms
     99%    1.20s
  27695 requests in 4.00s, 20.55MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:   6921.77
Transfer/sec:      5.14MB
"""


def test_parse_wrk_reads_rate_latencies_and_errors() -> None:
    result = wrk.parse_wrk(WRK_OUTPUT)
    assert result.requests_per_sec == 6921.77
    assert result.requests == 27695
    assert result.latency_ms == {"avg": 2.31, "50%": 2.25, "75%": 2.41, "90%": 2.70, "99%": 1200.0}
    assert result.non_2xx == 3
    assert result.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 1}
    assert result.problems() == [
        "3 non-2xx/3xx responses",
        "socket errors read 2, timeout 1",
    ]


def test_parse_wrk_clean_run_has_no_problems() -> None:
    clean = "\n".join(
        line for line in WRK_OUTPUT.splitlines() if "Non-2xx" not in line and "Socket" not in line
    )
    assert wrk.parse_wrk(clean).problems() == []


def test_parse_wrk_without_rate_names_the_output() -> None:
    with pytest.raises(wrk.WrkError, match=r"(?s)no 'Requests/sec'.*unable to connect"):
        wrk.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_lua_script_escapes_quotes_backslashes_and_bytes() -> None:
    assert wrk.lua_string(b'a"b\\c\n\xc3\xa9') == '"a\\034b\\092c\\010\\195\\169"'
    script = wrk.lua_script(b'{"x":1}', {"Authorization": "Bearer sk-bench"})
    assert script.splitlines() == [
        'wrk.method = "POST"',
        'wrk.body = "{\\034x\\034:1}"',
        'wrk.headers["Authorization"] = "Bearer sk-bench"',
    ]


def test_median_and_nearest_rank_percentile() -> None:
    assert stats.median([3.0, 1.0, 2.0, 10.0]) == 2.5
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert stats.percentile(list(map(float, range(1, 101))), 0.99) == 99.0
    with pytest.raises(ValueError, match="no values"):
        stats.percentile([], 0.5)


def _fake_figures() -> list[FigureResult]:
    ratio = FigureSpec("nonstream", "non-stream", Target("min", "≥ 0.85× baseline", 0.85), "rps")
    absolute = FigureSpec("startup", "start-up", Target("max", "≤ 0.3 s", 0.3, "measured"), "s")
    within = FigureSpec("latency", "TTFT", Target("within", "±5%", 0.05), "ms")
    return [
        ratio.result(9000.4, 10000.0, 0.9).judge(),
        ratio.result(5000.0, 10000.0, 0.5).judge(),
        absolute.result(0.42, 0.3, 1.4, detail="cold cache").judge(),
        within.result(207.0, 200.0, 1.035).judge(),
        within.result(230.0, 200.0, 1.15).judge(),
        FigureSpec("multi-worker", "2 workers", Target("check", "byte-identical"), "rps")
        .result(2.0, 1.0, 2.0)
        .judge(ok=True),
        FigureSpec("cold", "cold", Target("report", "reported"), "s").result(1.0).judge(),
        ratio.unavailable("POST /v1/messages -> 404"),
    ]


def test_targets_judge_figures() -> None:
    statuses = [figure.status for figure in _fake_figures()]
    assert statuses == ["pass", "FAIL", "FAIL", "pass", "FAIL", "pass", "reported", "unavailable"]


def test_table_formats_values_units_and_reasons() -> None:
    table = report.format_table(_fake_figures())
    lines = table.splitlines()
    assert lines[0].split() == ["figure", "measured", "baseline", "ratio", "target", "result"]
    assert set(lines[1]) <= {"-", " "}
    assert "9,000 rps" in lines[2] and "10,000 rps" in lines[2] and "0.90×" in lines[2]
    assert lines[2].rstrip().endswith("pass")
    assert "0.420 s" in lines[4] and lines[4].rstrip().endswith("FAIL: cold cache")
    assert "207.0 ms" in lines[5]
    assert lines[-1].rstrip().endswith("unavailable: POST /v1/messages -> 404")
    assert " - " in lines[-1]  # no numbers for an unavailable figure
    # Numbers are right-aligned: the rps column ends at the same place on every row.
    assert lines[2].index("10,000 rps") + 10 == lines[3].index("10,000 rps") + 10


def test_table_cuts_long_reasons() -> None:
    spec = FigureSpec("x", "x", Target("report", "reported"))
    (row,) = report.table_rows([spec.unavailable("y" * 500)])
    assert len(row[-1]) == report.DETAIL_WIDTH and row[-1].endswith("...")


def test_json_document_round_trips(tmp_path: Path) -> None:
    document = report.to_document(
        _fake_figures(),
        {"rounds": 5},
        started=datetime.datetime(2025, 1, 1),
        cpu_steal_share=0.025,
    )
    path = tmp_path / "results" / "latest.json"
    report.write_json(document, path)
    loaded = json.loads(path.read_text())
    assert loaded["date"] == "2025-01-01T00:00:00"
    assert {"nproc", "cpu_model", "python"} <= loaded["machine"].keys()
    assert loaded["machine"]["cpu_steal_share"] == 0.025
    assert loaded["options"] == {"rounds": 5}
    first = loaded["figures"][0]
    assert first["key"] == "nonstream" and first["ratio"] == 0.9 and first["status"] == "pass"
    assert first["target"] == {
        "kind": "min",
        "text": "≥ 0.85× baseline",
        "limit": 0.85,
        "subject": "ratio",
    }


def test_sse_events_keep_every_byte() -> None:
    body = b"data: 1\n\ndata: 2\r\n\r\nevent: x\ndata: 3\n\ntail"
    events = client.sse_events(body)
    assert events == [b"data: 1\n\n", b"data: 2\r\n\r\n", b"event: x\ndata: 3\n\n", b"tail"]
    assert b"".join(events) == body


def test_carries_text_reads_chat_chunks() -> None:
    role = b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n'
    token = b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'
    usage = b'data: {"choices":[],"usage":{"total_tokens":3}}\n\n'
    assert [client.carries_text(e) for e in (role, token, usage, b"data: [DONE]\n\n")] == [
        False,
        True,
        False,
        False,
    ]


def test_response_parser_dechunks_across_reads() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        b"9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n0\r\n\r\n"
    )
    parser = stream_client.ResponseParser()
    splitter = stream_client.EventSplitter()
    events = []
    for i in range(0, len(raw), 7):  # awkward read boundaries
        events += splitter.feed(parser.feed(raw[i : i + 7]))
    assert parser.status == 200 and parser.done
    assert events == [b"data: a\n\n", b"data: b\n\n"]


def test_response_parser_content_length() -> None:
    parser = stream_client.ResponseParser()
    assert parser.feed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nno") == b"no"
    assert not parser.done
    assert parser.feed(b"pe") == b"pe" and parser.done and parser.status == 404


def test_latency_analysis_on_a_perfectly_paced_stream() -> None:
    def event(text: str) -> bytes:
        return b'data: {"choices":[{"delta":{"content":"%s"}}]}\n\n' % text.encode()

    timing = StreamTiming(sent_at=100.0, status=200)
    timing.events = [(100.001, b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n')]
    timing.events += [(100.0 + TTFT + i * INTERVAL, event(f"t{i}")) for i in range(50)]
    failed = StreamTiming(error="ConnectionResetError: boom")
    result = analyse([timing, failed], expected_events=50)
    assert result["median_ttft_ms"] == pytest.approx(200.0)
    assert result["median_interval_ms"] == pytest.approx(20.0)
    assert result["p99_lateness_ms"] == pytest.approx(0.0, abs=1e-6)
    assert result["failed"] == ["ConnectionResetError: boom"]
    assert result["odd_event_counts"] == 0


def test_baseline_app_replays_captured_bytes(tmp_path: Path) -> None:
    payloads = {
        "chat": baseline_app.Payload(200, {"content-type": "application/json"}, b'{"id":"x"}'),
        "stream-20": baseline_app.Payload(
            200,
            {"content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_1"},
            b"data: 1\n\ndata: [DONE]\n\n",
            [b"data: 1\n\n", b"data: [DONE]\n\n"],
        ),
    }
    path = tmp_path / "payloads.json"
    baseline_app.save_payloads(payloads, path)
    assert baseline_app.load_payloads(path) == payloads
    with TestClient(baseline_app.build_app(baseline_app.load_payloads(path))) as http:
        plain = http.post("/chat", content=b"{}")
        assert plain.content == b'{"id":"x"}'
        assert plain.headers["content-type"] == "application/json"
        stream = http.post("/stream-20", content=b"{}")
        assert stream.content == b"data: 1\n\ndata: [DONE]\n\n"
        assert stream.headers["x-request-id"] == "req_1"


def test_workloads_are_distinct_and_json() -> None:
    bodies = [w.encoded() for w in workloads.distinct_requests(30)]
    assert len(set(bodies)) == 30
    assert json.loads(workloads.STREAM_20.encoded())["stream"] is True
    assert set(workloads.WORKLOADS) >= {"chat", "stream-20", "stream-200", "default", "anthropic"}


def test_every_figure_key_is_selectable() -> None:
    assert runner.KEYS == [
        "nonstream",
        "stream-20",
        "stream-200",
        "default",
        "anthropic",
        "responses",
        "gemini",
        "embeddings",
        "gateway",
        "feed",
        "big-prompt",
        "startup",
        "fixture-startup",
        "latency",
        "multi-worker",
        "task-poll",
        "task-poll-mj",
        "tasks-memory",
        "memory",
        "soak",
    ]
    with pytest.raises(ValueError, match="unknown figure"):
        runner.run_all(Options(), {"nope"})


def test_bench_scenarios_load_and_have_the_promised_token_counts() -> None:
    from mockserver.scenario import load_paths
    from tests.tokens._offline_encoding import offline_encoding

    load_paths([str(workloads.THROUGHPUT_SCENARIO), str(workloads.LATENCY_SCENARIO)])
    encoding = offline_encoding("o200k_base")
    expected = {
        "bench-scripted": 20,
        "bench-stream-20": 20,
        "bench-stream-200": 200,
        "bench-paced": 50,
    }
    for path in (workloads.THROUGHPUT_SCENARIO, workloads.LATENCY_SCENARIO):
        for rule in yaml.safe_load(path.read_text())["rules"]:
            if rule["name"] in expected:
                text = rule["reply"]["content"]
                assert len(encoding.encode_ordinary(text)) == expected[rule["name"]], rule["name"]


def test_steal_meter_reads_the_share_of_stolen_ticks(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text("cpu  100 0 50 800 10 0 5 35 7 0\ncpu0 50 0 25 400 5 0 2 18 3 0\n")
    assert steal.cpu_times(stat) == (35, 1000)
    meter = steal.StealMeter(stat)
    assert meter.share() is None  # no time went by
    stat.write_text("cpu  160 0 60 920 10 0 10 75 9 0\n")
    assert meter.share() == 40 / 235
    assert steal.describe(meter.share()) == "17.0%"
    assert steal.StealMeter(tmp_path / "missing").share() is None
    assert steal.describe(None) == "-"


def test_fixture_session_times_the_plugin_fixtures_within_the_setup(tmp_path: Path) -> None:
    # One real pytest process, as the figure runs it (no timing asserted: only what is timed).
    (tmp_path / "conftest.py").write_text(fixture_startup.CONFTEST)
    (tmp_path / "test_fixture_ready.py").write_text(fixture_startup.TEST)
    (tmp_path / "test_bare.py").write_text(fixture_startup.BARE)
    ready = fixture_startup.session(tmp_path, tmp_path / "cache")
    assert 0 < ready["fixture_s"] < ready["setup_s"]
    bare = fixture_startup.session(tmp_path, tmp_path / "cache", "test_bare.py")
    # Only the plugin's autouse marker fixture, which every test pays, is set up there.
    assert 0 < bare["fixture_s"] < ready["fixture_s"]


def test_cpu_per_request_is_the_median_over_runs_that_know_it() -> None:
    runs = [
        wrk.WrkResult(1000.0, 4000, server_cpu_s=0.8),
        wrk.WrkResult(1000.0, 4000, server_cpu_s=1.0),
        wrk.WrkResult(1000.0, 4000),  # not measurable there: left out
        wrk.WrkResult(1000.0, 0, server_cpu_s=0.5),  # nothing answered: left out
        wrk.WrkResult(1000.0, 2000, server_cpu_s=0.9),
    ]
    assert throughput.cpu_per_request(runs) == pytest.approx(0.00025)
    assert throughput.cpu_per_request([wrk.WrkResult(1000.0, 4000)]) is None


def test_each_figure_measures_its_two_sides_one_after_the_other() -> None:
    order = throughput.measurement_order(throughput.COMPARISONS)
    assert len(order) == len(set(order))
    for comparison in throughput.COMPARISONS:
        at = order.index(comparison.subject)
        assert order[at - 1] == comparison.reference
    chats = [side for side in order if side.server == "mock" and side.workload == "chat"]
    assert [(side.beside, side.feed) for side in chats] == [
        ("", False),
        ("anthropic", False),
        ("responses", False),
        ("gemini", False),
        ("embeddings", False),
        ("gateway", False),
        ("feed", False),
        ("", True),  # the feed figure's subject: chat with a dashboard feed open
    ]


def test_a_server_and_workload_measured_twice_a_round_is_warmed_once() -> None:
    class Targets:
        def __init__(self) -> None:
            self.runs: list[tuple[str, float]] = []

        def run(self, side: throughput.Side, duration: float) -> wrk.WrkResult:
            self.runs.append((side.label(), duration))
            return wrk.WrkResult(1000.0, 4000)

    class Ctx:
        options = Options(rounds=1, duration=4.0, warmup=2.0)

    targets = Targets()
    sides = [
        throughput.Side("mock", "chat"),
        throughput.Side("mock", "chat", beside="gemini"),
        throughput.Side("mock", "gemini"),
    ]
    measured, failures = throughput._measure(Ctx(), targets, sides)  # type: ignore[arg-type]
    assert targets.runs == [
        ("mock chat", 2.0),
        ("mock gemini", 2.0),
        ("mock chat", 4.0),
        ("mock chat (beside gemini)", 4.0),
        ("mock gemini", 4.0),
    ]
    assert not failures and all(len(runs) == 1 for runs in measured.values())


def test_server_cpu_seconds_of_a_process() -> None:
    busy = "sum(range(10**7)); print('done', flush=True); import time; time.sleep(60)"
    server = servers.ServerProcess("busy", [sys.executable, "-c", busy], port=0)
    assert server.cpu_seconds() is None  # not started
    server.launch()
    try:
        while "done" not in server.output() and server.alive():
            time.sleep(0.01)
        used = server.cpu_seconds()
        assert used is not None and used > 0  # ~0.1 s of work: ten clock ticks or more
    finally:
        server.stop()


def test_stream_client_times_each_event_by_the_read_that_completed_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Transport:
        closed = False
        written = b""

        def write(self, data: bytes) -> None:
            self.written += data

        def close(self) -> None:
            self.closed = True

    clock = iter([1.0, 1.2, 1.5])  # the request written, then each read
    monkeypatch.setattr(stream_client.time, "perf_counter", lambda: next(clock))
    loop = asyncio.new_event_loop()
    try:
        timing, finished = StreamTiming(), loop.create_future()
        protocol = stream_client._StreamProtocol(b"request", timing, finished)
        transport = Transport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata: a\n\n\r\n9\r\nda"
        )
        assert not transport.closed
        protocol.data_received(b"ta: b\n\n\r\n0\r\n\r\n")
        assert transport.closed  # on the last chunk
        protocol.connection_lost(None)
        assert finished.done()
    finally:
        loop.close()
    assert timing.events == []  # nothing is parsed while streams are read
    stream_client.parse_reads(timing)
    assert transport.written == b"request" and timing.sent_at == 1.0
    assert timing.status == 200 and timing.error is None
    assert timing.events == [(1.2, b"data: a\n\n"), (1.5, b"data: b\n\n")]


def test_stream_client_reports_a_reply_cut_short() -> None:
    loop = asyncio.new_event_loop()
    try:
        timing = StreamTiming()
        protocol = stream_client._StreamProtocol(b"request", timing, loop.create_future())
        protocol.data_received(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\nda")
        protocol.connection_lost(ConnectionResetError("reset"))
    finally:
        loop.close()
    stream_client.parse_reads(timing)
    assert timing.error == "connection closed mid-response (reset)"


def test_task_polls_are_gets_without_a_body_beside_chat(tmp_path: Path) -> None:
    class Ctx:
        tmp = tmp_path

    targets = tasks.PollTargets(Ctx())  # type: ignore[arg-type]
    targets.paths["poll-video"] = "/v1/videos/task_x"
    script = Path(targets.script("poll-video")).read_text()
    assert 'wrk.method = "GET"' in script
    assert 'wrk.body = ""' in script
    assert "Content-Type" not in script
    spec = next(spec for spec in tasks.POLL_SPECS if spec.key == "task-poll")
    assert spec.target.limit == 0.8 and spec.unit == "rps"
    assert tasks.MEMORY_SPEC.target.subject == "measured"
