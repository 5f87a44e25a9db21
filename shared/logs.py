"""Log lines for Cloud Logging: one JSON object per line with `severity`, `message`, the trace and the
request's own fields (request id, caller, route). Only names reach a log line, never a credential."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

LOGGER = "execution_engine"
TRACE = "logging.googleapis.com/trace"
SPAN = "logging.googleapis.com/spanId"
TRACE_CONTEXT = re.compile(r"([0-9a-fA-F]{32})(?:/([0-9]{1,20}))?(?:;o=[01])?")

# The fields of the request this thread (or task) is serving, merged into each of its lines.
_request: ContextVar[dict[str, Any] | None] = ContextVar("request_log_fields", default=None)


def trace_fields(header: str | None, project: str | None) -> dict[str, str]:
    """Cloud Logging's trace and span fields from an `X-Cloud-Trace-Context` header."""
    match = TRACE_CONTEXT.fullmatch(header or "")
    if match is None or not project:
        return {}
    fields = {TRACE: f"projects/{project}/traces/{match[1].lower()}"}
    if match[2] and int(match[2]) < 2**64:
        fields[SPAN] = f"{int(match[2]):016x}"
    return fields


@contextmanager
def request_fields(**fields: Any) -> Iterator[dict[str, Any]]:
    """Within the block, every line carries `fields`; the yielded dict takes more (the caller, once known)."""
    current = dict(fields)
    token = _request.set(current)
    try:
        yield current
    finally:
        _request.reset(token)


def annotate(**fields: Any) -> None:
    """Add fields to the current request's lines (no-op outside a request)."""
    current = _request.get()
    if current is not None:
        current.update(fields)


class CloudLoggingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        entry: dict[str, Any] = {
            "severity": record.levelname if record.levelname != "WARN" else "WARNING",
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "logger": record.name,
        }
        entry.update(_request.get() or {})
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, default=str)


def install(stream: IO[str] | None = None) -> None:
    """Send the engine's log lines to `stream` (stdout) as JSON, once per process."""
    logger = logging.getLogger(LOGGER)
    if any(isinstance(h.formatter, CloudLoggingFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(CloudLoggingFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
