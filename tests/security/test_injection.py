"""Path parameters never reach an Alpaca URL unchecked, wherever the entry point is invoked.

A malformed `order_id` or `symbol` in the path, the query or the body, and a malformed `symbol` or
`client_order_id` in an order, is a 400/404 JSON error that makes no upstream request, writes no audit
event or order record, and leaves the sandbox's positions and orders as they were. The JSON body is
never a source of a path parameter. Positive controls show the same routes still work.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.gateway.conftest import Reply, call_entry
from tests.security.conftest import Book, Desk, State

COMMON = {
    "dotdot-positions": "../positions",
    "dotdot-orders": "../orders",
    "dotdot-configurations": "../account/configurations",
    "dotdot": "..",
    "dot": ".",
    "encoded-slash": "..%2Fpositions",
    "encoded-dots": "%2E%2E%2Fpositions",
    "lower-encoded-dots": "%2e%2e/orders",
    "encoded-query": "x%3Fstatus%3Dall",
    "query": "x?y=1",
    "fragment": "x#frag",
    "encoded-nul": "a%00b",
    "nul": "a\x00b",
    "encoded-crlf": "%0d%0aX-Injected: 1",
    "crlf": "\r\nX-Injected: 1",
    "space": "a b",
    "200-characters": "A" * 200,
    "fullwidth": "\uff21\uff21\uff30\uff2c",
    "arabic-digits": "\u0661\u0662\u0663",
    "empty": "",
}
RAW_ONLY = {"nul", "crlf"}  # a raw control character cannot be written in a path; its %-form is tested there
ORDER_IDS = {
    **COMMON,
    "id-then-traversal": "{id}/../../positions",
    "id-then-encoded-traversal": "{id}%2F..%2F..%2Fpositions",
    "id-then-query": "{id}?status=all",
    "id-in-arabic-digits": "{arabic_id}",
}
SYMBOLS = {
    **COMMON,
    "market-data-escape": "../../v2/orders?x=",
    "symbol-then-traversal": "AAPL/../../orders",
    "symbol-then-encoded-traversal": "AAPL%2F..%2F..%2Forders",
    "pair-then-dotdot": "BTC/..",
    "symbol-then-encoded-query": "AAPL%3Fpercentage%3D100",
    "33-characters": "A" * 33,
}
CLIENT_ORDER_IDS = {
    "slash": "a/b",
    "dotdot-orders": "../orders",
    "market-data-escape": "../../v2/orders?x=",
    "nul": "a\x00b",
    "crlf": "\r\nX-Injected: 1",
    "tab": "a\tb",
    "delete-character": "a\x7fb",
    "fullwidth": "\uff21\uff21\uff30\uff2c",
    "arabic-digits": "\u0661\u0662\u0663",
}
ORDER_LITERAL_PATHS = [  # what `in_path` cannot produce: raw dot segments, double encoding
    "/api/alpaca/orders/../positions",
    "/api/alpaca/orders/%252E%252E%252Fpositions",
    "/api/alpaca/orders/{id}/../../positions",
    "/api/alpaca/orders/%2E%2E",
]
CLOSE_LITERAL_PATHS = [
    "/api/alpaca/positions/..%2F..%2Fv2%2Forders/close",
    "/api/alpaca/positions/%2E%2E%2F%2E%2E%2Fv2%2Forders/close",
    "/positions/..%2Forders/close",
    "/api/alpaca/positions/../../orders/close",
    "/api/alpaca/positions/AAPL%2F..%2F..%2Forders/close",
    "/api/alpaca/positions/%252E%252E%252Forders/close",
]
ORDER_ROUTES = [
    pytest.param("get_order", "GET", id="get_order"),
    pytest.param("cancel_order", "DELETE", id="cancel_order"),
]
ORDER_PATHS = [
    pytest.param("/api/alpaca/orders/{}", id="api-path"),
    pytest.param("/orders/{}", id="short-path"),
]
CLOSE_PATHS = [
    pytest.param("/api/alpaca/positions/{}/close", id="api-path"),
    pytest.param("/positions/{}/close", id="short-path"),
]
ERROR_REASON = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def cases(values: dict[str, str], *, path: bool = False) -> list[Any]:
    return [pytest.param(v, id=k) for k, v in values.items() if not (path and k in RAW_ONLY)]


def resolve(value: str, book: Book) -> str:
    """Fill in the resting order's real id, as is or written in Arabic-Indic digits."""
    arabic = book.resting.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    return value.replace("{id}", book.resting).replace("{arabic_id}", arabic)


def in_path(template: str, value: str) -> str:
    """The value as one path segment: characters a path cannot hold are %-encoded, existing %-escapes kept."""
    return template.format(quote(value, safe="%"))


def send(target: str, method: str, path: str = "/", **kwargs: Any) -> Reply:
    """`call_entry`, failing the test (not erroring it) when the answer is not JSON at all."""
    try:
        return call_entry(target, method, path, **kwargs)
    except json.JSONDecodeError as exc:
        pytest.fail(f"{method} {path!r} answered a non-JSON body: {exc.doc[:120]!r}")


def assert_refused(reply: Reply, book: Book, desk: Desk, statuses: tuple[int, ...] = (400, 404)) -> None:
    """A JSON error in the seed's format; nothing sent upstream, recorded or changed since `book.before`."""
    after = desk.snapshot()
    answered = f"answered {reply.status} {reply.text[:200]}"
    assert after.upstream == book.before.upstream, f"the request reached Alpaca; {answered}"
    assert after == book.before, answered
    assert reply.status in statuses, reply.text
    assert reply.headers.get("Content-Type", "").startswith("application/json"), reply.headers
    body = reply.body
    assert isinstance(body, dict), reply.text
    assert isinstance(body.get("error"), str) and ERROR_REASON.fullmatch(body["error"]), body
    assert isinstance(body.get("message"), str), body
    assert body.get("code") == reply.status, body
    desk.untouched(after)


def changed_orders(before: State, after: State) -> set[str]:
    return {oid for oid, status in before.orders.items() if after.orders.get(oid) != status}


# -- get_order and cancel_order: order_id -----------------------------------------------------------


@pytest.mark.parametrize(("target", "method"), ORDER_ROUTES)
@pytest.mark.parametrize("template", ORDER_PATHS)
@pytest.mark.parametrize("value", cases(ORDER_IDS, path=True))
def test_hostile_order_id_in_the_path_is_refused(
    book: Book, desk: Desk, target: str, method: str, template: str, value: str
) -> None:
    """A malformed order id in the request path is a 400/404 JSON error that touches nothing."""
    reply = send(target, method, in_path(template, resolve(value, book)))
    assert_refused(reply, book, desk)


@pytest.mark.parametrize(("target", "method"), ORDER_ROUTES)
@pytest.mark.parametrize("path", ORDER_LITERAL_PATHS)
def test_hostile_literal_order_path_is_refused(
    book: Book, desk: Desk, target: str, method: str, path: str
) -> None:
    """Traversal written into the order path (raw, encoded, double-encoded) is refused and touches nothing."""
    assert_refused(send(target, method, resolve(path, book)), book, desk)


@pytest.mark.parametrize(("target", "method"), ORDER_ROUTES)
@pytest.mark.parametrize("value", cases(ORDER_IDS))
def test_hostile_order_id_in_the_query_is_refused(
    book: Book, desk: Desk, target: str, method: str, value: str
) -> None:
    """Invoked at `/`, a malformed ?order_id= is a 400/404 JSON error that touches nothing."""
    reply = send(target, method, "/", query={"order_id": resolve(value, book)})
    assert_refused(reply, book, desk)


@pytest.mark.parametrize(("target", "method"), ORDER_ROUTES)
@pytest.mark.parametrize("value", cases({**ORDER_IDS, "valid-id": "{id}"}))
def test_order_id_in_the_body_is_never_used(
    book: Book, desk: Desk, target: str, method: str, value: str
) -> None:
    """Invoked at `/`, an order id given only in the JSON body (even a real one) is refused."""
    reply = send(target, method, "/", json_body={"order_id": resolve(value, book)})
    assert_refused(reply, book, desk)


@pytest.mark.parametrize(("target", "method"), ORDER_ROUTES)
@pytest.mark.parametrize("path", ["/api/alpaca/orders/{id}", "/orders/{id}", "/?order_id={id}"])
def test_valid_order_id_reaches_only_that_order(
    book: Book, desk: Desk, target: str, method: str, path: str
) -> None:
    """Positive control: a real order id in the path or the query reads, or cancels, that order only."""
    where, _, query = resolve(path, book).partition("?order_id=")
    reply = send(target, method, where, query={"order_id": query} if query else None)
    assert reply.status == 200, reply.text
    assert reply.body["id"] == book.resting
    after = desk.snapshot()
    assert changed_orders(book.before, after) == ({book.resting} if target == "cancel_order" else set())
    assert after.positions == book.before.positions


@pytest.mark.parametrize(("target", "method"), ORDER_ROUTES)
@pytest.mark.parametrize(
    ("path", "query", "body"),
    [
        pytest.param("/api/alpaca/orders/{id}", None, {"order_id": "../orders"}, id="path-beats-body"),
        pytest.param("/api/alpaca/orders/{id}", {"order_id": "../positions"}, None, id="path-beats-query"),
        pytest.param("/", {"order_id": "{id}"}, {"order_id": "../orders"}, id="query-beats-body"),
    ],
)
def test_other_sources_are_ignored_when_the_order_id_is_given(
    book: Book,
    desk: Desk,
    target: str,
    method: str,
    path: str,
    query: dict[str, str] | None,
    body: dict[str, str] | None,
) -> None:
    """A hostile order id beside a real one in the right place is ignored: only the named order is touched."""
    query = {k: resolve(v, book) for k, v in query.items()} if query else None
    reply = send(target, method, resolve(path, book), query=query, json_body=body)
    assert reply.status == 200, reply.text
    assert reply.body["id"] == book.resting
    after = desk.snapshot()
    assert changed_orders(book.before, after) == ({book.resting} if target == "cancel_order" else set())
    assert after.positions == book.before.positions


# -- close_position: symbol -------------------------------------------------------------------------


@pytest.mark.parametrize("template", CLOSE_PATHS)
@pytest.mark.parametrize("value", cases(SYMBOLS, path=True))
def test_hostile_symbol_in_the_close_path_is_refused(
    book: Book, desk: Desk, template: str, value: str
) -> None:
    """A malformed symbol in the close path is a 400/404 JSON error that touches nothing."""
    reply = send("close_position", "POST", in_path(template, value))
    assert_refused(reply, book, desk)


@pytest.mark.parametrize("path", CLOSE_LITERAL_PATHS)
def test_hostile_literal_close_path_is_refused(book: Book, desk: Desk, path: str) -> None:
    """Traversal written into the close path (raw, encoded, double-encoded) is refused and touches nothing."""
    assert_refused(send("close_position", "POST", path), book, desk)


@pytest.mark.parametrize("value", cases(SYMBOLS))
def test_hostile_symbol_in_the_close_query_is_refused(book: Book, desk: Desk, value: str) -> None:
    """Invoked at `/`, a malformed ?symbol= is a 400/404 JSON error that touches nothing."""
    reply = send("close_position", "POST", "/", query={"symbol": value})
    assert_refused(reply, book, desk)


@pytest.mark.parametrize("value", cases({**SYMBOLS, "valid-symbol": "AAPL"}))
def test_symbol_in_the_close_body_is_never_used(book: Book, desk: Desk, value: str) -> None:
    """Invoked at `/`, a symbol given only in the JSON body (even a held one) is refused."""
    reply = send("close_position", "POST", "/", json_body={"symbol": value})
    assert_refused(reply, book, desk)


@pytest.mark.parametrize(
    ("path", "query", "body"),
    [
        pytest.param("/api/alpaca/positions/AAPL/close", None, None, id="path"),
        pytest.param("/positions/AAPL/close", None, None, id="short-path"),
        pytest.param("/api/alpaca/positions/{asset_id}/close", None, None, id="asset-id-path"),
        pytest.param("/", {"symbol": "AAPL"}, None, id="query"),
        pytest.param("/api/alpaca/positions/AAPL/close", None, {"symbol": "../orders"}, id="path-beats-body"),
        pytest.param(
            "/api/alpaca/positions/AAPL/close", {"symbol": "../positions"}, None, id="path-beats-query"
        ),
        pytest.param("/", {"symbol": "AAPL"}, {"symbol": "../positions"}, id="query-beats-body"),
    ],
)
def test_valid_symbol_closes_only_that_position(
    book: Book,
    desk: Desk,
    path: str,
    query: dict[str, str] | None,
    body: dict[str, str] | None,
) -> None:
    """Positive control: AAPL named in the path or the query closes AAPL only, whatever else is sent."""
    path = path.replace("{asset_id}", book.aapl_asset_id)
    reply = send("close_position", "POST", path, query=query, json_body=body)
    assert reply.status == 200, reply.text
    after = desk.snapshot()
    assert after.positions == {s: q for s, q in book.before.positions.items() if s != "AAPL"}
    assert changed_orders(book.before, after) == set()


def test_encoded_crypto_pair_is_one_close_path_segment(book: Book, desk: Desk) -> None:
    """BTC%2FUSD in the close path is the pair: it closes BTC/USD or is 404 position_not_found, no other."""
    reply = send("close_position", "POST", "/api/alpaca/positions/BTC%2FUSD/close")
    assert reply.status in (200, 404), reply.text
    assert reply.headers.get("Content-Type", "").startswith("application/json"), reply.headers
    after = desk.snapshot()
    if reply.status == 404:
        assert reply.body["error"] == "position_not_found", reply.body
        assert after.positions == book.before.positions
    else:
        assert after.positions == {s: q for s, q in book.before.positions.items() if s != "BTCUSD"}
    assert changed_orders(book.before, after) == set()


# -- place_order: body symbol and client_order_id -------------------------------------------------

BUY = {"side": "buy", "qty": "1", "time_in_force": "gtc"}  # gtc: valid for equities and crypto alike


@pytest.mark.parametrize("value", cases(SYMBOLS))
def test_hostile_order_symbol_is_refused(book: Book, desk: Desk, value: str) -> None:
    """A malformed order symbol is a 400/404 before any record, event or order reaches Alpaca."""
    reply = send("place_order", "POST", json_body={**BUY, "symbol": value})
    assert_refused(reply, book, desk)


@pytest.mark.parametrize("value", cases(SYMBOLS))
def test_hostile_order_symbol_is_refused_before_the_risk_reads(
    valued_book: Book, desk: Desk, value: str
) -> None:
    """With notional limits set, a malformed symbol still never reaches the market-data or position URL."""
    reply = send("place_order", "POST", json_body={**BUY, "symbol": value})
    assert_refused(reply, valued_book, desk)


@pytest.mark.parametrize("value", cases(CLIENT_ORDER_IDS))
def test_hostile_client_order_id_is_refused(valued_book: Book, desk: Desk, value: str) -> None:
    """A client_order_id with `/`, a control or a non-ASCII character is a 400/404 that touches nothing."""
    reply = send("place_order", "POST", json_body={**BUY, "symbol": "AAPL", "client_order_id": value})
    assert_refused(reply, valued_book, desk)


def test_overlong_client_order_id_keeps_its_422_and_touches_nothing(book: Book, desk: Desk) -> None:
    """A 200-character client_order_id stays Alpaca's 422 client_order_id_too_long, and sends nothing."""
    order = {**BUY, "symbol": "AAPL", "client_order_id": "x" * 200}
    reply = send("place_order", "POST", json_body=order)
    assert reply.body["error"] == "client_order_id_too_long", reply.text
    assert_refused(reply, book, desk, statuses=(422,))


VALID_ORDERS = [
    pytest.param({"symbol": "AAPL"}, id="AAPL"),
    pytest.param({"symbol": "BRK.B"}, id="BRK.B"),
    pytest.param({"symbol": "AAPL", "client_order_id": "tv-alert:AAPL #1 ?x=%41"}, id="printable-coid"),
]


@pytest.mark.parametrize(
    "order",
    [
        *VALID_ORDERS,
        pytest.param({"symbol": "BTC/USD", "qty": "0.001"}, id="BTC/USD"),
    ],
)
def test_valid_order_is_placed(book: Book, desk: Desk, order: dict[str, str]) -> None:
    """Positive control: valid symbols, a crypto pair and a printable client_order_id place their order."""
    reply = send("place_order", "POST", json_body={**BUY, **order})
    assert reply.status == 200, reply.text
    assert reply.body["symbol"] == order["symbol"]
    if "client_order_id" in order:
        assert reply.body["client_order_id"] == order["client_order_id"]


@pytest.mark.parametrize("order", VALID_ORDERS)
def test_valid_order_is_placed_through_the_risk_reads(
    valued_book: Book, desk: Desk, order: dict[str, str]
) -> None:
    """Positive control: with notional limits set, valid orders still pass the risk check's broker reads."""
    reply = send("place_order", "POST", json_body={**BUY, **order})
    assert reply.status == 200, reply.text
    assert reply.body["symbol"] == order["symbol"]
