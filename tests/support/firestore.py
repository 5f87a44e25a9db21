"""A real Firestore client that cannot reach any server, the fixture that hands one to a test, a count of
the RPCs a client makes, taken at the client, and clients whose commits stall or lose their answers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core.exceptions import ServiceUnavailable

from infra.stack import free_port


def emulator_client(host: str, project: str) -> Any:
    """A `firestore.Client` on the emulator at `host`, the emulator setting scoped to the construction, so
    the process environment is left as it was."""
    from google.cloud import firestore

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", host)
        return firestore.Client(project=project)


def unreachable_client(project: str) -> Any:
    """A `firestore.Client` pointed at a local port where nothing listens: building it sends nothing."""
    return emulator_client(f"127.0.0.1:{free_port()}", project)


@pytest.fixture
def dead_firestore() -> Any:
    """A Firestore client on a fresh project id whose every call fails: Firestore is down."""
    return unreachable_client(f"dead-{uuid.uuid4().hex[:12]}")


class RpcCount:
    """Firestore RPCs by method, and documents written by commits, as seen at the client."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.documents_written = 0
        self.written_by_path: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, method: str, request: Any) -> None:
        with self._lock:
            self.calls[method] = self.calls.get(method, 0) + 1
            if method == "commit":
                writes = request["writes"] if isinstance(request, dict) else request.writes
                for write in writes:
                    name = write.update.name or write.delete
                    self.documents_written += 1
                    path = name.split("/documents/", 1)[-1]
                    self.written_by_path[path] = self.written_by_path.get(path, 0) + 1

    @property
    def round_trips(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        with self._lock:
            self.calls, self.documents_written, self.written_by_path = {}, 0, {}


class _CountingApi:
    """Stands in for the client's gRPC API object and counts each call before passing it on."""

    def __init__(self, inner: Any, count: RpcCount) -> None:
        self._inner = inner
        self._count = count

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target) or name.startswith("_"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            request = kwargs.get("request", args[0] if args else None)
            self._count.record(name, request)
            return target(*args, **kwargs)

        return call


class _Commits:
    """Stands in for the client's gRPC API object: each commit runs as `around(commit)`."""

    def __init__(self, inner: Any, around: Callable[[Callable[[], Any]], Any]) -> None:
        self._inner = inner
        self._around = around

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name != "commit":
            return target
        return lambda *args, **kwargs: self._around(lambda: target(*args, **kwargs))


def delayed_commits(client: Any, delay: Callable[[], None]) -> None:
    """Every commit `client` makes from now on first runs `delay`: a slow host, or a stalled commit."""

    def around(commit: Callable[[], Any]) -> Any:
        delay()
        return commit()

    client._firestore_api_internal = _Commits(client._firestore_api, around)


def lost_answers(client: Any, count: int, meanwhile: Callable[[], None] = lambda: None) -> None:
    """The next `count` commits `client` makes land, but their answers are lost: `meanwhile` runs, then
    the caller gets ServiceUnavailable."""
    left = [count]

    def around(commit: Callable[[], Any]) -> Any:
        response = commit()
        if left[0] <= 0:
            return response
        left[0] -= 1
        meanwhile()
        raise ServiceUnavailable("the commit's answer was lost")

    client._firestore_api_internal = _Commits(client._firestore_api, around)


def counting(client: Any) -> RpcCount:
    """Count every RPC `client` makes from now on (documents written by commits too), at the client."""
    count = RpcCount()
    client._firestore_api_internal = _CountingApi(client._firestore_api, count)
    return count
