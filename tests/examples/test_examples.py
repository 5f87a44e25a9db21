"""Each example in examples/ works against `make run`, and the seed's curl lines work as written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.examples.conftest import SIGNING_SECRET, TV_TOKEN, Stack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_CURL_LINES = [  # the seed document's six lines, with its host
    ["curl", "http://localhost:{port}/api/alpaca/clock"],
    ["curl", "http://localhost:{port}/api/alpaca/account"],
    [
        "curl", "-X", "POST", "http://localhost:{port}/api/alpaca/orders",
        "-H", "Content-Type: application/json",
        "-d", '{ "symbol": "AAPL", "qty": "10", "side": "buy", "type": "market", "time_in_force": "day" }',
    ],
    ["curl", "http://localhost:{port}/api/alpaca/orders"],
    ["curl", "http://localhost:{port}/api/alpaca/positions"],
    ["curl", "-X", "POST", "http://localhost:{port}/api/alpaca/positions/AAPL/close"],
]  # fmt: skip


def run_example(stack: Stack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GATEWAY_URL": stack.gateway, **env},
        check=False,
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_seed_curl_lines_work_as_written_without_a_token(stack: Stack) -> None:
    port = stack.gateway.rsplit(":", 1)[1]
    codes = []
    for line in SEED_CURL_LINES:
        command = [part.replace("{port}", port) for part in line]
        done = subprocess.run([*command, "-s", "-o", "/dev/null", "-w", "%{http_code}"], capture_output=True)
        codes.append(done.stdout.decode())
    assert codes == ["200"] * 6


def test_the_banner_says_no_credential_is_the_local_developer(stack: Stack) -> None:
    assert "local developer" in (stack.logs / "make-run.log").read_text()


def test_the_httpx_workflow_example_runs(stack: Stack) -> None:
    done = run_example(stack, str(EXAMPLES / "seed_workflow.py"), stack.api)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(" 200 ") == 6


def test_the_signed_request_example_is_served(stack: Stack) -> None:
    env = {"GATEWAY_CALLER": "bot", "GATEWAY_SIGNING_SECRET": SIGNING_SECRET}
    done = run_example(
        stack, str(EXAMPLES / "signed_request.py"), "GET", "/api/alpaca/orders?status=all", **env
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("200 ")


def test_the_signed_request_example_with_the_wrong_secret_is_refused(stack: Stack) -> None:
    env = {"GATEWAY_CALLER": "bot", "GATEWAY_SIGNING_SECRET": "not-the-secret-of-the-bot"}
    done = run_example(stack, str(EXAMPLES / "signed_request.py"), "GET", "/api/alpaca/account", **env)
    assert done.stdout.startswith("401 ")


def alert(ticker: str, order_id: str, timenow: str) -> str:
    """The alert message as TradingView sends it, placeholders filled in."""
    text = (EXAMPLES / "tradingview-alert.json").read_text()
    filled = {
        "{{ticker}}": ticker,
        "{{strategy.order.action}}": "buy",
        "{{strategy.order.contracts}}": "3",
        "{{strategy.order.id}}": order_id,
        "{{timenow}}": timenow,
    }
    for placeholder, value in filled.items():
        text = text.replace(placeholder, value)
    return text.replace("PASTE-YOUR-WEBHOOK-TOKEN", TV_TOKEN)


def test_a_tradingview_alert_delivered_twice_places_one_order(stack: Stack) -> None:
    body = alert("MSFT", "Long Entry", "2026-11-17T15:00:00Z")
    headers = {"Content-Type": "application/json"}  # TradingView's, for a message that is JSON
    first = httpx.post(f"{stack.api}/orders", content=body, headers=headers, timeout=10.0)
    again = httpx.post(f"{stack.api}/orders", content=body, headers=headers, timeout=10.0)
    assert (first.status_code, again.status_code) == (200, 200), first.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]


def test_the_alert_template_is_json_with_the_body_token_and_an_alert_derived_order_id() -> None:
    template = json.loads((EXAMPLES / "tradingview-alert.json").read_text())
    assert (
        "{{strategy.order.id}}" in template["client_order_id"]
        and "{{timenow}}" in template["client_order_id"]
    )
    assert "token" in template
