"""Each request leaves one JSON access line for Cloud Logging: route, caller, status, latency, trace."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared import logs
from tests.gateway.conftest import READER_TOKEN, call_entry

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def lines(make_gateway: Callable[..., Any]) -> Iterator[io.StringIO]:
    make_gateway()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.CloudLoggingFormatter())
    logging.getLogger(logs.LOGGER).addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger(logs.LOGGER).removeHandler(handler)


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [e for e in entries if "httpRequest" in e]


def test_a_served_request_leaves_one_access_line_with_its_caller_and_trace(lines: io.StringIO) -> None:
    headers = {"X-Cloud-Trace-Context": f"{TRACE_ID}/7;o=1", "X-Request-Id": "req-42"}
    call_entry("get_account", token=READER_TOKEN, headers=headers)
    (line,) = access_lines(lines)
    assert {k: line[k] for k in ("severity", "route", "caller", "status", "request_id")} == {
        "severity": "INFO",
        "route": "GET /account",
        "caller": "dashboard",
        "status": 200,
        "request_id": "req-42",
    }
    assert line[logs.TRACE].endswith(f"/traces/{TRACE_ID}") and line["latency_ms"] >= 0


def test_a_refused_request_is_logged_without_a_caller_or_its_token(lines: io.StringIO) -> None:
    call_entry("get_account", token="a-token-nobody-has-7781")
    (line,) = access_lines(lines)
    assert line["status"] == 401 and "caller" not in line
    assert "a-token-nobody-has-7781" not in lines.getvalue()
