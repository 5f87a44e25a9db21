"""Bursts of concurrent orders after an idle window: how many are placed at once, how the rest are
refused, and what the broker saw. Real budget (190 per 60 s, the sandbox enforcing Alpaca's 200).

Run: `.venv/bin/python -m bench.burst [--quick]`. Four place_order functions-framework processes share
one Firestore project (one limiter document) and one sandbox. Each process is warmed with one order
(building its gateway and caching the asset), then the limiter is left idle for a whole window, then
N orders are sent at once, spread over the processes; for each burst size a fresh sandbox and project.
`--quick` runs the compressed window (20 per 6 s, the sandbox at 21) with bursts of 10 and 30.
Writes bench/results/burst.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.setup import DEV_TOKEN, emulator, gateway_env
from infra.stack import Service, start_function, start_sandbox
from tests.support.env import SANDBOX_KEY, TRADING_NOW

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
PROCESSES = 4


def post(url: str, key: str) -> dict[str, Any]:
    began = time.perf_counter()
    reply = httpx.post(
        url,
        json={**ORDER, "client_order_id": key},
        headers={"Authorization": f"Bearer {DEV_TOKEN}"},
        timeout=60,
    )
    return {
        "status": reply.status_code,
        "retry_after": reply.headers.get("Retry-After"),
        "seconds": time.perf_counter() - began,
    }


def run(stack: ExitStack, host: str, size: int, budget: int, window: float, upstream: int) -> dict[str, Any]:
    sandbox = start_sandbox(rate_limit=upstream, rate_window=window)
    stack.callback(sandbox.stop)
    with httpx.Client(base_url=sandbox.url, timeout=10.0) as admin:
        admin.put("/_sandbox/clock", json={"now": TRADING_NOW, "frozen": True}).raise_for_status()
        admin.put("/_sandbox/prices/AAPL", json={"price": "1.00"}).raise_for_status()
    env = {
        **gateway_env(sandbox.url, host),
        "GOOGLE_CLOUD_PROJECT": f"burst-{uuid.uuid4().hex[:10]}",
        "RATE_LIMIT_PER_MINUTE": str(budget),
        "RATE_LIMIT_WINDOW_SECONDS": str(window),
        "THREADS": str(size // PROCESSES + 8),
    }
    with ThreadPoolExecutor(PROCESSES) as pool:
        functions: list[Service] = list(
            pool.map(lambda _: start_function("place_order", env), range(PROCESSES))
        )
    for service in functions:
        stack.callback(service.stop)
    for n, service in enumerate(functions):
        assert post(service.url, f"warm-{n}")["status"] == 200
    time.sleep(window + 2.0)  # an idle window
    began = time.perf_counter()
    with ThreadPoolExecutor(size) as pool:
        answers = list(pool.map(lambda n: post(functions[n % PROCESSES].url, f"burst-{n}"), range(size)))
    elapsed = time.perf_counter() - began
    stats = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["keys"][SANDBOX_KEY]
    placed = [a["seconds"] for a in answers if a["status"] == 200]
    refused = [a for a in answers if a["status"] == 429]
    return {
        "orders": size,
        "budget": budget,
        "window_s": window,
        "placed": len(placed),
        "refused_429": len(refused),
        "refused_with_retry_after": sum(1 for a in refused if a["retry_after"]),
        "retry_after_s_min_max": [
            min((float(a["retry_after"]) for a in refused if a["retry_after"]), default=None),
            max((float(a["retry_after"]) for a in refused if a["retry_after"]), default=None),
        ],
        "other_statuses": sorted({a["status"] for a in answers} - {200, 429}),
        "placed_p50_s": round(statistics.median(placed), 3) if placed else None,
        "placed_max_s": round(max(placed), 3) if placed else None,
        "burst_seconds": round(elapsed, 2),
        "upstream_requests": stats["requests"],
        "upstream_429": stats["rate_limited"],
        "upstream_max_in_window": stats["max_in_window"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    budget, window, upstream, sizes = (20, 6.0, 21, (10, 30)) if args.quick else (190, 60.0, 200, (100, 300))
    rows = []
    with ExitStack() as stack:
        host = emulator(stack)
        for size in sizes:
            with ExitStack() as inner:
                rows.append(run(inner, host, size, budget, window, upstream))
            print(json.dumps(rows[-1]), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "burst.json").write_text(
        json.dumps({"benchmark": "burst", "quick": args.quick, "runs": rows}, indent=2)
    )
    head = "| orders at once | placed | 429 (with Retry-After) | placed p50 / max s | upstream 429 |"
    print(head + " max in window |\n|---:|---:|---:|---|---:|---:|")
    for r in rows:
        placed = f"{r['placed_p50_s']} / {r['placed_max_s']}"
        refused = f"{r['refused_429']} ({r['refused_with_retry_after']})"
        window_seen = f"{r['upstream_max_in_window']} (limit {upstream})"
        print(
            f"| {r['orders']} | {r['placed']} | {refused} | {placed} | {r['upstream_429']} | {window_seen} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
