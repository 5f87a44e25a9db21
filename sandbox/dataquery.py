"""Market-data query parameters (symbols, start, end, limit, sort, page_token) and Alpaca's paging:
results sorted by symbol, then time, `limit` counting every symbol's items, `next_page_token` to go on."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.clock import parse_time, rfc3339
from sandbox.errors import ApiError

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
EPSILON = timedelta(microseconds=1)

# One symbol's items between two instants, oldest first or newest first: (timestamp, JSON) pairs.
Series = Callable[[datetime, datetime, bool], Iterator[tuple[datetime, Any]]]


def bad_request(message: str) -> ApiError:
    return ApiError(400, 40010000, message)


def invalid(message: str) -> ApiError:
    return ApiError(422, 42210000, message)


@dataclass(frozen=True)
class Query:
    start: datetime
    end: datetime
    limit: int
    descending: bool
    resume: tuple[str, datetime] | None  # the symbol and time of the last item already sent


def symbol_names(args: Mapping[str, str]) -> list[str]:
    names = [s.strip() for s in args.get("symbols", "").split(",") if s.strip()]
    if not names:
        raise bad_request("missing symbols")
    return names


def _time_arg(args: Mapping[str, str], name: str, zone: ZoneInfo) -> datetime | None:
    """RFC-3339, or a bare date meaning midnight in the market's zone (so dates cover whole daily bars)."""
    raw = args.get(name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), zone)
        return parse_time(raw)
    except ValueError:
        raise invalid(f"invalid {name}") from None


def parse_query(args: Mapping[str, str], now: datetime, zone: ZoneInfo) -> Query:
    """Defaults as Alpaca's: from the start of the current day to now; 1000 items; ascending."""
    start, end = _time_arg(args, "start", zone), _time_arg(args, "end", zone)
    if start is not None and end is not None and end < start:
        raise invalid("end should not be before start")
    if start is None:
        start = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), zone)
    end = min(end or now, now)  # the tape has nothing after now
    raw_limit = args.get("limit") or str(DEFAULT_LIMIT)
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise invalid(f"invalid limit, limit must be between 1 and {MAX_LIMIT}")
    sort = (args.get("sort") or "asc").lower()
    if sort not in ("asc", "desc"):
        raise invalid("invalid sort")
    token = args.get("page_token")
    return Query(start, end, int(raw_limit), sort == "desc", _decode(token) if token else None)


def paginate(series: Mapping[str, Series], query: Query) -> tuple[dict[str, list[Any]], str | None]:
    """At most `limit` items of the symbols in order, and the token of the next page (None at the end)."""
    found: dict[str, list[Any]] = {}
    taken, last = 0, None
    for symbol in sorted(series):
        if query.resume is not None and symbol < query.resume[0]:
            continue
        start, end = query.start, query.end
        if query.resume is not None and symbol == query.resume[0]:
            if query.descending:
                end = min(end, query.resume[1] - EPSILON)
            else:
                start = max(start, query.resume[1] + EPSILON)
        if start > end:
            continue
        for at, item in series[symbol](start, end, query.descending):
            if taken == query.limit:
                assert last is not None
                return found, _encode(*last)
            found.setdefault(symbol, []).append(item)
            taken, last = taken + 1, (symbol, at)
    return found, None


def _encode(symbol: str, at: datetime) -> str:
    return base64.b64encode(f"{symbol}|{rfc3339(at)}".encode()).decode()


def _decode(token: str) -> tuple[str, datetime]:
    try:
        symbol, _, stamp = base64.b64decode(token, validate=True).decode().rpartition("|")
        if not symbol:
            raise ValueError(token)
        return symbol, parse_time(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("invalid page token") from None
