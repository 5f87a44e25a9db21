"""The order path's Firestore cost and latency: POST /orders in-process behind the real entry point
(functions-framework's app) against a direct POST to the sandbox, interleaved in one run.

Run: `.venv/bin/python -m bench.orders [--quick]`. The gateway's Firestore client counts every RPC and
every document written at the client (tests/support/firestore.py), so the limiter's writes inside the
claim are counted like any other. Phases: back to back at an unlimited budget; one order every 1.2 s
(longer than any settings cache) at the real budget (190 per 60 s); the same with max_order_notional
and max_position_notional set (the risk check's two reads); repeats of placed keys. Writes
bench/results/orders.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import functions_framework
import httpx
from google.cloud import firestore

from bench.setup import SANDBOX_HEADERS, emulator, gateway_env, market_sandbox
from shared.app import build, install
from shared.config import Settings
from tests.support.firestore import RpcCount, counting

RESULTS = Path(__file__).resolve().parent / "results"
MAIN = str(Path(__file__).resolve().parent.parent / "main.py")
ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "limit", "limit_price": "1.00"}
MARKET = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market"}
AUTH = {"Authorization": "Bearer dev-token"}


def summary(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 2),
        "p99_ms": round(cuts[98], 2),
        "mean_ms": round(statistics.mean(samples), 2),
    }


class Phase:
    """One gateway on its own project (so its own limiter document and settings), counted at the client."""

    def __init__(self, stack: ExitStack, sandbox_url: str, budget: str, risk: dict[str, str] | None) -> None:
        env = {
            **gateway_env(sandbox_url, os.environ["FIRESTORE_EMULATOR_HOST"]),
            "RATE_LIMIT_PER_MINUTE": budget,
        }
        self.db = firestore.Client(project=env["GOOGLE_CLOUD_PROJECT"])
        if risk:
            self.db.collection("settings").document("risk").set(risk)
        install(build(Settings.from_mapping(env), db=self.db))
        stack.callback(install, None)
        self.client = functions_framework.create_app("place_order", MAIN).test_client()
        self.count: RpcCount = counting(self.db)
        self.tag = uuid.uuid4().hex[:6]

    def place(self, order: dict[str, Any], n: int) -> float:
        start = time.perf_counter()
        answer = self.client.post("/", json={**order, "client_order_id": f"{self.tag}-{n}"}, headers=AUTH)
        elapsed = (time.perf_counter() - start) * 1000
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return elapsed


def per_order(count: RpcCount, orders: int) -> dict[str, Any]:
    return {
        "round_trips_per_order": round(count.round_trips / orders, 2),
        "rpcs_per_order": {name: round(n / orders, 2) for name, n in sorted(count.calls.items())},
        "documents_written_per_order": round(count.documents_written / orders, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    orders, spaced = (60, 6) if args.quick else (300, 15)
    with ExitStack() as stack:
        if "FIRESTORE_EMULATOR_HOST" not in os.environ:
            os.environ["FIRESTORE_EMULATOR_HOST"] = emulator(stack)  # firestore.Client reads it
            stack.callback(os.environ.pop, "FIRESTORE_EMULATOR_HOST", None)
        sandbox = market_sandbox(stack, aapl_price="10.00")
        direct = stack.enter_context(httpx.Client(base_url=sandbox.url, headers=SANDBOX_HEADERS))
        rows: dict[str, Any] = {}

        # Back to back, unlimited budget, against the direct call.
        phase = Phase(stack, sandbox.url, "1000000", None)
        for n in range(20):  # warm both paths
            phase.place(ORDER, 10_000 + n)
            direct.post("/v2/orders", json={**ORDER, "client_order_id": f"warm-d{n}", "time_in_force": "day"})
        phase.count.reset()
        timings: dict[str, list[float]] = {"direct": [], "gateway": [], "repeat": []}
        for n in range(orders):
            start = time.perf_counter()
            reply = direct.post(
                "/v2/orders", json={**ORDER, "client_order_id": f"d-{phase.tag}-{n}", "time_in_force": "day"}
            )
            timings["direct"].append((time.perf_counter() - start) * 1000)
            assert reply.status_code == 200, reply.text
            timings["gateway"].append(phase.place(ORDER, n))
        rows["back_to_back@unlimited"] = per_order(phase.count, orders)
        phase.count.reset()
        repeats = min(100, orders)
        for n in range(repeats):
            timings["repeat"].append(phase.place(ORDER, n))
        rows["repeat of a placed key"] = per_order(phase.count, repeats)
        latency = {name: summary(samples) for name, samples in timings.items()}

        # Spaced past every cache, at the real budget: without and with the notional limits.
        for name, risk, order in (
            ("every 1.2 s @190", None, ORDER),
            (
                "every 1.2 s @190, notional limits set",
                {"max_order_notional": "100000", "max_position_notional": "10000000"},
                MARKET,
            ),
        ):
            phase = Phase(stack, sandbox.url, "190", risk)
            phase.place(order, 10_000)
            time.sleep(1.2)
            phase.count.reset()
            samples = []
            for n in range(spaced):
                samples.append(phase.place(order, n))
                time.sleep(1.2)
            rows[name] = {**per_order(phase.count, spaced), **summary(samples)}

    result = {
        "benchmark": "orders",
        "orders": orders,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "latency_back_to_back": latency,
        "ratio_p50": round(latency["gateway"]["p50_ms"] / latency["direct"]["p50_ms"], 2),
        "firestore": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "orders.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"| path ({orders} orders, back to back) | p50 ms | p99 ms | mean ms |\n|---|---|---|---|")
    for name, row in latency.items():
        print(f"| {name} | {row['p50_ms']} | {row['p99_ms']} | {row['mean_ms']} |")
    print("\n| phase | round trips / order | RPCs / order | documents written / order |\n|---|---:|---|---:|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['round_trips_per_order']} | {row['rpcs_per_order']} "
            f"| {row['documents_written_per_order']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
