"""The analytics report: orders, fills, fill rate, rejections, denials, slippage and latency, in total
and by symbol, caller and order type. Read from Firestore only, over a bounded window."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from google.cloud import firestore

from shared.analytics.latency import PHASES, Phase, phase_ms
from shared.analytics.slippage import Sample, SlippageStats, slippage_bps
from shared.clock import Clock
from shared.errors import BadRequest
from shared.firestore import ORDERS, READ_RETRY, TIMEOUT_SECONDS, firestore_errors
from shared.models import Amount, Model, Time
from shared.orders.fills import FillStore

DEFAULT_WINDOW = timedelta(days=1)
MAX_WINDOW = timedelta(days=31)
MAX_RECORDS = 5000  # per report; `truncated` says when the window held more
RATE_PLACES = Decimal("0.0001")


class Group(Model):
    orders: int = 0
    submitted: int = 0
    filled: int = 0  # orders with any fill
    fills: int = 0  # executions (an order filled in parts counts each part)
    fill_rate: Amount | None = None  # orders with a fill / orders Alpaca took
    rejections: int = 0
    denials: int = 0
    slippage_bps: SlippageStats
    latency_ms: dict[str, Phase]


class AnalyticsReport(Model):
    since: Time
    until: Time
    paper: bool  # paper fills say little about real slippage
    truncated: bool
    total: Group
    by_symbol: dict[str, Group]
    by_caller: dict[str, Group]
    by_order_type: dict[str, Group]


@dataclass
class Tally:
    orders: int = 0
    submitted: int = 0
    filled: int = 0
    fills: int = 0
    rejections: int = 0
    denials: int = 0
    samples: list[Sample] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, record: Mapping[str, Any]) -> None:
        self.orders += 1
        state = record.get("state")
        self.denials += state == "denied"
        self.rejections += state == "rejected" or record.get("alpaca_status") == "rejected"
        self.submitted += state == "submitted"
        filled = Decimal(str(record.get("filled_qty") or 0))
        if filled > 0:
            self.filled += 1
            sample = _sample(record, filled)
            if sample is not None:
                self.samples.append(sample)
        for name, value in phase_ms(record).items():
            self.phases[name].append(value)

    def group(self) -> Group:
        rate = (Decimal(self.filled) / self.submitted).quantize(RATE_PLACES) if self.submitted else None
        return Group(
            orders=self.orders,
            submitted=self.submitted,
            filled=self.filled,
            fills=self.fills,
            fill_rate=rate,
            rejections=self.rejections,
            denials=self.denials,
            slippage_bps=SlippageStats.of(self.samples),
            latency_ms={name: Phase.of(self.phases.get(name, [])) for name in PHASES},
        )


def _sample(record: Mapping[str, Any], filled: Decimal) -> Sample | None:
    arrival, average = record.get("arrival_price"), record.get("filled_avg_price")
    side = (record.get("request") or {}).get("side")
    if not arrival or not average or side not in ("buy", "sell"):
        return None
    price = Decimal(str(average))
    return Sample(slippage_bps(str(side), Decimal(str(arrival)), price), filled * price)


def order_type(record: Mapping[str, Any]) -> str:
    request = record.get("request") or {}
    kind = str(request.get("type") or "market")
    order_class = request.get("order_class")
    return f"{kind}/{order_class}" if order_class and order_class != "simple" else kind


class Analytics:
    def __init__(self, db: Any, fills: FillStore, clock: Clock, paper: bool) -> None:
        self._db = db
        self._fills = fills
        self._clock = clock
        self._paper = paper

    def window(self, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
        """[since, until): a day back to now by default, at most MAX_WINDOW long."""
        until = until or datetime.fromtimestamp(self._clock.now(), UTC)
        since = since or until - DEFAULT_WINDOW
        if since >= until:
            raise BadRequest("since must be before until", reason="invalid_window")
        if until - since > MAX_WINDOW:
            raise BadRequest(f"the window is at most {MAX_WINDOW.days} days", reason="invalid_window")
        return since, until

    def report(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        symbol: str | None = None,
        caller: str | None = None,
    ) -> AnalyticsReport:
        since, until = self.window(since, until)
        records, truncated = self._records(since, until)
        wanted = [
            r
            for r in records
            if (symbol is None or r.get("symbol") == symbol) and (caller is None or r.get("caller") == caller)
        ]
        fills = [
            f
            for f in self._fills.between(since, until, MAX_RECORDS)
            if (symbol is None or f.get("symbol") == symbol) and (caller is None or f.get("caller") == caller)
        ]
        total = Tally()
        groups: dict[str, dict[str, Tally]] = {"symbol": {}, "caller": {}, "type": {}}
        by_record = {r.get("order"): r for r in wanted}
        for record in wanted:
            for tally in self._tallies(total, groups, record):
                tally.add(record)
        for fill in fills:
            owner = by_record.get(fill.get("record")) or {
                "symbol": fill.get("symbol"),
                "caller": fill.get("caller") or "outside_the_gateway",
                "request": {"type": "unknown"},
            }
            for tally in self._tallies(total, groups, owner):
                tally.fills += 1
        return AnalyticsReport(
            since=since,
            until=until,
            paper=self._paper,
            truncated=truncated,
            total=total.group(),
            by_symbol=_groups(groups["symbol"]),
            by_caller=_groups(groups["caller"]),
            by_order_type=_groups(groups["type"]),
        )

    @staticmethod
    def _tallies(
        total: Tally, groups: dict[str, dict[str, Tally]], record: Mapping[str, Any]
    ) -> Iterable[Tally]:
        yield total
        yield groups["symbol"].setdefault(str(record.get("symbol")), Tally())
        yield groups["caller"].setdefault(str(record.get("caller")), Tally())
        yield groups["type"].setdefault(order_type(record), Tally())

    def _records(self, since: datetime, until: datetime) -> tuple[list[dict[str, Any]], bool]:
        query = (
            self._db.collection(ORDERS)
            .where(filter=firestore.FieldFilter("requested_at", ">=", since))
            .where(filter=firestore.FieldFilter("requested_at", "<", until))
            .order_by("requested_at")
            .limit(MAX_RECORDS + 1)
        )
        with firestore_errors(reading=True):
            found = [s.to_dict() for s in query.stream(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)]
        return found[:MAX_RECORDS], len(found) > MAX_RECORDS


def _groups(tallies: Mapping[str, Tally]) -> dict[str, Group]:
    return {name: tally.group() for name, tally in sorted(tallies.items())}
