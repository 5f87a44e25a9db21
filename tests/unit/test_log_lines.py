"""Log lines as Cloud Logging reads them: one JSON object each, with severity, trace and request fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from shared import logs

TRACE_ID = "105445aa7843bc8bf206b12000100000"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.CloudLoggingFormatter())
    logger = logging.getLogger(logs.LOGGER)
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def entries(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_line_is_one_json_object_with_severity_and_message(lines: io.StringIO) -> None:
    logging.getLogger(logs.LOGGER).warning("limit %s reached", 3)
    (entry,) = entries(lines)
    assert (entry["severity"], entry["message"]) == ("WARNING", "limit 3 reached")


def test_a_line_inside_a_request_carries_its_fields_and_the_caller_added_later(lines: io.StringIO) -> None:
    with logs.request_fields(request_id="r-1", route="GET /account"):
        logs.annotate(caller="desk")
        logging.getLogger(logs.LOGGER).info("served")
    (entry,) = entries(lines)
    assert (entry["request_id"], entry["route"], entry["caller"]) == ("r-1", "GET /account", "desk")


def test_a_line_after_the_request_has_none_of_its_fields(lines: io.StringIO) -> None:
    with logs.request_fields(request_id="r-1"):
        pass
    logging.getLogger(logs.LOGGER).info("later")
    assert "request_id" not in entries(lines)[0]


def test_an_exception_is_kept_inside_the_one_line(lines: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger(logs.LOGGER).exception("crashed")
    (entry,) = entries(lines)
    assert entry["severity"] == "ERROR" and "RuntimeError: boom" in str(entry["message"])


def test_the_trace_header_becomes_the_trace_and_span_fields() -> None:
    fields = logs.trace_fields(f"{TRACE_ID}/1;o=1", "my-project")
    assert fields == {
        logs.TRACE: f"projects/my-project/traces/{TRACE_ID}",
        logs.SPAN: "0000000000000001",
    }


@pytest.mark.parametrize("header", [None, "", "not-a-trace", f"{TRACE_ID}/x", f"{TRACE_ID}\n{TRACE_ID}"])
def test_a_missing_or_malformed_trace_header_adds_no_trace(header: str | None) -> None:
    assert logs.trace_fields(header, "my-project") == {}


def test_without_a_project_there_is_no_trace() -> None:
    assert logs.trace_fields(f"{TRACE_ID}/1", None) == {}
