"""Alpaca keys never leak: not in responses, logs, audit records, order records or exception texts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from shared.alpaca.credentials import Credentials
from shared.config import Settings
from shared.gateway import Gateway
from tests.gateway.conftest import call_entry

WRONG_SECRET = "wrong-secret-9d41c7"
COLLECTIONS = ("orders", "audit", "ratelimit", "settings")


def _firestore_text(db: Any) -> str:
    return "\n".join(
        repr(snap.to_dict()) + snap.id for name in COLLECTIONS for snap in db.collection(name).stream()
    )


def _log_text(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in records)


def test_keys_appear_nowhere_after_a_trading_session(
    make_gateway: Callable[..., Gateway],
    market_open: Any,
    db: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Orders placed, rejected, denied and cancelled, a close and failures leave no key anywhere."""
    caplog.set_level(logging.DEBUG)
    make_gateway()
    buy = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
    replies = [
        call_entry("get_account"),
        call_entry("get_config"),
        call_entry("place_order", "POST", json_body=buy),
        call_entry("place_order", "POST", json_body={**buy, "symbol": "NOPE"}),
        call_entry("place_order", "POST", json_body={**buy, "qty": "100000"}),
        call_entry("close_position", "POST", "/positions/MSFT/close"),
        call_entry("cancel_order", "DELETE", "/orders/00000000-0000-0000-0000-000000000000"),
    ]
    assert [r.status for r in replies] == [200, 200, 200, 422, 403, 404, 404]
    seen = (
        "\n".join(r.text + repr(r.headers) for r in replies) + _log_text(caplog.records) + _firestore_text(db)
    )
    for secret in (market_open.key, market_open.secret):
        assert secret not in seen


def test_refused_keys_are_not_echoed(
    make_gateway: Callable[..., Gateway], market_open: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """When Alpaca refuses the keys, the 502 and the logs name no key."""
    caplog.set_level(logging.DEBUG)
    make_gateway({"ALPACA_SECRET_KEY": WRONG_SECRET})
    reply = call_entry("get_account")
    assert reply.status == 502 and reply.body["error"] == "broker_unauthorized"
    assert WRONG_SECRET not in reply.text + _log_text(caplog.records)


def test_settings_and_credentials_do_not_print_keys() -> None:
    """repr() of the settings and of a key pair, as a traceback would show them, hides the keys."""
    settings = Settings.from_mapping({"ALPACA_API_KEY": "key-id-5e2", "ALPACA_SECRET_KEY": WRONG_SECRET})
    shown = repr(settings) + str(settings) + repr(Credentials("key-id-5e2", WRONG_SECRET))
    assert "key-id-5e2" not in shown and WRONG_SECRET not in shown
