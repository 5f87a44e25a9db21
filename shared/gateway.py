"""The gateway: the use cases a handler may call, each built on its first use over the parts every entry
point shares, so an instance imports and builds only what its own entry point calls."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import httpx

from shared.alpaca.client import AlpacaClient
from shared.alpaca.credentials import AlpacaCredentials
from shared.audit import AuditLog
from shared.auth.callers import CallerRegistry
from shared.clock import Clock
from shared.config import Settings
from shared.secrets import CachedSecrets

if TYPE_CHECKING:
    from shared.account import AccountReads
    from shared.analytics.report import Analytics
    from shared.auth.authenticator import Authenticator
    from shared.auth.scheduler import SchedulerAuth
    from shared.eod.flatten import Flattener
    from shared.eod.procedure import Procedure
    from shared.eod.runs import Runs
    from shared.eod.snapshot import Snapshots
    from shared.notify.center import Notifications
    from shared.orders.desk import OrderDesk
    from shared.orders.exits import Exits
    from shared.orders.fills import FillStore
    from shared.orders.outcomes import Outcomes
    from shared.orders.reconciler import Reconciler
    from shared.orders.store import OrderRecords
    from shared.orders.sync import OrderSync
    from shared.risk.checks import RiskChecks
    from shared.risk.store import RiskStore

T = TypeVar("T")


@dataclass(frozen=True)
class Shared:
    """What every use case is built over: one of each per instance."""

    settings: Settings
    clock: Clock
    db: Any
    http: httpx.Client
    secrets: CachedSecrets
    credentials: AlpacaCredentials
    audit: AuditLog
    alpaca: AlpacaClient
    registry: CallerRegistry


class _Part(Generic[T]):
    """A gateway attribute built on its first use, once however many threads ask; from then on a plain
    attribute of the instance (the descriptor is not asked again)."""

    def __init__(self, build: Callable[[Gateway], T]) -> None:
        self._build = build
        self._name = build.__name__

    @overload
    def __get__(self, gateway: None, owner: type[Gateway]) -> _Part[T]: ...

    @overload
    def __get__(self, gateway: Gateway, owner: type[Gateway]) -> T: ...

    def __get__(self, gateway: Gateway | None, owner: type[Gateway]) -> _Part[T] | T:
        if gateway is None:
            return self
        with gateway._building:  # re-entrant: a part's build asks for the parts it is built over
            if self._name not in gateway.__dict__:
                gateway.__dict__[self._name] = self._build(gateway)
        found: T = gateway.__dict__[self._name]
        return found


class Gateway:
    """The use cases a handler may call; the Firestore client, HTTP client and keys stay behind them."""

    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._building = threading.RLock()
        self._closed = False
        self.settings = shared.settings
        self.clock = shared.clock
        self.audit = shared.audit

    def close(self) -> None:
        """Stop what runs in the background (the risk settings listener); a risk store built after this
        never starts one."""
        with self._building:
            self._closed = True
            risk: RiskStore | None = self.__dict__.get("risk")
        if risk is not None:
            risk.close()

    @_Part
    def callers(self) -> Authenticator:
        from shared.auth.authenticator import Authenticator
        from shared.auth.signatures import ReplayGuard, SignatureCheck

        registry, settings = self._shared.registry, self.settings
        return Authenticator(
            registry,
            SignatureCheck(registry, ReplayGuard(self._shared.db), self.clock),
            authorization_is_platform=settings.behind_api_gateway,
            local_developer=settings.local_developer,
        )

    @_Part
    def scheduler(self) -> SchedulerAuth:
        from shared.auth.oidc import CertCache, OidcVerifier
        from shared.auth.scheduler import SchedulerAuth

        settings = self.settings
        certs = CertCache(self._shared.http, self.clock, settings.oidc_certs_url)
        verifier = OidcVerifier(settings.oidc_audience, frozenset(settings.scheduler_service_accounts), certs)
        return SchedulerAuth(settings.dev_token, verifier.verify)

    @_Part
    def account(self) -> AccountReads:
        from shared.account import AccountReads

        return AccountReads(self.settings, self._shared.alpaca, self._shared.credentials)

    @_Part
    def risk(self) -> RiskStore:
        from shared.risk.store import RiskStore

        return RiskStore(self.audit, self.clock, listen=not self._closed)

    @_Part
    def _checks(self) -> RiskChecks:
        from shared.risk.checks import AlpacaMarket, RiskChecks

        return RiskChecks(AlpacaMarket(self._shared.alpaca))

    @_Part
    def _records(self) -> OrderRecords:
        from shared.orders.store import OrderRecords

        return OrderRecords(self.audit)

    @_Part
    def _outcomes(self) -> Outcomes:
        from shared.orders.outcomes import Outcomes

        return Outcomes(self.audit, self._records)

    @_Part
    def _reconciler(self) -> Reconciler:
        from shared.orders.reconciler import Reconciler

        return Reconciler(self._shared.alpaca, self._outcomes)

    @_Part
    def desk(self) -> OrderDesk:
        from shared.alpaca.assets import Assets
        from shared.orders.desk import OrderDesk

        alpaca, clock = self._shared.alpaca, self.clock
        return OrderDesk(
            alpaca,
            self.audit,
            self._records,
            self._outcomes,
            self._reconciler,
            Assets(alpaca, clock),
            self.risk,
            self._checks,
            clock,
        )

    @_Part
    def exits(self) -> Exits:
        from shared.orders.closes import OpenCloses
        from shared.orders.exits import Exits

        alpaca, clock = self._shared.alpaca, self.clock
        closes = OpenCloses(self.audit, alpaca, clock)
        return Exits(alpaca, self.audit, self.risk, self._checks, closes, clock)

    @_Part
    def fills(self) -> FillStore:
        from shared.orders.fills import FillStore

        return FillStore(self._shared.db)

    @_Part
    def sync(self) -> OrderSync:
        from shared.orders.arrival import ArrivalPrices
        from shared.orders.sync import OrderSync

        alpaca = self._shared.alpaca
        return OrderSync(
            alpaca, self.audit, self._records, self._reconciler, self.fills, ArrivalPrices(alpaca), self.clock
        )

    @_Part
    def notify(self) -> Notifications:
        from shared.notify.center import Notifications

        settings = self.settings
        return Notifications.build(
            self.audit,
            self._shared.http,
            self.clock,
            local=settings.notify_local,
            timeout=settings.notify_timeout_seconds,
        )

    @_Part
    def analytics(self) -> Analytics:
        from shared.analytics.report import Analytics

        return Analytics(self._shared.db, self.fills, self.clock, paper=self.settings.trading_mode == "paper")

    @_Part
    def _runs(self) -> Runs:
        from shared.eod.runs import Runs

        return Runs(self._shared.db, self.clock)

    @_Part
    def _procedure(self) -> Procedure:
        from shared.eod.procedure import Procedure

        alpaca = self._shared.alpaca
        return Procedure(alpaca, self.exits, self.risk, self._runs, self.audit, self.clock, self.settings)

    @_Part
    def flatten(self) -> Flattener:
        from shared.eod.flatten import Flattener

        return Flattener(self._shared.alpaca, self.risk, self._runs, self.settings, self._procedure)

    @_Part
    def snapshots(self) -> Snapshots:
        from shared.eod.snapshot import Snapshots

        return Snapshots(self._shared.alpaca, self._shared.db, self.clock)
