"""The whole sandbox as one value: clock, market, broker, rate limiter, faults; built once, resettable."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox.assets import Universe
from sandbox.broker import Broker
from sandbox.clock import SandboxClock
from sandbox.faults import Faults
from sandbox.market import Market
from sandbox.portfolio import Account, AccountSpec
from sandbox.ratelimit import RateLimiter

DEFAULT_ACCOUNT = AccountSpec("sandbox-key", "sandbox-secret")


@dataclass(frozen=True)
class Config:
    rate_limit: int = 200
    rate_window: float = 60.0
    accounts: tuple[AccountSpec, ...] = (DEFAULT_ACCOUNT,)
    start: datetime | None = None
    frozen: bool = False
    verbose: bool = False
    tick_seconds: float = 0.5
    liquidity: tuple[tuple[str, Decimal], ...] = ()  # (symbol or `*`, qty per order and minute)


def load_accounts(path: str) -> tuple[AccountSpec, ...]:
    """Reads a JSON list of {key, secret, cash, multiplier, shorting_enabled}."""
    raw: Any = json.loads(Path(path).read_text())
    if not isinstance(raw, list) or not raw:
        raise ValueError("accounts file must hold a non-empty JSON list")
    specs = []
    for item in raw:
        specs.append(
            AccountSpec(
                key=str(item["key"]),
                secret=str(item["secret"]),
                cash=Decimal(str(item.get("cash", "100000"))),
                multiplier=str(item.get("multiplier", "4")),
                shorting_enabled=bool(item.get("shorting_enabled", True)),
            )
        )
    return tuple(specs)


@dataclass
class Sandbox:
    config: Config
    clock: SandboxClock = field(init=False)
    universe: Universe = field(init=False)
    market: Market = field(init=False)
    broker: Broker = field(init=False)
    limiter: RateLimiter = field(init=False)
    faults: Faults = field(init=False)
    secrets: dict[str, str] = field(init=False)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.clock = SandboxClock(self.config.start, self.config.frozen)
        self.universe = Universe()
        self.market = Market()
        self.limiter = RateLimiter(self.config.rate_limit, self.config.rate_window)
        self.faults = Faults()
        self.secrets = {spec.key: spec.secret for spec in self.config.accounts}
        self.broker = self._new_broker()

    def _new_broker(self) -> Broker:
        now = self.clock.now()
        broker = Broker(self.universe, self.market, now)
        broker.liquidity = dict(self.config.liquidity)
        for spec in self.config.accounts:
            broker.accounts[spec.key] = Account(spec, created_at=now)
        return broker

    def reset(self) -> None:
        with self.broker.lock:
            self.clock.reset()
            self.market.reset()
            self.faults.clear()
            self.limiter.reset()
            fresh = self._new_broker()
            # Swap contents rather than the object so threads holding the lock keep a valid reference.
            self.broker.book, self.broker.accounts = fresh.book, fresh.accounts
            self.broker.processed_at = fresh.processed_at
            self.broker.liquidity = fresh.liquidity
            self.broker.invalidate()

    def authenticate(self, key: str | None, secret: str | None) -> Account | None:
        if key is None or secret is None or self.secrets.get(key) != secret:
            return None
        return self.broker.accounts.get(key)

    def now(self) -> datetime:
        """Sandbox time with the broker caught up to it; caller holds the broker lock."""
        now = self.clock.now()
        self.broker.sync(now)
        return now

    def start_ticker(self) -> threading.Thread:
        """Keeps orders progressing while time runs and nobody calls."""

        def run() -> None:
            while not self._stop.wait(self.config.tick_seconds):
                if self.clock.frozen:
                    continue
                with self.broker.lock:
                    self.now()

        thread = threading.Thread(target=run, name="sandbox-ticker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
