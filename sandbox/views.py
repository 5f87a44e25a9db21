"""JSON views of account state: account, positions, activities, clock and calendar."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox import calendar
from sandbox.assets import Asset
from sandbox.broker import Broker
from sandbox.clock import eastern_iso, parse_time, rfc3339
from sandbox.decimals import CENT, dec_str
from sandbox.errors import invalid
from sandbox.market import minute_of
from sandbox.portfolio import Account, Activity, Position

ACTIVITY_TYPES = frozenset(
    [
        "FILL",
        "TRANS",
        "MISC",
        "ACATC",
        "ACATS",
        "CFEE",
        "CGD",
        "CSD",
        "CSW",
        "DIV",
        "DIVCGL",
        "DIVCGS",
        "DIVFEE",
        "DIVFT",
        "DIVNRA",
        "DIVROC",
        "DIVTW",
        "DIVTXEX",
        "FEE",
        "INT",
        "INTNRA",
        "INTTW",
        "JNL",
        "JNLC",
        "JNLS",
        "MA",
        "NC",
        "OPASN",
        "OPCA",
        "OPCSH",
        "OPEXC",
        "OPEXP",
        "OPTRD",
        "PTC",
        "PTR",
        "REORG",
        "SPIN",
        "SPLIT",
        "FOPT",
    ]
)


def lastday_price(broker: Broker, asset: Asset, moment: datetime) -> Decimal:
    """Yesterday's closing price: the walk's last minute before the latest close (24 h ago for crypto)."""
    if asset.is_crypto:
        return broker.market.walk_price(asset, minute_of(moment - timedelta(days=1)))
    return broker.market.walk_price(asset, minute_of(calendar.last_close(moment)) - 1)


def position_json(broker: Broker, account: Account, position: Position, moment: datetime) -> dict[str, Any]:
    asset, qty = position.asset, position.qty
    current = broker.market.price(asset, moment)
    lastday = lastday_price(broker, asset, moment)
    cost_basis = qty * position.avg_entry_price
    market_value = qty * current
    unrealized = market_value - cost_basis
    intraday = (current - lastday) * qty
    side = "buy" if qty < 0 else "sell"
    held = broker.book.held_for_sells(account.spec.key, asset.symbol, side)
    available = qty - held if qty > 0 else qty + held

    def ratio(part: Decimal, whole: Decimal) -> str:
        return dec_str(part / abs(whole)) if whole != 0 else "0"

    return {
        "asset_id": asset.id,
        "symbol": asset.position_symbol,
        "exchange": asset.exchange,
        "asset_class": asset.asset_class,
        "asset_marginable": asset.marginable,
        "qty": dec_str(qty),
        "qty_available": dec_str(available),
        "avg_entry_price": dec_str(position.avg_entry_price),
        "side": "long" if qty > 0 else "short",
        "market_value": dec_str(market_value),
        "cost_basis": dec_str(cost_basis),
        "unrealized_pl": dec_str(unrealized),
        "unrealized_plpc": ratio(unrealized, cost_basis),
        "unrealized_intraday_pl": dec_str(intraday),
        "unrealized_intraday_plpc": ratio(intraday, lastday * qty),
        "current_price": dec_str(current),
        "lastday_price": dec_str(lastday),
        "change_today": ratio(current - lastday, lastday),
    }


def positions_json(broker: Broker, account: Account, moment: datetime) -> list[dict[str, Any]]:
    ordered = sorted(account.positions.values(), key=lambda p: p.asset.symbol)
    return [position_json(broker, account, p, moment) for p in ordered]


def money(value: Decimal | int) -> str:
    return dec_str(Decimal(value).quantize(CENT))


def account_json(broker: Broker, account: Account, moment: datetime) -> dict[str, Any]:
    def price_of(asset: Asset) -> Decimal:
        return broker.market.price(asset, moment)

    long_value, short_value = account.market_values(price_of)
    equity = account.cash + long_value + short_value
    multiplier = account.multiplier(equity)
    reserved = broker.reserved(account, moment)
    buying_power = account.buying_power(price_of, reserved)
    gross = long_value - short_value
    initial = sum(
        (abs(p.qty * price_of(p.asset)) * (Decimal("0.5") if p.asset.marginable else 1))
        for p in account.positions.values()
    )
    maintenance = sum(
        (abs(p.qty * price_of(p.asset)) * (Decimal("0.3") if p.asset.marginable else 1))
        for p in account.positions.values()
    )
    last_equity = account.cash + sum(
        (p.qty * lastday_price(broker, p.asset, moment) for p in account.positions.values()), Decimal(0)
    )
    regt = max(Decimal(0), equity * min(multiplier, Decimal(2)) - gross - reserved)
    return {
        "id": account.id,
        "admin_configurations": {},
        "user_configurations": None,
        "account_number": account.number,
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "options_approved_level": 3,
        "options_trading_level": 3,
        "currency": "USD",
        "buying_power": money(buying_power),
        "regt_buying_power": money(regt),
        "daytrading_buying_power": money(buying_power if multiplier == 4 else 0),
        "effective_buying_power": money(buying_power),
        "non_marginable_buying_power": money(account.non_marginable_buying_power(reserved)),
        "options_buying_power": money(account.non_marginable_buying_power(reserved)),
        "bod_dtbp": "0",
        "cash": money(account.cash),
        "accrued_fees": "0",
        "portfolio_value": money(equity),
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "created_at": rfc3339(account.created_at),
        "trade_suspended_by_user": bool(account.configuration.get("suspend_trade")),
        "multiplier": str(multiplier),
        "shorting_enabled": account.spec.shorting_enabled and not account.configuration.get("no_shorting"),
        "equity": money(equity),
        "last_equity": money(last_equity),
        "long_market_value": money(long_value),
        "short_market_value": money(short_value),
        "position_market_value": money(gross),
        "initial_margin": money(initial),
        "maintenance_margin": money(maintenance),
        "last_maintenance_margin": money(maintenance),
        "sma": money(equity),
        "daytrade_count": 0,
        "balance_asof": calendar.previous_trading_day(calendar.eastern_date(moment)).isoformat(),
        "crypto_tier": 1,
        "intraday_adjustments": "0",
        "pending_reg_taf_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
    }


def time_param(args: Mapping[str, str], name: str) -> datetime | None:
    """An optional RFC3339 query parameter; 422 when it does not parse."""
    raw = args.get(name)
    if not raw:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid(f"invalid {name}") from None


def activities_json(account: Account, args: dict[str, str], only: str | None) -> list[dict[str, Any]]:
    """FILL activities with Alpaca's filters; other activity types are valid but always empty here."""
    wanted = {t.strip().upper() for t in (only or args.get("activity_types", "")).split(",") if t.strip()}
    if wanted - ACTIVITY_TYPES:
        raise invalid(f"invalid activity type: {sorted(wanted - ACTIVITY_TYPES)[0]}")
    if (wanted and "FILL" not in wanted) or args.get("category") == "non_trade_activity":
        return []
    after, until = time_param(args, "after"), time_param(args, "until")
    day = args.get("date")
    ascending = args.get("direction", "desc").lower() == "asc"
    size_raw = args.get("page_size")
    size = 100 if size_raw is None else int(size_raw) if size_raw.isdigit() else -1
    if not 1 <= size <= 100:
        raise invalid("page_size must be between 1 and 100")
    items: list[Activity] = account.activities if ascending else list(reversed(account.activities))
    token = args.get("page_token")
    if token:
        ids = [a.id for a in items]
        items = items[ids.index(token) + 1 :] if token in ids else []
    result = []
    for activity in items:
        if (after is not None and activity.at <= after) or (until is not None and activity.at >= until):
            continue
        if day and calendar.eastern_date(activity.at) != date.fromisoformat(day[:10]):
            continue
        result.append(activity.to_json(account.id))
        if len(result) >= size and not (day and size_raw is None):
            break
    return result


def clock_json(moment: datetime) -> dict[str, Any]:
    return {
        "timestamp": eastern_iso(moment),
        "is_open": calendar.is_open(moment),
        "next_open": eastern_iso(calendar.next_open(moment)),
        "next_close": eastern_iso(calendar.next_close(moment)),
    }


def calendar_json(start: date, end: date, settlement: bool) -> list[dict[str, Any]]:
    days = []
    day = start - timedelta(days=7) if settlement else start
    while day <= end:
        found = calendar.trading_day(day)
        if found is not None:
            settles = calendar.settlement_date(day)
            keyed = settles if settlement else day
            if start <= keyed <= end:
                days.append(
                    {
                        "date": day.isoformat(),
                        "open": found.open.astimezone(calendar.EASTERN).strftime("%H:%M"),
                        "close": found.close.astimezone(calendar.EASTERN).strftime("%H:%M"),
                        "session_open": "0400",
                        "session_close": "2000",
                        "settlement_date": settles.isoformat(),
                    }
                )
        day += timedelta(days=1)
    return days
