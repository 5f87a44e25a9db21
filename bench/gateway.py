"""Gateway overhead: GET account and POST order through functions-framework processes vs the sandbox directly.

Run: `.venv/bin/python -m bench.gateway [--requests N] [--concurrency 1 16]`. One `functions-framework`
process per entry point (get_account, place_order; gunicorn, one worker, THREADS threads), the sandbox
with a high rate limit, and the Firestore emulator (FIRESTORE_EMULATOR_HOST, else one is started).
Writes bench/results/gateway.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.setup import DEV_TOKEN, SANDBOX_HEADERS, emulator, gateway_env, market_sandbox
from infra.stack import Service, start_function

RESULTS = Path(__file__).resolve().parent / "results"


ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


@dataclass
class Cell:
    operation: str
    path: str  # "direct" or "gateway"
    concurrency: int
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    throughput_rps: float


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


Send = Callable[[httpx.Client], httpx.Response]


def run_cell(
    operation: str,
    path: str,
    make_client: Callable[[], httpx.Client],
    send: Send,
    concurrency: int,
    total: int,
) -> Cell:
    """`total` requests spread over `concurrency` threads, each with its own keep-alive client."""
    per_client = max(1, total // concurrency)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    start_line = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        with make_client() as client:
            send(client)  # open the connection outside the measurement
            start_line.wait()
            for _ in range(per_client):
                began = time.perf_counter()
                response = send(client)
                latencies[index].append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    errors[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    samples = [x for chunk in latencies for x in chunk]
    p50, p95, p99 = percentiles(samples)
    return Cell(
        operation,
        path,
        concurrency,
        len(samples),
        sum(errors),
        round(p50, 2),
        round(p95, 2),
        round(p99, 2),
        round(statistics.fmean(samples), 2),
        round(len(samples) / elapsed, 1),
    )


def table(cells: list[Cell]) -> str:
    rows = [
        "| operation | clients | direct p50 / p95 / p99 ms | gateway p50 / p95 / p99 ms "
        "| ratio p50 / p95 / p99 | gateway rps | errors |",
        "|---|---:|---|---|---|---:|---:|",
    ]
    keyed = {(c.operation, c.path, c.concurrency): c for c in cells}
    for operation, _, concurrency in sorted({(c.operation, "", c.concurrency) for c in cells}):
        d, g = keyed[(operation, "direct", concurrency)], keyed[(operation, "gateway", concurrency)]
        ratio = " / ".join(f"{gv / dv:.1f}x" for gv, dv in zip(_p(g), _p(d), strict=True))
        rows.append(
            f"| {operation} | {concurrency} | {' / '.join(f'{v:.1f}' for v in _p(d))} "
            f"| {' / '.join(f'{v:.1f}' for v in _p(g))} | {ratio} | {g.throughput_rps} "
            f"| {d.errors + g.errors} |"
        )
    return "\n".join(rows)


def _p(cell: Cell) -> tuple[float, float, float]:
    return (cell.p50_ms, cell.p95_ms, cell.p99_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=800, help="requests per cell (split over clients)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--threads", type=int, default=16, help="gunicorn threads per function process")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        sandbox = market_sandbox(stack, aapl_price="1.00")  # cheap fills: buying power lasts the run
        env = {
            **gateway_env(sandbox.url, emulator(stack)),
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "THREADS": str(args.threads),
        }
        functions: dict[str, Service] = {}
        for target in ("get_account", "place_order"):
            functions[target] = start_function(target, env)
            stack.callback(functions[target].stop)

        def direct_client() -> httpx.Client:
            headers = SANDBOX_HEADERS
            return httpx.Client(base_url=sandbox.url, headers=headers, timeout=30.0)

        def gateway_client(target: str) -> Callable[[], httpx.Client]:
            def make() -> httpx.Client:
                headers = {"Authorization": f"Bearer {DEV_TOKEN}"}
                return httpx.Client(base_url=functions[target].url, headers=headers, timeout=30.0)

            return make

        plans: list[tuple[str, str, Callable[[], httpx.Client], Send]] = [
            ("GET account", "direct", direct_client, lambda c: c.get("/v2/account")),
            ("GET account", "gateway", gateway_client("get_account"), lambda c: c.get("/")),
            ("POST order", "direct", direct_client, lambda c: c.post("/v2/orders", json=ORDER)),
            ("POST order", "gateway", gateway_client("place_order"), lambda c: c.post("/", json=ORDER)),
        ]
        cells: list[Cell] = []
        began = time.time()
        for concurrency in args.concurrency:
            for operation, path, make, send in plans:
                run_cell(operation, path, make, send, concurrency, max(20, args.requests // 10))  # warm up
                cells.append(run_cell(operation, path, make, send, concurrency, args.requests))

    result = {
        "benchmark": "gateway",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(began)),
        "seconds": round(time.time() - began, 1),
        "gateway": "one functions-framework process per entry point (gunicorn, 1 worker)",
        "gunicorn_threads": args.threads,
        "upstream": "sandbox (python -m sandbox, --rate-limit 100000), clock frozen in market hours",
        "firestore": "emulator",
        "rate_limit_per_minute": "1000000: the slot limiter never makes a request wait, its Firestore "
        "commit per upstream request is still paid",
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cells": [asdict(c) for c in cells],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gateway.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(cells))
    print(f"\nwritten to {RESULTS / 'gateway.json'} ({result['seconds']} s of measurement)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
