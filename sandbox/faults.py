"""Injected faults: queued per (method, path glob), consumed by the next matching requests."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from sandbox.errors import ApiError, invalid


@dataclass
class Fault:
    method: str | None
    path: str
    status: int
    latency_ms: int
    mode: str
    count: int
    reset_after_seconds: float | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path == path or fnmatch.fnmatchcase(path, self.path)

    def error(self) -> ApiError:
        phrase = (
            HTTPStatus(self.status).phrase.lower()
            if self.status in HTTPStatus._value2member_map_
            else "error"
        )
        if self.status == 429:
            phrase = "rate limit exceeded"
        elif self.status == 500:
            phrase = "internal server error occurred"
        return ApiError(self.status, self.status * 100000 + 10000, phrase)


def parse_fault(body: Any) -> Fault:
    if not isinstance(body, dict) or not isinstance(body.get("path", "*"), str):
        raise invalid("fault must be an object with a path")
    mode = body.get("mode") or "error"
    if mode not in ("error", "timeout_after_accept"):
        raise invalid("mode must be error or timeout_after_accept")
    default_latency = 30000 if mode == "timeout_after_accept" else 0
    try:
        status = int(body.get("status") or 500)
        latency = int(body["latency_ms"]) if body.get("latency_ms") is not None else default_latency
        count = int(body.get("count") or 1)
        reset_after = body.get("reset_after_seconds")
        reset_value = float(reset_after) if reset_after is not None else None
    except (TypeError, ValueError):
        raise invalid("status, latency_ms, count and reset_after_seconds must be numbers") from None
    if not 100 <= status <= 599:
        raise invalid("status must be an HTTP status code")
    method = body.get("method")
    return Fault(
        method=str(method) if method else None,
        path=str(body.get("path") or "*"),
        status=status,
        latency_ms=max(0, latency),
        mode=mode,
        count=max(1, count),
        reset_after_seconds=reset_value,
    )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first queued fault matching this request, consuming one of its uses."""
        with self._lock:
            if not self._queue:
                return None
            for fault in self._queue:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._queue.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(f.__dict__) for f in self._queue]
