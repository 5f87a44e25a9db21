"""Gateway overhead over the floor (a trivial function behind the same functions-framework server), at an
unlimited budget back to back and at the real budget (190 per 60 s) with sparse traffic, side by side.

Run: `.venv/bin/python -m bench.gateway [--quick]`. Processes: the floor and the relay
(bench/floor.py), get_account and place_order at a budget of 10^6, and get_account, place_order and
place_order with max_order_notional and max_position_notional set at the real budget, each on its own
Firestore project (so its own limiter document); the sandbox never rate-limits. Back to back: one
client, requests one after another, then 16 clients for the order path. Sparse: one round every 0.5 s,
each target once per round (far under 190 per minute per target). Writes bench/results/gateway.json
and prints markdown tables.
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
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.setup import DEV_TOKEN, SANDBOX_HEADERS, emulator, gateway_env, market_sandbox
from infra.stack import ROOT, Service, answers, free_port, spawn, start_function

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
AUTH = {"Authorization": f"Bearer {DEV_TOKEN}"}
UNLIMITED = "1000000"
REAL = "190"

Send = Callable[[httpx.Client], httpx.Response]


def start_floor(threads: int, target: str = "floor", env: dict[str, str] | None = None) -> Service:
    """bench/floor.py's `floor` (a trivial function) or `relay` (the one upstream call, nothing else)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    framework = str(Path(sys.executable).with_name("functions-framework"))
    args = [framework, f"--target={target}", f"--source={ROOT / 'bench' / 'floor.py'}", "--host=127.0.0.1"]
    return spawn(
        f"{target}-{port}",
        [*args, f"--port={port}"],
        url,
        answers(url, lambda r: r.status_code == 200),
        env={**(env or {}), "THREADS": str(threads)},
    )


def group_cpu_seconds(pgids: set[int]) -> float:
    """User and system CPU of every live process in these process groups (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids:  # pgrp; then utime and stime at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def emulator_pgids() -> set[int]:
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"cloud-firestore-emulator" in cmdline.read_bytes():
                found.add(os.getpgid(int(cmdline.parent.name)))
        except (OSError, ValueError):
            continue
    return found


def cpu_per_request(
    groups: dict[str, set[int]], run: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, float]]:
    """`run`'s result, and the CPU milliseconds per request each group of processes spent meanwhile (the
    benchmark's own clients included)."""
    before = {name: group_cpu_seconds(pgids) for name, pgids in groups.items()}
    mine = time.process_time()
    result = run()
    spent = {name: group_cpu_seconds(pgids) - before[name] for name, pgids in groups.items()}
    spent["benchmark clients"] = time.process_time() - mine
    per = {name: round(seconds * 1000 / result["requests"], 2) for name, seconds in spent.items()}
    return result, per


def pct(samples: list[float], q: int) -> float:
    return round(statistics.quantiles(samples, n=100, method="inclusive")[q - 1], 2)


def summary(samples: list[float], errors: Counter[str]) -> dict[str, Any]:
    return {
        "requests": len(samples),
        "errors": sum(errors.values()),
        "error_reasons": dict(errors),
        "p50_ms": pct(samples, 50),
        "p95_ms": pct(samples, 95),
        "p99_ms": pct(samples, 99),
    }


def timed(client: httpx.Client, send: Send) -> tuple[float, str | None]:
    """The request's milliseconds, and for an answer other than 200 its status and error reason."""
    began = time.perf_counter()
    response = send(client)
    ms = (time.perf_counter() - began) * 1000
    if response.status_code == 200:
        return ms, None
    try:
        reason = str(response.json().get("error"))
    except ValueError:
        reason = "not json"
    return ms, f"{response.status_code} {reason}"


def back_to_back(make: Callable[[], httpx.Client], send: Send, clients: int, total: int) -> dict[str, Any]:
    """`total` requests over `clients` threads, each with its own keep-alive connection."""
    per = max(1, total // clients)
    samples: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    line = threading.Barrier(clients)

    def worker() -> None:
        with make() as client:
            for _ in range(5):  # warm this connection and the path
                send(client)
            line.wait()
            mine, failed = [], []
            for _ in range(per):
                ms, error = timed(client, send)
                mine.append(ms)
                failed += [error] if error else []
            with lock:
                samples.extend(mine)
                errors.update(failed)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary(samples, errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (a development run)")
    parser.add_argument("--threads", type=int, default=16, help="gunicorn threads per function process")
    args = parser.parse_args(argv)
    requests = 150 if args.quick else 600
    rounds = 24 if args.quick else 80
    began = time.time()
    with ExitStack() as stack:
        sandbox = market_sandbox(stack, aapl_price="1.00")  # cheap fills: buying power lasts the run
        host = emulator(stack)

        def function(target: str, budget: str, risk: bool = False) -> Service:
            project = f"bench-{uuid.uuid4().hex[:10]}"
            env = {**gateway_env(sandbox.url, host), "GOOGLE_CLOUD_PROJECT": project}
            env |= {"RATE_LIMIT_PER_MINUTE": budget, "THREADS": str(args.threads)}
            service = start_function(target, env)
            stack.callback(service.stop)
            if risk:
                limits = {"max_order_notional": "100000", "max_position_notional": "10000000"}
                risk_service = start_function("put_risk", env)
                try:
                    done = httpx.put(risk_service.url, json=limits, headers=AUTH, timeout=30)
                    done.raise_for_status()
                finally:
                    risk_service.stop()
            return service

        floor = start_floor(args.threads)
        stack.callback(floor.stop)
        relay = start_floor(args.threads, "relay", gateway_env(sandbox.url, host))
        stack.callback(relay.stop)
        targets = {
            "account@unlimited": function("get_account", UNLIMITED),
            "order@unlimited": function("place_order", UNLIMITED),
            "account@190": function("get_account", REAL),
            "order@190": function("place_order", REAL),
            "order+risk@190": function("place_order", REAL, risk=True),
        }

        def direct() -> httpx.Client:
            return httpx.Client(base_url=sandbox.url, headers=SANDBOX_HEADERS, timeout=30.0)

        def to(service: Service) -> Callable[[], httpx.Client]:
            return lambda: httpx.Client(base_url=service.url, headers=AUTH, timeout=30.0)

        get_direct: Send = lambda c: c.get("/v2/account")  # noqa: E731
        post_direct: Send = lambda c: c.post("/v2/orders", json=ORDER)  # noqa: E731
        get: Send = lambda c: c.get("/")  # noqa: E731
        post: Send = lambda c: c.post("/", json=ORDER)  # noqa: E731
        plans: dict[str, tuple[Callable[[], httpx.Client], Send]] = {
            "direct GET /v2/account": (direct, get_direct),
            "floor": (to(floor), get),
            "relay GET": (to(relay), get),
            "account@unlimited": (to(targets["account@unlimited"]), get),
            "direct POST /v2/orders": (direct, post_direct),
            "relay POST": (to(relay), post),
            "order@unlimited": (to(targets["order@unlimited"]), post),
        }
        one = {name: back_to_back(make, send, 1, requests) for name, (make, send) in plans.items()}
        groups = {
            "gateway (place_order)": {targets["order@unlimited"].process.pid},
            "relay": {relay.process.pid},
            "sandbox": {sandbox.process.pid},
            "emulator": emulator_pgids(),
        }
        sixteen, cpu = {}, {}
        for name in ("direct POST /v2/orders", "relay POST", "order@unlimited"):
            make, send = plans[name]
            sixteen[name], cpu[name] = cpu_per_request(
                groups, lambda make=make, send=send: back_to_back(make, send, 16, requests * 2)
            )
        sparse_plans = {
            **plans,
            "account@190": (to(targets["account@190"]), get),
            "order@190": (to(targets["order@190"]), post),
            "order+risk@190": (to(targets["order+risk@190"]), post),
        }
        sparse = sparse_rounds(sparse_plans, rounds)

    result = {
        "benchmark": "gateway",
        "quick": args.quick,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(began)),
        "seconds": round(time.time() - began, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "gunicorn_threads": args.threads,
        "back_to_back_1_client": one,
        "back_to_back_16_clients": sixteen,
        "cpu_ms_per_request_16_clients": cpu,
        "sparse_every_0_5_s": sparse,
        "over_floor_p50_ms": over_floor(one, sparse),
        "order_16_clients_ratio_p50": round(
            sixteen["order@unlimited"]["p50_ms"] / sixteen["direct POST /v2/orders"]["p50_ms"], 2
        ),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gateway.json").write_text(json.dumps(result, indent=2) + "\n")
    print(tables(result))
    return 0


def sparse_rounds(plans: dict[str, tuple[Callable[[], httpx.Client], Send]], rounds: int) -> dict[str, Any]:
    """One request to every target each 0.5 s, on warm connections; the order interleaves the targets."""
    clients = {name: make() for name, (make, _) in plans.items()}
    samples: dict[str, list[float]] = {name: [] for name in plans}
    errors: dict[str, Counter[str]] = {name: Counter() for name in plans}
    try:
        for name, (_, send) in plans.items():
            send(clients[name])  # open each connection
        time.sleep(1.0)
        for n in range(rounds):
            tick = time.perf_counter()
            names = list(plans)
            names = names[n % len(names) :] + names[: n % len(names)]
            for name in names:
                ms, error = timed(clients[name], plans[name][1])
                samples[name].append(ms)
                errors[name].update([error] if error else [])
            time.sleep(max(0.0, 0.5 - (time.perf_counter() - tick)))
    finally:
        for client in clients.values():
            client.close()
    return {name: summary(samples[name], errors[name]) for name in plans}


def over_floor(one: dict[str, Any], sparse: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each gateway row's p50 over two floors measured in the same series: the trivial function plus the
    direct call (the goal: read <= +0.5 ms, order <= +4 ms), and the relay (the same call from inside a
    function: what is left is the engine's own cost)."""
    rows = {
        "read@unlimited back to back": (one, "account@unlimited", "GET"),
        "order@unlimited back to back": (one, "order@unlimited", "POST"),
        "read@unlimited sparse": (sparse, "account@unlimited", "GET"),
        "read@190 sparse": (sparse, "account@190", "GET"),
        "order@unlimited sparse": (sparse, "order@unlimited", "POST"),
        "order@190 sparse": (sparse, "order@190", "POST"),
        "order+risk@190 sparse": (sparse, "order+risk@190", "POST"),
    }
    found: dict[str, dict[str, float]] = {}
    for name, (series, target, method) in rows.items():
        p50 = series[target]["p50_ms"]
        direct = series["direct GET /v2/account" if method == "GET" else "direct POST /v2/orders"]["p50_ms"]
        found[name] = {
            "over_floor_and_direct": round(p50 - series["floor"]["p50_ms"] - direct, 2),
            "over_relay": round(p50 - series[f"relay {method}"]["p50_ms"], 2),
        }
    return found


def tables(result: dict[str, Any]) -> str:
    lines = ["| series | target | p50 ms | p95 ms | p99 ms | errors |", "|---|---|---:|---:|---:|---:|"]
    for series in ("back_to_back_1_client", "back_to_back_16_clients", "sparse_every_0_5_s"):
        for name, row in result[series].items():
            cells = [row["p50_ms"], row["p95_ms"], row["p99_ms"], row["errors"]]
            lines.append(f"| {series} | {name} | " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "| p50 | over floor + direct, ms | over the relay, ms |", "|---|---:|---:|"]
    lines += [
        f"| {name} | {v['over_floor_and_direct']} | {v['over_relay']} |"
        for name, v in result["over_floor_p50_ms"].items()
    ]
    lines.append(f"\norder path at 16 clients, gateway / direct p50: {result['order_16_clients_ratio_p50']}x")
    cpu = result["cpu_ms_per_request_16_clients"]
    names = list(next(iter(cpu.values())))
    lines += ["", "| 16 clients, CPU ms per request | " + " | ".join(names) + " |"]
    lines += ["|---|" + "---:|" * len(names)]
    lines += [f"| {row} | " + " | ".join(str(v[n]) for n in names) + " |" for row, v in cpu.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
