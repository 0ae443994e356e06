"""The API benchmark's pure parts: wrk's figures read back, medians, targets, log findings."""

from __future__ import annotations

import pytest
from api_load import Load, Run, parse_wrk
from api_report import FanOut, Figures, log_findings, ratio_met
from fanout import Tally

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000
  1 threads and 32 connections
  1000 requests in 10.00s, 1.00MB read
WRK {"requests": 1000, "duration_us": 10000000, "p50_us": 12500, "p99_us": 98000, \
"failed": 3, "socket_errors": 2, "status_errors": 0}
WRK-SAMPLE 200 {"data":{"earnPoints":{"userErrors":[{"code":"CUSTOMER_NOT_FOUND"}]}}}
"""


def test_wrk_figures_are_read_from_the_scripts_line() -> None:
    run = parse_wrk(WRK_OUTPUT)
    assert run.requests == 1000
    assert run.per_second == 100.0
    assert (run.p50_ms, run.p99_ms) == (12.5, 98.0)
    assert run.failed == 5  # failed answers and socket errors together
    assert run.sample.startswith('200 {"data"')


def test_wrk_output_without_the_scripts_line_is_refused() -> None:
    with pytest.raises(ValueError, match="no figures"):
        parse_wrk("Running 10s test\nunable to connect to 127.0.0.1:8000\n")


def test_figures_are_the_medians_of_the_runs_and_the_sum_of_their_failures() -> None:
    runs = [
        Run(requests=100, seconds=1.0, p50_ms=10, p99_ms=50, cpu_seconds=0.5),
        Run(requests=300, seconds=1.0, p50_ms=30, p99_ms=90, failed=1, sample="500 oops"),
        Run(requests=200, seconds=1.0, p50_ms=20, p99_ms=70, cpu_seconds=0.4),
    ]
    figures = Figures.of(runs)
    assert figures.per_second == 200
    assert (figures.p50_ms, figures.p99_ms) == (20, 70)
    assert figures.cpu_ms_each == 2.0  # 0.4 s over 200 requests
    assert (figures.requests, figures.failed, figures.sample) == (600, 1, "500 oops")
    assert figures.client_share is None  # the fallback client's own CPU is not known


def test_the_load_generators_share_is_its_busiest_run() -> None:
    runs = [
        Run(requests=1, seconds=10.0, p50_ms=1, p99_ms=1, client_cpu_seconds=1.0),
        Run(requests=1, seconds=10.0, p50_ms=1, p99_ms=1, client_cpu_seconds=3.0),
    ]
    assert Figures.of(runs).client_share == 0.3


@pytest.mark.parametrize(
    ("kind", "ratio", "met"),
    [("earn", 0.50, True), ("earn", 0.49, False), ("balance", 0.35, True), ("trivial", 0.2, False)],
)
def test_a_ratio_meets_its_target_from_the_target_up(kind: str, ratio: float, met: bool) -> None:
    assert ratio_met(kind, ratio) is met


def test_a_load_fills_each_request_and_tells_a_good_answer() -> None:
    load = Load("/earn", '{"c": "@CUSTOMER@", "k": "@KEY@"}', None, '"userErrors":[]')
    assert load.filled("c-1", "n-1-7") == '{"c": "c-1", "k": "n-1-7"}'
    assert load.good(200, '{"data":{"earnPoints":{"userErrors":[]}}}')
    assert not load.good(200, '{"data":null,"errors":[{"message":"x"}]}')
    assert not load.good(429, '{"data":{"earnPoints":{"userErrors":[]}}}')


def test_log_findings_count_tracebacks_by_exception_and_warnings_by_message() -> None:
    log = """INFO:     Started server process [1]
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "x.py", line 1, in run
    raise ClientDisconnect()
starlette.requests.ClientDisconnect
2026-12-07 18:00:00,123 WARNING api.rate_limit: rate limit storage unreachable
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "x.py", line 2, in run
starlette.requests.ClientDisconnect
2026-12-07 18:00:01,456 WARNING api.rate_limit: rate limit storage unreachable
"""
    assert log_findings(log) == {
        "traceback: starlette.requests.ClientDisconnect": 2,
        "WARNING api.rate_limit: rate limit storage unreachable": 2,
    }


def test_fan_out_figures_per_subscription_and_per_change() -> None:
    tally = Tally(latencies=[0.010 * n for n in range(1, 101)], delivered=100)
    fan = FanOut(
        subscribers=20,
        per_connection=10,
        changes=5,
        tally=tally,
        memory=(100 * 2**20, 100 * 2**20 + 20 * 8 * 1024),
        open_seconds=1.0,
        cpu_seconds=0.5,
    )
    assert fan.kib_each == 8.0
    assert fan.cpu_ms_each == 100.0
    assert (round(fan.p50_ms), round(fan.p99_ms)) == (510, 1000)
