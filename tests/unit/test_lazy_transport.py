"""LazyTransport over an injected httpx.MockTransport: built on the first request, once, and closed with the
client."""

from __future__ import annotations

import threading
import time

import httpx

from shared.http import LazyTransport


class Upstream(httpx.MockTransport):
    """Answers 200 with the request's path, and records the requests it saw and whether it was closed."""

    def __init__(self) -> None:
        super().__init__(self.answer)
        self.seen: list[httpx.Request] = []
        self.closed = False

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(200, json={"path": request.url.path})

    def close(self) -> None:
        self.closed = True


class Builds:
    """A transport factory that counts its calls; `pause` widens the window in which a second build
    would start if the lazy transport let it."""

    def __init__(self, pause: float = 0.0) -> None:
        self.made: list[Upstream] = []
        self.pause = pause

    def __call__(self) -> Upstream:
        time.sleep(self.pause)
        upstream = Upstream()
        self.made.append(upstream)
        return upstream


def test_no_transport_is_built_until_the_first_request() -> None:
    """Building the client and the lazy transport builds nothing; the first request builds the transport."""
    builds = Builds()
    lazy = LazyTransport(builds)
    with httpx.Client(transport=lazy, base_url="https://upstream.test") as client:
        assert builds.made == [] and not lazy.built
        client.get("/v2/account")
        assert len(builds.made) == 1 and lazy.built


def test_requests_go_through_the_built_transport() -> None:
    """Every request reaches the one transport built, with its method, URL and headers, and gets its reply."""
    builds = Builds()
    with httpx.Client(transport=LazyTransport(builds), base_url="https://upstream.test") as client:
        first = client.get("/v2/account", headers={"APCA-API-KEY-ID": "key"})
        second = client.post("/v2/orders", json={"symbol": "AAPL"})
    (upstream,) = builds.made
    assert [first.json(), second.json()] == [{"path": "/v2/account"}, {"path": "/v2/orders"}]
    assert [(r.method, str(r.url)) for r in upstream.seen] == [
        ("GET", "https://upstream.test/v2/account"),
        ("POST", "https://upstream.test/v2/orders"),
    ]
    assert upstream.seen[0].headers["APCA-API-KEY-ID"] == "key"


def test_concurrent_first_requests_build_one_transport() -> None:
    """Threads that send their first request at the same moment share one built transport."""
    builds = Builds(pause=0.05)
    lazy = LazyTransport(builds)
    client = httpx.Client(transport=lazy, base_url="https://upstream.test")
    start = threading.Barrier(8)
    statuses: list[int] = []

    def first_request() -> None:
        start.wait()
        statuses.append(client.get("/v2/clock").status_code)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert statuses == [200] * 8
    assert len(builds.made) == 1 and len(builds.made[0].seen) == 8


def test_closing_the_client_closes_the_built_transport() -> None:
    """Closing the client closes the transport the first request built."""
    builds = Builds()
    client = httpx.Client(transport=LazyTransport(builds), base_url="https://upstream.test")
    client.get("/v2/account")
    client.close()
    assert builds.made[0].closed


def test_closing_before_any_request_builds_nothing() -> None:
    """A client closed without having sent a request never builds a transport just to close it."""
    builds = Builds()
    lazy = LazyTransport(builds)
    httpx.Client(transport=lazy).close()
    assert builds.made == [] and not lazy.built
