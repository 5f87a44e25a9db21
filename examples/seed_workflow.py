"""The seed document's workflow with httpx: the clock, the account, a market order, the orders, the
positions, and closing the position.

    python examples/seed_workflow.py [BASE_URL]

BASE_URL defaults to http://127.0.0.1:8001/api/alpaca, where `make run` serves this machine without a
token. Anywhere else, set GATEWAY_TOKEN to a token with the trade scope.
"""

from __future__ import annotations

import os
import sys
import uuid

import httpx

ORDER = {"symbol": "AAPL", "qty": "10", "side": "buy", "type": "market", "time_in_force": "day"}


def run(base_url: str, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as api:

        def show(step: str, response: httpx.Response) -> None:
            response.raise_for_status()
            print(f"{step:<18} {response.status_code}  {response.text[:120]}")

        show("clock", api.get("/clock"))
        show("account", api.get("/account"))
        # The Idempotency-Key makes a retried POST safe: the gateway answers the first outcome again.
        order = api.post("/orders", json=ORDER, headers={"Idempotency-Key": f"seed-{uuid.uuid4()}"})
        show("place order", order)
        show("order status", api.get("/orders", params={"status": "all"}))
        show("positions", api.get("/positions"))
        show("close position", api.post(f"/positions/{ORDER['symbol']}/close"))


if __name__ == "__main__":
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8001/api/alpaca"
    try:
        run(base.rstrip("/"), os.environ.get("GATEWAY_TOKEN"))
    except httpx.HTTPStatusError as failed:
        print(f"{failed.request.method} {failed.request.url.path}: {failed.response.text}", file=sys.stderr)
        sys.exit(1)
