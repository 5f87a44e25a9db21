"""GET /v2/account/portfolio/history: the account's equity over time, rebuilt from its fills and valued
at the sandbox's prices, with Alpaca's parameters (period, timeframe, date_end, extended_hours, ...)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sandbox import calendar
from sandbox.assets import Universe
from sandbox.clock import EASTERN
from sandbox.errors import invalid
from sandbox.market import Market
from sandbox.portfolio import Account
from sandbox.rules import parse_bool
from sandbox.views import time_param

PERIOD = re.compile(r"^([1-9]\d*)([DWMA])$")
TIMEFRAMES = {"1Min": 1, "5Min": 5, "15Min": 15, "1H": 60, "1D": 0}
REPORTING = ("market_hours", "extended_hours", "continuous")
INTRADAY_DAYS = 30  # Alpaca serves intraday resolutions for at most 30 days
DAY_LABEL = time(20, 0)  # a daily point is labelled at the end of the day's extended session, as Alpaca's


@dataclass(frozen=True)
class Point:
    label: datetime  # the start of the point's window, as Alpaca labels them
    valued_at: datetime  # when its equity is measured: the end of the window, or now
    day: date


def portfolio_history(
    account: Account, market: Market, universe: Universe, args: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    given = [name for name in ("start", "end", "period") if args.get(name)]
    if len(given) == 3:
        raise invalid("only two of start, end and period can be specified")
    period = _period(args.get("period") or "1M")
    timeframe = args.get("timeframe") or _default_timeframe(period)
    if timeframe not in TIMEFRAMES:
        raise invalid("invalid timeframe")
    reporting = args.get("intraday_reporting") or (
        "extended_hours" if parse_bool(args.get("extended_hours", False)) else "market_hours"
    )
    if reporting not in REPORTING:
        raise invalid("invalid intraday_reporting")
    start, end = _range(args, period, now, reporting)
    minutes = TIMEFRAMES[timeframe]
    if minutes and (end - start) > timedelta(days=INTRADAY_DAYS + 1):
        raise invalid("intraday timeframes can only be queried for 30 days or less")
    points = list(_daily(start, end) if not minutes else _intraday(start, end, minutes, reporting))
    value = _Valuation(account, market, universe)
    equity = [value(p.valued_at) for p in points]
    return _body(account, value, points, equity, timeframe, args.get("pnl_reset") != "no_reset")


def _period(text: str) -> tuple[int, str]:
    match = PERIOD.match(text)
    if match is None:
        raise invalid("invalid period")
    return int(match.group(1)), match.group(2)


def _default_timeframe(period: tuple[int, str]) -> str:
    days = _span_days(period)
    return "1Min" if days < 7 else "15Min" if days < 30 else "1D"


def _span_days(period: tuple[int, str]) -> int:
    count, unit = period
    return count * {"D": 1, "W": 7, "M": 30, "A": 365}[unit]


def _range(
    args: Mapping[str, str], period: tuple[int, str], now: datetime, reporting: str
) -> tuple[datetime, datetime]:
    """The instants the points may fall between: explicit, or `period` back from `end`/`date_end`/now."""
    start, end = time_param(args, "start"), time_param(args, "end")
    if end is None and args.get("date_end"):
        try:
            day = date.fromisoformat(args["date_end"][:10])
        except ValueError:
            raise invalid("invalid date_end") from None
        end = datetime.combine(day, DAY_LABEL, EASTERN)
    if start is not None and end is None and args.get("period"):
        end = start + timedelta(days=_span_days(period))
    end = min(end or now, now)
    if start is None:
        start = _period_start(_market_date(end, reporting), period)
    return start, end


def _market_date(moment: datetime, reporting: str) -> date:
    """The trading day `moment` reports on: it rolls over at the open (at 04:00 ET with extended hours)."""
    day = calendar.eastern_date(moment)
    found = calendar.trading_day(day)
    opens = None if found is None else found.open if reporting == "market_hours" else found.session_open
    return day if opens is not None and moment >= opens else calendar.previous_trading_day(day)


def _period_start(last: date, period: tuple[int, str]) -> datetime:
    count, unit = period
    if unit == "D":
        first = last
        for _ in range(count - 1):
            first = calendar.previous_trading_day(first)
    elif unit == "W":
        first = last - timedelta(days=7 * count - 1)
    else:
        months = count * (12 if unit == "A" else 1)
        month = last.month - 1 - months
        first = date(last.year + month // 12, month % 12 + 1, min(last.day, 28)) + timedelta(days=1)
    return datetime.combine(first, time(0, 0), EASTERN)


def _days(start: datetime, end: datetime) -> Iterator[date]:
    day, last = calendar.eastern_date(start), calendar.eastern_date(end)
    while day <= last:
        if calendar.is_trading_day(day):
            yield day
        day += timedelta(days=1)


def _daily(start: datetime, end: datetime) -> Iterator[Point]:
    for day in _days(start, end):
        found = calendar.trading_day(day)
        if found is not None and found.open <= end:
            label = datetime.combine(day, DAY_LABEL, EASTERN)
            yield Point(label, min(label, end), day)


def _intraday(start: datetime, end: datetime, minutes: int, reporting: str) -> Iterator[Point]:
    step = timedelta(minutes=minutes)
    for day in _days(start, end) if reporting != "continuous" else _all_days(start, end):
        found = calendar.trading_day(day)
        if reporting == "continuous" or found is None:
            midnight = datetime.combine(day, time(0, 0), EASTERN)
            first, last = midnight, datetime.combine(day + timedelta(days=1), time(0, 0), EASTERN) - step
        elif reporting == "market_hours":
            first, last = found.open, found.close
        else:
            first, last = found.session_open, found.session_close
        label = first
        while label <= last and label <= end:
            if label >= start:
                yield Point(label, min(label + step, last, end), day)
            label += step


def _all_days(start: datetime, end: datetime) -> Iterator[date]:
    day = calendar.eastern_date(start)
    while day <= calendar.eastern_date(end):
        yield day
        day += timedelta(days=1)


class _Valuation:
    """The account's equity at any instant: initial cash and positions replayed from the fills up to
    then, valued at that minute's prices (pins included, as the account endpoint values them)."""

    def __init__(self, account: Account, market: Market, universe: Universe) -> None:
        self.cash, self.market = account.spec.cash, market
        self.fills = sorted(account.activities, key=lambda a: a.at)
        self.assets = {a.symbol: universe.find(a.symbol) for a in self.fills}

    def __call__(self, moment: datetime) -> Decimal:
        cash, holdings = self.cash, dict[str, Decimal]()
        for fill in self.fills:
            if fill.at > moment:
                break
            signed = fill.qty if fill.side == "buy" else -fill.qty
            cash -= signed * fill.price
            holdings[fill.symbol] = holdings.get(fill.symbol, Decimal(0)) + signed
        value = Decimal(0)
        for symbol, qty in holdings.items():
            asset = self.assets[symbol]
            if qty and asset is not None:
                value += qty * self.market.price(asset, moment)
        return cash + value


def _body(
    account: Account,
    value: _Valuation,
    points: list[Point],
    equity: list[Decimal],
    timeframe: str,
    per_day: bool,
) -> dict[str, Any]:
    """Alpaca's shape: P/L against the first point for 1D, else against the previous close (per day)."""
    body: dict[str, Any] = {"timestamp": [int(p.label.timestamp()) for p in points], "timeframe": timeframe}
    if timeframe == "1D" or not points:
        bases = [equity[0] if equity else account.spec.cash] * len(points)
        base_value, asof = (bases[0] if bases else account.spec.cash), None
    else:
        closes: dict[date, Decimal] = {}
        for point in points:
            if point.day not in closes:
                before = calendar.previous_trading_day(point.day)
                closes[point.day] = value(datetime.combine(before, DAY_LABEL, EASTERN))
        first = closes[points[0].day]
        bases = [closes[p.day] if per_day else first for p in points]
        base_value, asof = first, calendar.previous_trading_day(points[0].day).isoformat()
    body["equity"] = [round(float(e), 2) for e in equity]
    body["profit_loss"] = [round(float(e - b), 4) for e, b in zip(equity, bases, strict=True)]
    body["profit_loss_pct"] = [
        round(float((e - b) / b), 6) if b else 0.0 for e, b in zip(equity, bases, strict=True)
    ]
    body["base_value"] = round(float(base_value), 2)
    if asof is not None:
        body["base_value_asof"] = asof
    body["cashflow"] = {}
    return body
