"""The seed guide's breakout-bot calls through the older alpaca-trade-api SDK, run in its own venv
(tests/sandbox/test_legacy_sdk.py): prints what each call parsed, as JSON, for the test to check."""

from __future__ import annotations

import json
import sys

import alpaca_trade_api as tradeapi
from alpaca_trade_api.rest import TimeFrame


def main(base_url: str, key: str, secret: str) -> None:
    api = tradeapi.REST(key, secret, base_url, api_version="v2")
    clock = api.get_clock()
    bars = api.get_bars("AAPL", TimeFrame.Minute, "2026-11-17T14:30:00Z", "2026-11-17T14:59:00Z", limit=10)
    assets = api.list_assets(status="active")
    last = bars[-1].c
    order = api.submit_order(
        symbol="AAPL",
        qty=100,
        side="buy",
        type="market",
        time_in_force="day",
        order_class="bracket",
        stop_loss={"stop_price": str(round(last * 0.95, 2))},
        take_profit={"limit_price": str(round(last * 1.05, 2))},
    )
    positions = api.list_positions()
    account = api.get_account()
    print(
        json.dumps(
            {
                "is_open": clock.is_open,
                "bars": len(bars),
                "bar_close": float(last),
                "assets": len(assets),
                "order_class": order.order_class,
                "legs": len(order.legs or []),
                "positions": {p.symbol: p.qty for p in positions},
                "account_status": account.status,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
