"""Command line: `python -m sandbox --port 8002` plus host, rate-limit, accounts and clock options."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from decimal import Decimal
from types import FrameType

from werkzeug.serving import make_server

from sandbox.clock import parse_time
from sandbox.decimals import parse_decimal
from sandbox.server import create_app
from sandbox.state import DEFAULT_ACCOUNT, Config, Sandbox, load_accounts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Alpaca-compatible sandbox broker")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--rate-limit", type=int, default=200, help="requests per key per window")
    parser.add_argument("--rate-window", type=float, default=60.0, help="window length in seconds")
    parser.add_argument(
        "--accounts", help="JSON file: list of {key, secret, cash, multiplier, shorting_enabled}"
    )
    parser.add_argument("--now", help="start the sandbox clock at this RFC3339 instant")
    parser.add_argument("--frozen", action="store_true", help="keep the clock still until moved")
    parser.add_argument("--verbose", action="store_true", help="log one line per request")
    parser.add_argument(
        "--liquidity",
        action="append",
        default=[],
        metavar="SYMBOL=QTY",
        help="fill at most QTY of an order per minute in SYMBOL (`*` for all); repeatable; off by default",
    )
    return parser.parse_args(argv)


def parse_liquidity(raw: str) -> tuple[str, Decimal]:
    symbol, _, qty = raw.partition("=")
    amount = parse_decimal(qty)
    if not symbol or amount is None or amount <= 0:
        raise SystemExit(f"--liquidity wants SYMBOL=QTY with QTY > 0, not {raw!r}")
    return symbol.strip().upper() if symbol.strip() != "*" else "*", amount


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = Config(
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        accounts=load_accounts(args.accounts) if args.accounts else (DEFAULT_ACCOUNT,),
        start=parse_time(args.now) if args.now else None,
        frozen=args.frozen,
        verbose=args.verbose,
        liquidity=tuple(parse_liquidity(item) for item in args.liquidity),
    )
    sandbox = Sandbox(config)
    server = make_server(args.host, args.port, create_app(sandbox), threaded=True)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            # shutdown() blocks until serve_forever returns, so call it off the main thread.
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sandbox.start_ticker()
    print(f"sandbox listening on http://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        sandbox.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
