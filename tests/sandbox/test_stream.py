"""The sandbox's trade_updates websocket, seen through alpaca-py's TradingStream and a bare websocket."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgpack
import pytest
from alpaca.trading.enums import TradeEvent
from alpaca.trading.models import TradeUpdate
from alpaca.trading.stream import TradingStream
from websockets.sync.client import ClientConnection, connect

from infra.stack import Service, start_sandbox
from tests.conftest import SANDBOX_KEY, SANDBOX_SECRET, Sandbox

TUESDAY_10AM = "2026-11-17T15:00:00Z"  # regular hours on a normal trading day
TUESDAY_8AM = "2026-11-17T13:00:00Z"  # pre-market, 90 minutes before the open
SECOND_KEY, SECOND_SECRET = "second-key", "second-secret"
WAIT = 5.0  # seconds any single wait may take before the test fails


@pytest.fixture(scope="module")
def two_account_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A sandbox of its own with the default account and a second one."""
    accounts = [{"key": SANDBOX_KEY, "secret": SANDBOX_SECRET}, {"key": SECOND_KEY, "secret": SECOND_SECRET}]
    path = Path(tmp_path_factory.mktemp("stream")) / "accounts.json"
    path.write_text(json.dumps(accounts))
    service = start_sandbox(rate_limit=100000, extra_args=["--accounts", str(path)])
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def box(two_account_service: Service) -> Iterator[Sandbox]:
    """That sandbox reset, with no stream connections left over, its clock frozen in regular hours."""
    sandbox = Sandbox(two_account_service)
    sandbox.reset()
    sandbox.admin.delete("/_sandbox/stream").raise_for_status()
    sandbox.set_clock(TUESDAY_10AM)
    try:
        yield sandbox
    finally:
        sandbox.admin.close()


@pytest.fixture
def http(box: Sandbox) -> Iterator[httpx.Client]:
    client = box.client()
    try:
        yield client
    finally:
        client.close()


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def listening(box: Sandbox, key: str) -> int:
    count: int = box.admin.get("/_sandbox/stream").json()["listening"].get(key, 0)
    return count


class Updates:
    """alpaca-py's TradingStream on a thread of its own, collecting what its handler receives."""

    def __init__(self, box: Sandbox, key: str, secret: str, raw_data: bool = False) -> None:
        self.box, self.key = box, key
        self.received: queue.Queue[Any] = queue.Queue()
        url = box.url.replace("http://", "ws://") + "/stream"
        self.stream = TradingStream(key, secret, paper=True, raw_data=raw_data, url_override=url)
        self.stream.subscribe_trade_updates(self._collect)
        self.thread = threading.Thread(target=self.stream.run, name=f"stream-{key}", daemon=True)
        self.listening = False

    async def _collect(self, update: Any) -> None:
        self.received.put(update)

    def start(self) -> Updates:
        self.thread.start()
        wait_until(lambda: listening(self.box, self.key) >= 1, f"{self.key} to listen")
        self.listening = True
        return self

    def take(self, count: int) -> list[Any]:
        """The next `count` updates, each awaited for at most WAIT seconds."""
        try:
            return [self.received.get(timeout=WAIT) for _ in range(count)]
        except queue.Empty:
            raise AssertionError(f"fewer than {count} trade updates arrived") from None

    def stop(self) -> None:
        if self.listening:
            self.stream.stop()  # marks the stream stopped; it notices once its socket closes
        self.box.admin.delete("/_sandbox/stream")
        self.thread.join(timeout=WAIT)


@pytest.fixture
def updates(box: Sandbox) -> Iterator[Updates]:
    """The default account's trade updates, parsed by alpaca-py into TradeUpdate models."""
    stream = Updates(box, SANDBOX_KEY, SANDBOX_SECRET).start()
    try:
        yield stream
    finally:
        stream.stop()


def place(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day", **fields}
    response = http.post("/v2/orders", json=body)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def events(received: list[TradeUpdate]) -> list[tuple[str, str]]:
    """(event, order id) of each update."""
    return [(TradeEvent(u.event).value, str(u.order.id)) for u in received]


def raw_socket(box: Sandbox, headers: dict[str, str] | None = None) -> ClientConnection:
    url = box.url.replace("http://", "ws://") + "/stream"
    return connect(url, additional_headers=headers, open_timeout=WAIT, close_timeout=1)


def send_json(ws: ClientConnection, message: dict[str, Any]) -> Any:
    """Sends one message and returns the decoded answer."""
    ws.send(json.dumps(message))
    return json.loads(ws.recv(timeout=WAIT))


def authenticate(key: str, secret: str) -> dict[str, Any]:
    return {"action": "authenticate", "data": {"key_id": key, "secret_key": secret}}


LISTEN = {"action": "listen", "data": {"streams": ["trade_updates"]}}


def test_market_order_in_hours_streams_new_then_fill(updates: Updates, http: httpx.Client) -> None:
    """A market buy in regular hours reaches TradingStream as `new`, then `fill` with its execution."""
    order = place(http, qty="3")
    new, fill = updates.take(2)
    assert events([new, fill]) == [("new", order["id"]), ("fill", order["id"])]
    assert new.order.status == "new" and fill.order.status == "filled"
    assert fill.price == float(order["filled_avg_price"]) and fill.qty == 3 and fill.position_qty == 3
    assert fill.execution_id is not None and fill.timestamp.isoformat().startswith("2026-11-17T15:00:00")


def test_fill_carries_the_order_exactly_as_rest_renders_it(box: Sandbox, http: httpx.Client) -> None:
    """The order object in a fill update equals GET /v2/orders/{id} once the order is filled."""
    raw = Updates(box, SANDBOX_KEY, SANDBOX_SECRET, raw_data=True).start()
    try:
        order = place(http)
        fill = raw.take(2)[1]["data"]
        assert fill["event"] == "fill"
        assert fill["order"] == http.get(f"/v2/orders/{order['id']}").json()
        assert {"price", "qty", "position_qty", "timestamp", "execution_id"} <= set(fill)
    finally:
        raw.stop()


def test_cancelled_resting_limit_streams_canceled(updates: Updates, http: httpx.Client) -> None:
    """Cancelling a resting limit order sends `canceled` with the order's canceled_at set."""
    order = place(http, type="limit", limit_price="1.00")
    assert http.delete(f"/v2/orders/{order['id']}").status_code == 204
    received = updates.take(2)
    assert events(received) == [("new", order["id"]), ("canceled", order["id"])]
    assert received[1].order.canceled_at is not None


def test_day_order_streams_expired_when_clock_passes_close(
    updates: Updates, box: Sandbox, http: httpx.Client
) -> None:
    """Advancing the sandbox clock past 16:00 ET expires a resting day order on the stream."""
    order = place(http, type="limit", limit_price="1.00")
    box.advance(7 * 3600)
    received = updates.take(2)
    assert events(received) == [("new", order["id"]), ("expired", order["id"])]
    assert received[1].timestamp.isoformat().startswith("2026-11-17T21:00:00")


def test_patched_order_streams_replaced_then_new(updates: Updates, http: httpx.Client) -> None:
    """PATCH sends `replaced` for the old order, then `new` for the order that replaces it."""
    old = place(http, type="limit", limit_price="1.00", time_in_force="gtc")
    response = http.patch(f"/v2/orders/{old['id']}", json={"limit_price": "2.00"})
    assert response.status_code == 200, response.text
    new = response.json()
    received = updates.take(3)
    assert events(received) == [("new", old["id"]), ("replaced", old["id"]), ("new", new["id"])]
    assert str(received[1].order.replaced_by) == new["id"] and str(received[2].order.replaces) == old["id"]


def test_premarket_order_streams_accepted_then_new_at_open(
    updates: Updates, box: Sandbox, http: httpx.Client
) -> None:
    """A market order placed before the open is `accepted`, then `new` and `fill` at 09:30 ET."""
    box.set_clock(TUESDAY_8AM)
    order = place(http)
    box.advance(2 * 3600)
    received = updates.take(3)
    assert events(received) == [("accepted", order["id"]), ("new", order["id"]), ("fill", order["id"])]
    assert received[2].timestamp.isoformat().startswith("2026-11-17T14:30:00")


def test_second_accounts_events_do_not_reach_the_first(updates: Updates, box: Sandbox) -> None:
    """An order of another account sends nothing to this account's stream."""
    other = httpx.Client(
        base_url=box.url,
        headers={"APCA-API-KEY-ID": SECOND_KEY, "APCA-API-SECRET-KEY": SECOND_SECRET},
        timeout=WAIT,
    )
    mine = box.client()
    try:
        place(other, symbol="MSFT")
        order = place(mine)  # the stream is ordered: anything of the other account would come first
    finally:
        other.close()
        mine.close()
    assert {oid for _, oid in events(updates.take(2))} == {order["id"]}


def test_wrong_keys_get_alpacas_unauthorized_answer(box: Sandbox) -> None:
    """Authenticating with a wrong secret is answered `unauthorized`, and no listening starts."""
    with raw_socket(box) as ws:
        answer = send_json(ws, authenticate(SANDBOX_KEY, "wrong-secret"))
    assert answer["stream"] == "authorization"
    assert answer["data"]["status"] == "unauthorized" and answer["data"]["action"] == "authenticate"
    assert listening(box, SANDBOX_KEY) == 0


def test_listen_before_authenticating_is_refused(box: Sandbox) -> None:
    """A listen on a connection that has not authenticated gets the unauthorized listen answer."""
    with raw_socket(box) as ws:
        answer = send_json(ws, LISTEN)
    assert answer == {"stream": "authorization", "data": {"status": "unauthorized", "action": "listen"}}


def test_json_clients_get_binary_frames_like_alpacas_paper_stream(box: Sandbox) -> None:
    """Answers to a JSON client are JSON in binary frames, as the paper endpoint sends them."""
    with raw_socket(box) as ws:
        ws.send(json.dumps(authenticate(SANDBOX_KEY, SANDBOX_SECRET)))
        frame = ws.recv(timeout=WAIT)
    assert isinstance(frame, bytes)
    assert json.loads(frame)["data"] == {"status": "authorized", "action": "authenticate"}


def test_msgpack_client_gets_msgpack_trade_updates(box: Sandbox, http: httpx.Client) -> None:
    """With Content-Type: application/msgpack every answer and update is MessagePack."""
    with raw_socket(box, {"Content-Type": "application/msgpack"}) as ws:
        ws.send(msgpack.packb(authenticate(SANDBOX_KEY, SANDBOX_SECRET)))
        assert msgpack.unpackb(ws.recv(timeout=WAIT))["data"]["status"] == "authorized"
        ws.send(msgpack.packb(LISTEN))
        assert msgpack.unpackb(ws.recv(timeout=WAIT)) == {"stream": "listening", "data": LISTEN["data"]}
        order = place(http)
        update = msgpack.unpackb(ws.recv(timeout=WAIT))
    assert update["stream"] == "trade_updates"
    assert update["data"]["event"] == "new" and update["data"]["order"]["id"] == order["id"]
