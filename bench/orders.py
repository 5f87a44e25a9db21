"""Webhook-to-order latency: POST /orders through the gateway (risk, audit, idempotency, limiter) against
a direct POST to the sandbox, interleaved in one run; plus Firestore writes per order.

Run: `.venv/bin/python -m bench.orders [--orders N]`. The gateway runs in-process behind the real
entry point (functions-framework's app); the sandbox and the Firestore emulator (FIRESTORE_EMULATOR_HOST,
else one is started) are real processes. Writes bench/results/orders.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import functions_framework
import httpx
from google.cloud import firestore
from google.cloud.firestore_v1.batch import WriteBatch

from bench.setup import SANDBOX_HEADERS, emulator, gateway_env, market_sandbox
from shared.app import build, install
from shared.config import Settings

RESULTS = Path(__file__).resolve().parent / "results"
MAIN = str(Path(__file__).resolve().parent.parent / "main.py")


ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "limit", "limit_price": "1.00"}


class WriteCounter:
    """Counts the document writes of every commit (instrumentation of the client library, bench only)."""

    def __init__(self) -> None:
        self.writes = 0
        self._original = WriteBatch.commit

    def __enter__(self) -> WriteCounter:
        counter, original = self, self._original

        def commit(batch: WriteBatch, *args: Any, **kwargs: Any) -> Any:
            counter.writes += len(batch._write_pbs)
            return original(batch, *args, **kwargs)

        WriteBatch.commit = commit  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        WriteBatch.commit = self._original  # type: ignore[method-assign]


def summary(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 2),
        "p99_ms": round(cuts[98], 2),
        "mean_ms": round(statistics.mean(samples), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=300)
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        if "FIRESTORE_EMULATOR_HOST" not in os.environ:
            os.environ["FIRESTORE_EMULATOR_HOST"] = emulator(stack)  # firestore.Client reads it
            stack.callback(os.environ.pop, "FIRESTORE_EMULATOR_HOST", None)
        sandbox = market_sandbox(stack, aapl_price="10.00")
        env = {
            **gateway_env(sandbox.url, os.environ["FIRESTORE_EMULATOR_HOST"]),
            "RATE_LIMIT_PER_MINUTE": "100000",
        }
        settings = Settings.from_mapping(env)
        install(build(settings, db=firestore.Client(project=env["GOOGLE_CLOUD_PROJECT"])))
        stack.callback(install, None)
        gateway = functions_framework.create_app("place_order", MAIN).test_client()
        direct = stack.enter_context(httpx.Client(base_url=sandbox.url, headers=SANDBOX_HEADERS))
        auth = {"Authorization": "Bearer dev-token"}
        for n in range(20):  # warm both paths
            gateway.post("/", json={**ORDER, "client_order_id": f"warm-g{n}"}, headers=auth)
            direct.post("/v2/orders", json={**ORDER, "client_order_id": f"warm-d{n}", "time_in_force": "day"})
        timings: dict[str, list[float]] = {"direct": [], "gateway": [], "replay": []}
        with WriteCounter() as counter:
            for n in range(args.orders):
                start = time.perf_counter()
                reply = direct.post(
                    "/v2/orders", json={**ORDER, "client_order_id": f"d-{n}", "time_in_force": "day"}
                )
                timings["direct"].append((time.perf_counter() - start) * 1000)
                assert reply.status_code == 200, reply.text
                start = time.perf_counter()
                answer = gateway.post("/", json={**ORDER, "client_order_id": f"g-{n}"}, headers=auth)
                timings["gateway"].append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, answer.get_data(as_text=True)
            placed_writes = counter.writes
            for n in range(min(100, args.orders)):
                start = time.perf_counter()
                gateway.post("/", json={**ORDER, "client_order_id": f"g-{n}"}, headers=auth)
                timings["replay"].append((time.perf_counter() - start) * 1000)
        rows = {name: summary(samples) for name, samples in timings.items()}
        result = {
            "benchmark": "orders",
            "orders": args.orders,
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "rows": rows,
            "ratio_p50": round(rows["gateway"]["p50_ms"] / rows["direct"]["p50_ms"], 2),
            "ratio_p99": round(rows["gateway"]["p99_ms"] / rows["direct"]["p99_ms"], 2),
            "firestore_writes_per_order": round(placed_writes / args.orders, 2),
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "orders.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"| path ({args.orders} orders, sequential) | p50 ms | p99 ms | mean ms |")
    print("|---|---|---|---|")
    labels = {
        "direct": "direct POST to sandbox",
        "gateway": "gateway POST /orders",
        "replay": "gateway repeat",
    }
    for name, row in rows.items():
        print(f"| {labels[name]} | {row['p50_ms']} | {row['p99_ms']} | {row['mean_ms']} |")
    print(
        f"\nratio gateway/direct: p50 {result['ratio_p50']}x, p99 {result['ratio_p99']}x; "
        f"Firestore writes per order: {result['firestore_writes_per_order']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
