"""The trade_updates websocket at /stream: Alpaca's authenticate and listen protocol, then order events
for the authenticated account, in JSON (binary frames, as Alpaca's paper stream sends) or MessagePack."""

from __future__ import annotations

import functools
import json
import queue
import threading
import uuid
from datetime import datetime
from typing import Any

import msgpack  # type: ignore[import-untyped]
from flask import Flask, Response, request
from simple_websocket import ConnectionClosed, Server  # type: ignore[import-untyped]

from sandbox.broker import Broker
from sandbox.clock import rfc3339
from sandbox.decimals import dec_str
from sandbox.engine import Execution
from sandbox.http import json_response
from sandbox.orders import Order
from sandbox.portfolio import Account
from sandbox.state import Sandbox

PATH = "/stream"
TRADE_UPDATES = "trade_updates"
POLL_SECONDS = 0.05  # how long a connection waits for an event before it looks for client messages
CLOSE_WAIT_SECONDS = 2.0  # for the client to answer our close frame
MAX_PENDING = 10_000  # a client this far behind is disconnected rather than buffered without bound
UNAUTHORIZED_MESSAGE = "access key verification failed"  # what Alpaca's stream answers to wrong keys

Message = dict[str, Any]


class Subscriber:
    """One listening connection's queue of trade updates, filled by the engine and drained by the
    connection's own thread, so a slow client never holds the broker lock."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.pending: queue.Queue[Message] = queue.Queue(MAX_PENDING)
        self.overflowed = False

    def offer(self, message: Message) -> None:
        try:
            self.pending.put_nowait(message)
        except queue.Full:
            self.overflowed = True


class TradeUpdates:
    """Renders the engine's order events and hands them to the connections listening for that account."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._connections: set[Connection] = set()

    def attach(self, connection: Connection) -> None:
        with self._lock:
            self._connections.add(connection)

    def detach(self, connection: Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def disconnect_all(self) -> int:
        """Asks every connection to close; each does so within POLL_SECONDS. Returns how many there were."""
        with self._lock:
            for connection in self._connections:
                connection.closing = True
            return len(self._connections)

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.setdefault(subscriber.key, set()).add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.get(subscriber.key, set()).discard(subscriber)

    def status(self) -> Message:
        """Open connections, and the listening ones per key id."""
        with self._lock:
            listening = {key: len(subs) for key, subs in self._subscribers.items() if subs}
            return {"connections": len(self._connections), "listening": listening}

    def publish(self, event: str, order: Order, moment: datetime, execution: Execution | None) -> None:
        """The engine's listener: called with the broker lock held, so the order is rendered as it is now."""
        with self._lock:
            targets = list(self._subscribers.get(order.account_key, ()))
        if not targets:
            return  # nobody listens: skip rendering, which would slow every order down
        message = {"stream": TRADE_UPDATES, "data": self.render(event, order, moment, execution)}
        for subscriber in targets:
            subscriber.offer(message)

    def render(self, event: str, order: Order, moment: datetime, execution: Execution | None) -> Message:
        legs = self._broker.book.legs(order) if order.leg_ids else None
        data: Message = {"event": event, "timestamp": rfc3339(moment), "order": order.to_json(legs)}
        if execution is not None:
            data["execution_id"] = str(uuid.uuid4())
            data["price"] = dec_str(execution.price)
            data["qty"] = dec_str(execution.qty)
            data["position_qty"] = dec_str(execution.position_qty)
        return data


def authorization(status: str, action: str) -> Message:
    data = {"status": status, "action": action}
    if status == "unauthorized" and action == "authenticate":
        data["message"] = UNAUTHORIZED_MESSAGE
    return {"stream": "authorization", "data": data}


def error(message: str) -> Message:
    """Our wording: Alpaca documents no answer to malformed or unknown messages."""
    return {"stream": "error", "data": {"error_message": message}}


def is_msgpack(frame: str | bytes) -> bool:
    """JSON comes as text or as bytes opening an object; MessagePack maps never start with `{`."""
    return isinstance(frame, bytes) and not frame.lstrip().startswith((b"{", b"["))


def decode(frame: str | bytes) -> Any:
    """A client frame: JSON, else MessagePack. Raises ValueError when it is neither."""
    if is_msgpack(frame):
        try:
            return msgpack.unpackb(frame)
        except Exception as failure:  # msgpack raises several unrelated types for bad input
            raise ValueError("not MessagePack") from failure
    return json.loads(frame)


class Connection:
    """One websocket: answers the client's messages and forwards its account's trade updates."""

    def __init__(self, hub: TradeUpdates, sandbox: Sandbox, ws: Any, use_msgpack: bool) -> None:
        self.hub, self.sandbox, self.ws = hub, sandbox, ws
        self.use_msgpack = use_msgpack
        self.account: Account | None = None
        self.subscriber: Subscriber | None = None
        self.closing = False  # set by another thread: DELETE /_sandbox/stream

    def run(self) -> None:
        self.hub.attach(self)
        try:
            while not self.closing:
                frame = self.ws.receive(timeout=0 if self.subscriber else POLL_SECONDS)
                if frame is not None:
                    self.handle(frame)
                elif self.subscriber is not None:
                    self.forward(self.subscriber)
            self.ws.close(1001, "closed by the sandbox")
        except ConnectionClosed:
            pass
        finally:
            self.stop_listening()
            self.hub.detach(self)

    def send(self, message: Message) -> None:
        self.ws.send(msgpack.packb(message) if self.use_msgpack else json.dumps(message).encode())

    def forward(self, subscriber: Subscriber) -> None:
        try:
            message = subscriber.pending.get(timeout=POLL_SECONDS)
        except queue.Empty:
            return
        while True:
            self.send(message)
            if subscriber.overflowed:
                self.ws.close(1008, "too many pending trade updates")
                return  # the next receive sees the connection closed
            try:
                message = subscriber.pending.get_nowait()
            except queue.Empty:
                return

    def handle(self, frame: str | bytes) -> None:
        try:
            message = decode(frame)
        except ValueError:
            self.send(error("invalid syntax"))
            return
        if is_msgpack(frame):
            self.use_msgpack = True  # answer in the encoding the client writes
        action = message.get("action") if isinstance(message, dict) else None
        if action in ("authenticate", "auth"):
            self.authenticate(message)
        elif action == "listen":
            self.listen(message.get("data"))
        else:
            self.send(error("unrecognized action"))

    def authenticate(self, message: Message) -> None:
        # alpaca-py sends {"data": {"key_id", "secret_key"}}; the current docs show top-level key/secret.
        data = message.get("data")
        source = data if isinstance(data, dict) else message
        key = source.get("key_id", source.get("key"))
        secret = source.get("secret_key", source.get("secret"))
        self.stop_listening()
        self.account = None
        if isinstance(key, str) and isinstance(secret, str):
            self.account = self.sandbox.authenticate(key, secret)
        self.send(authorization("authorized" if self.account else "unauthorized", "authenticate"))

    def listen(self, data: Any) -> None:
        if self.account is None:
            self.send(authorization("unauthorized", "listen"))
            return
        requested = data.get("streams") if isinstance(data, dict) else None
        streams = [TRADE_UPDATES] if isinstance(requested, list) and TRADE_UPDATES in requested else []
        # The list replaces the subscription; an empty one stops the updates.
        if streams and self.subscriber is None:
            self.subscriber = Subscriber(self.account.spec.key)
            self.hub.subscribe(self.subscriber)
        elif not streams:
            self.stop_listening()
        self.send({"stream": "listening", "data": {"streams": streams}})

    def stop_listening(self) -> None:
        if self.subscriber is not None:
            self.hub.unsubscribe(self.subscriber)
            self.subscriber = None


# simple-websocket reads in a thread of its own; a daemon one never keeps a stopping sandbox alive.
_daemon_thread = functools.partial(threading.Thread, daemon=True)


def register(app: Flask, sandbox: Sandbox) -> TradeUpdates:
    hub = TradeUpdates(sandbox.broker)
    sandbox.broker.listeners.append(hub.publish)

    @app.route(PATH, websocket=True)
    def stream() -> Response:
        use_msgpack = request.headers.get("Content-Type", "").startswith("application/msgpack")
        ws = Server(request.environ, thread_class=_daemon_thread)
        Connection(hub, sandbox, ws, use_msgpack).run()
        # After our close frame, werkzeug would drain the socket and swallow the client's closing reply,
        # leaving both sides waiting; the reader thread ends once it has read that reply.
        ws.thread.join(CLOSE_WAIT_SECONDS)
        return Response()  # werkzeug needs a response; the websocket is already closed

    @app.get("/_sandbox/stream")
    def stream_status() -> Response:
        return json_response(hub.status())

    @app.delete("/_sandbox/stream")
    def disconnect() -> Response:
        return json_response({"disconnected": hub.disconnect_all()})

    return hub
