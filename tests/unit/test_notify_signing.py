"""Standard Webhooks signatures: ours match the reference library's, and secrets are checked."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from shared.notify import signing
from shared.notify.payloads import encode, payload

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def test_signature_matches_the_standardwebhooks_library() -> None:
    body = b'{"type":"order.filled"}'
    ours = signing.signature(SECRET, "msg_1", 1_700_000_000, body)
    theirs = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(1_700_000_000, UTC), body.decode())
    assert ours == theirs


@pytest.mark.parametrize(
    "secret", ["k" * 40, "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        signing.secret_key(secret)


def test_payload_has_type_timestamp_and_data_with_the_event_id() -> None:
    """The JSON format: `{"type", "timestamp", "data"}`, server bookkeeping left out."""
    event = {
        "type": "order.filled",
        "time": datetime(2026, 11, 17, 15, tzinfo=UTC),
        "symbol": "AAPL",
        "created_at": 1,
    }
    assert payload("evt-1", event) == {
        "type": "order.filled",
        "timestamp": "2026-11-17T15:00:00Z",
        "data": {"id": "evt-1", "symbol": "AAPL"},
    }


def test_discord_format_sends_content() -> None:
    body = encode(
        payload("evt-1", {"type": "order.rejected", "reason": "insufficient_buying_power"}), "discord"
    )
    assert body.startswith(b'{"content":"Execution Engine: order.rejected')
