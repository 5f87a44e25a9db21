"""What the benchmarks run against: a Firestore emulator and a sandbox frozen in market hours."""

from __future__ import annotations

import os
import uuid
from contextlib import ExitStack

import httpx

from infra.stack import Service, start_emulator, start_sandbox
from tests.support import env
from tests.support.env import DEV_TOKEN as DEV_TOKEN  # re-exported: the benchmarks authenticate with it
from tests.support.env import TRADING_NOW

SANDBOX_HEADERS = {"APCA-API-KEY-ID": env.SANDBOX_KEY, "APCA-API-SECRET-KEY": env.SANDBOX_SECRET}


def emulator(stack: ExitStack) -> str:
    """The emulator in FIRESTORE_EMULATOR_HOST, else one started for the run and stopped with `stack`."""
    existing = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if existing:
        return existing
    service = start_emulator()
    stack.callback(service.stop)
    return service.url


def market_sandbox(stack: ExitStack, aapl_price: str) -> Service:
    """A sandbox that never rate-limits, frozen in regular hours with AAPL pinned at `aapl_price`."""
    sandbox = start_sandbox(rate_limit=100000)
    stack.callback(sandbox.stop)
    with httpx.Client(base_url=sandbox.url, timeout=10.0) as admin:
        admin.put("/_sandbox/clock", json={"now": TRADING_NOW, "frozen": True}).raise_for_status()
        admin.put("/_sandbox/prices/AAPL", json={"price": aapl_price}).raise_for_status()
    return sandbox


def gateway_env(sandbox_url: str, emulator_host: str) -> dict[str, str]:
    """A function's environment: the sandbox's keys, the emulator on a fresh project, the dev token."""
    return env.gateway_env(sandbox_url, emulator_host, f"bench-{uuid.uuid4().hex[:10]}")
