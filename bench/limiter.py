"""The distributed limiter against a naive per-instance one, side by side, with 1, 4, 8 and 16 processes.

Run: `.venv/bin/python -m bench.limiter [--window 6 --limit 20 --windows 3]` (about 3 minutes).
One sandbox enforces LIMIT requests per WINDOW seconds; for each process count, each mode gets a fresh
sandbox window and a fresh Firestore project. Every process builds the real gateway (`build()`) and
runs 4 threads calling Alpaca's clock through `AlpacaClient` until k windows after the start, minus
the read wait. The theoretical maximum is LIMIT * ceil(span / WINDOW), span running from the start
to the last caller's end (k * LIMIT for the slot limiter; the naive one's 429 retries run longer).
`firestore`: the slot limiter; `naive`: RATE_LIMIT_MODE=local, every process allowing itself the
whole budget. Reports utilisation (requests the upstream served / maximum), upstream 429s,
p50/p99 of the time spent in `limiter.acquire` by callers that got a slot, and Firestore writes per
upstream request. Writes bench/results/limiter.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from bench.setup import warm
from infra.stack import start_emulator, start_sandbox

THREADS = 4
READ_WAIT = 0.5
RESULTS = Path(__file__).resolve().parent / "results" / "limiter.json"


class TimedLimiter:
    """Wraps a limiter to record how long granted callers waited in `acquire`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.waits: list[float] = []
        self.refused = 0

    def acquire(self, key_id: str, priority: Any, units: int = 1) -> Any:
        started = time.perf_counter()
        try:
            permit = self.inner.acquire(key_id, priority, units)
        except Exception:
            self.refused += 1
            raise
        self.waits.append(time.perf_counter() - started)
        return permit  # the client checks its last instant right before each send

    def observe(self, key_id: str, status: int, headers: Mapping[str, str]) -> None:
        self.inner.observe(key_id, status, headers)


def worker(env: dict[str, str], ready: Any, go: Any, stop_after: float, out: Any) -> None:
    """One gateway instance: build, warm the Firestore channel, then call the clock until stop."""
    os.environ.update(env)
    from google.cloud import firestore

    from shared.app import wire
    from shared.clock import SystemClock
    from shared.config import Settings
    from shared.errors import GatewayError
    from shared.limits.slots import limiter_from_settings
    from tests.support.firestore import counting

    settings = Settings.from_mapping(env)
    db = firestore.Client(project=settings.google_cloud_project)
    db.collection("warmup").document("x").get()
    count = counting(db)  # every RPC and document written from here on, at the client
    limiter = TimedLimiter(limiter_from_settings(settings, db, SystemClock()))
    gateway = wire(settings, db=db, limiter=limiter)
    ready.release()
    go.wait()
    stop = time.time() + stop_after
    errors: dict[str, int] = {}

    def loop() -> None:
        while time.time() < stop:
            try:
                gateway.alpaca.clock()
            except GatewayError as exc:
                errors[exc.reason] = errors.get(exc.reason, 0) + 1
                time.sleep(min(exc.retry_after or 0.05, 0.2))

    threads = [threading.Thread(target=loop) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = getattr(limiter.inner, "stats", None)
    out.put(
        {
            "ended": time.time(),
            "waits": limiter.waits,
            "errors": errors,
            "stats": stats.as_dict() if stats else {},
            "rpcs": count.round_trips,
            "documents_written": count.documents_written,
            "written_by_path": count.written_by_path,
        }
    )


def run(
    mode: str, processes: int, sandbox_url: str, emulator: str, args: argparse.Namespace, shards: int = 1
) -> dict[str, Any]:
    httpx.post(f"{sandbox_url}/_sandbox/reset", timeout=10).raise_for_status()
    env = {
        "ALPACA_BASE_URL": sandbox_url,
        "ALPACA_DATA_URL": sandbox_url,
        "ALPACA_API_KEY": "sandbox-key",
        "ALPACA_SECRET_KEY": "sandbox-secret",
        "FIRESTORE_EMULATOR_HOST": emulator,
        "GOOGLE_CLOUD_PROJECT": f"bench-{uuid.uuid4().hex[:10]}",
        "RATE_LIMIT_PER_MINUTE": str(args.limit),
        "RATE_LIMIT_WINDOW_SECONDS": str(args.window),
        "RATE_LIMIT_READ_WAIT_SECONDS": str(READ_WAIT),
        "RATE_LIMIT_GUARD_SECONDS": str(args.guard),
        "RATE_LIMIT_MODE": "local" if mode == "naive" else "firestore",
        "RATE_LIMIT_SHARDS": str(shards),
    }
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    stop_after = args.windows * args.window - READ_WAIT - 0.15
    procs = [ctx.Process(target=worker, args=(env, ready, go, stop_after, out)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    go.set()
    started = time.time()
    reports = [out.get(timeout=stop_after + 60) for _ in procs]
    for proc in procs:
        proc.join()
    keys = httpx.get(f"{sandbox_url}/_sandbox/stats", timeout=10).json()["keys"]
    upstream = keys.get("sandbox-key", {"requests": 0, "rate_limited": 0, "max_in_window": 0})
    served = upstream["requests"] - upstream["rate_limited"]
    waits = sorted(w for report in reports for w in report["waits"])
    writes = sum(report["documents_written"] for report in reports)
    rpcs = sum(report["rpcs"] for report in reports)
    by_path: dict[str, int] = {}
    for report in reports:
        for path, n in report["written_by_path"].items():
            by_path[path] = by_path.get(path, 0) + n
    limiter_stats: dict[str, int] = {}
    for report in reports:
        for name, n in report["stats"].items():
            limiter_stats[name] = limiter_stats.get(name, 0) + n
    # The upstream admits at most LIMIT per WINDOW: over the run's span (to the last caller's end,
    # retries included) at most LIMIT * ceil(span / WINDOW) can be served.
    span = max(report["ended"] for report in reports) - started
    theoretical = args.limit * math.ceil(span / args.window - 1e-9)
    return {
        "mode": mode if shards == 1 else f"{mode}, {shards} shards",
        "processes": processes,
        "served": served,
        "span_seconds": round(span, 2),
        "theoretical_max": theoretical,
        "utilisation": round(served / theoretical, 4),
        "upstream_requests": upstream["requests"],
        "upstream_429": upstream["rate_limited"],
        "max_in_window": upstream["max_in_window"],
        "wait_p50_ms": round(1000 * statistics.median(waits), 1) if waits else None,
        "wait_p99_ms": round(1000 * waits[min(len(waits) - 1, int(0.99 * len(waits)))], 1) if waits else None,
        "firestore_writes_per_request": round(writes / max(1, upstream["requests"]), 2),
        "firestore_rpcs_per_request": round(rpcs / max(1, upstream["requests"]), 2),
        "hottest_document_writes_per_s": round(max(by_path.values(), default=0) / span, 2),
        "refused_by_limiter": sum(report["errors"].get("rate_limited", 0) for report in reports),
        "limiter_stats": limiter_stats,  # every process's LimiterStats, summed
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| processes | limiter | utilisation | upstream 429s | max in window | wait p50 | wait p99 "
        "| Firestore writes / request | RPCs / request | hottest doc writes/s |\n" + "|---" * 10 + "|"
    )
    lines = [
        f"| {r['processes']} | {r['mode']} | {100 * r['utilisation']:.1f}% "
        f"({r['served']}/{r['theoretical_max']}) "
        f"| {r['upstream_429']} | {r['max_in_window']} | {r['wait_p50_ms']} ms | {r['wait_p99_ms']} ms "
        f"| {r['firestore_writes_per_request']} | {r['firestore_rpcs_per_request']} "
        f"| {r['hottest_document_writes_per_s']} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--window", type=float, default=6.0)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--guard", type=float, default=0.15)
    parser.add_argument("--processes", default="1,4,8,16")
    parser.add_argument("--quick", action="store_true", help="1 and 4 processes, 2 windows")
    parser.add_argument("--upstream", type=int, default=None, help="the sandbox's limit (default: --limit)")
    parser.add_argument("--shards", default="1", help="the slot limiter's shard counts to run, e.g. 1,2")
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.quick:
        args.processes, args.windows = "1,4", 2
    emulator = os.environ.get("FIRESTORE_EMULATOR_HOST")
    services = []
    if not emulator:
        services.append(start_emulator())
        emulator = services[-1].url
        warm(emulator)
    sandbox = start_sandbox(rate_limit=args.upstream or args.limit, rate_window=args.window)
    services.append(sandbox)
    rows = []
    try:
        for processes in (int(p) for p in args.processes.split(",")):
            for shards in (int(n) for n in args.shards.split(",")):
                rows.append(run("firestore", processes, sandbox.url, emulator, args, shards))
                print(json.dumps(rows[-1]), flush=True)
            rows.append(run("naive", processes, sandbox.url, emulator, args))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        for service in services:
            service.stop()
    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    config = {"limit": args.limit, "window": args.window, "windows": args.windows, "guard": args.guard}
    results.write_text(json.dumps({"config": config, "threads_per_process": THREADS, "runs": rows}, indent=2))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
