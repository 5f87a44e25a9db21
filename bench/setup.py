"""What the benchmarks run against: a Firestore emulator and a sandbox frozen in market hours."""

from __future__ import annotations

import os
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime

import httpx

from infra.stack import Service, start_emulator, start_sandbox
from shared import firestore_raw as raw
from tests.support import env
from tests.support.env import DEV_TOKEN as DEV_TOKEN  # re-exported: the benchmarks authenticate with it
from tests.support.env import TRADING_NOW
from tests.support.firestore import emulator_client

WARM_COMMITS = 2000
SANDBOX_HEADERS = {"APCA-API-KEY-ID": env.SANDBOX_KEY, "APCA-API-SECRET-KEY": env.SANDBOX_SECRET}


def emulator(stack: ExitStack) -> str:
    """The emulator in FIRESTORE_EMULATOR_HOST, else one started for the run (warmed) and stopped with
    `stack`."""
    existing = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if existing:
        return existing
    service = start_emulator()
    stack.callback(service.stop)
    warm(service.url)
    return service.url


def warm(host: str, commits: int = WARM_COMMITS) -> None:
    """Commits of the shapes the gateway makes (a window's transforms, record and event creates, an
    outcome's update), on a project of their own, until the emulator's JIT has compiled its commit
    path: a fresh emulator takes about twice the CPU per commit for its first thousand or so, which
    production Firestore never shows, and would count against whichever target ran first."""
    db = emulator_client(host, "bench-warm-up")
    window = db.collection("ratelimit").document("warm")._document_path
    cells = [raw.TRANSFORM(field_path=f"w{i:03d}", increment=raw.value(0)) for i in range(140)]
    transforms = raw.WRITE(update=raw.DOCUMENT(name=window), update_mask=raw.MASK(), update_transforms=cells)
    record = {"state": "pending", "qty": "1", "symbol": "AAPL", "at": datetime.now(UTC)}
    for n in range(commits // 2):
        names = [db.collection(kind).document(f"{n}")._document_path for kind in ("orders", "audit")]
        raw.commit(db, [raw.create(names[0], record), raw.create(names[1], record), transforms], 5.0)
        raw.commit(db, [raw.update(names[0], {"state": "submitted"})], 5.0)
    db.close()


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
