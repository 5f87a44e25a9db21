"""After a whole `make run` session with distinctive secrets (this module runs after the examples), no
log line holds a token, a signing secret, a signature or an Alpaca key, and every gateway line is JSON."""

from __future__ import annotations

import json
import time

import httpx

from shared.auth.signatures import signature
from tests.examples.conftest import SECRETS, SIGNING_SECRET, TV_TOKEN, Stack

ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


def credentials_of_every_kind(stack: Stack) -> None:
    """Right and wrong, in every place a credential may travel."""
    api = stack.api
    dev = SECRETS["GATEWAY_DEV_TOKEN"]
    httpx.get(f"{api}/account", headers={"Authorization": f"Bearer {dev}"})
    httpx.get(f"{api}/account", headers={"X-Forwarded-Authorization": f"Bearer {dev}"})
    httpx.get(f"{api}/account", headers={"Authorization": f"Bearer {dev}-wrong"})
    httpx.post(f"{api}/orders", json={**ORDER, "token": TV_TOKEN})
    httpx.post(f"{api}/orders?token={TV_TOKEN}", json=ORDER)
    httpx.post(f"{api}/orders?token={TV_TOKEN}-wrong", json=ORDER)
    httpx.post(f"{api}/risk", json={"token": TV_TOKEN})  # no such method: 405
    httpx.post(f"{stack.gateway}/jobs/no_such_job", headers={"Authorization": f"Bearer {TV_TOKEN}"})
    now = int(time.time())
    for secret in (SIGNING_SECRET, "a-wrong-secret-for-the-bot"):
        v1 = signature(secret, now, "GET", "/api/alpaca/orders", b"")
        stack.sent_signatures.append(v1)
        for _ in range(2):  # the second is a replay
            httpx.get(f"{api}/orders", headers={"X-Signature": f"keyId=bot,t={now},v1={v1}"})


def test_no_log_holds_a_credential_after_a_whole_session(stack: Stack) -> None:
    credentials_of_every_kind(stack)
    time.sleep(0.5)  # let the processes flush their last lines
    text = stack.log_text()
    assert "GET /account" in text  # the logs are there to be searched
    leaked = [secret for secret in stack.secrets() if secret in text]
    assert leaked == []


def test_every_gateway_log_line_is_one_json_object_with_a_severity(stack: Stack) -> None:
    lines = (stack.logs / "gateway.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    assert entries and all({"severity", "message"} <= set(entry) for entry in entries)
