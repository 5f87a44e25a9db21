"""The query and body models the routes declare: parsed at the edge, typed for handlers, and the
source of the OpenAPI document's parameters."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from shared.account import PAGE_MAX, TRADES_DEFAULT
from shared.audit import LIST_DEFAULT, LIST_MAX
from shared.clock import parse_time
from shared.config import ASSET_CLASSES
from shared.decimals import PERCENT_MAX, QTY_MAX, parse_decimal
from shared.models import Model
from shared.notify.deadletters import LIST_DEFAULT as DEAD_LETTERS_DEFAULT
from shared.notify.deadletters import LIST_MAX as DEAD_LETTERS_MAX
from shared.orders.fills import FEED_DEFAULT, FEED_MAX


class NoInput(Model):
    """A route's query or body when it takes none: anything given is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    # Query fields for which `?name=` (empty) means not given; any other empty value is validated.
    EMPTY_MEANS_UNSET: ClassVar[frozenset[str]] = frozenset()


class OrdersQuery(NoInput):
    EMPTY_MEANS_UNSET = frozenset({"limit"})
    status: Literal["open", "closed", "all"] = Field("open", description="Which orders; open by default")
    limit: int = Field(PAGE_MAX, ge=1, description="At most this many, newest first (capped at 500)")


class TradesQuery(NoInput):
    EMPTY_MEANS_UNSET = frozenset({"limit"})
    limit: int = Field(
        TRADES_DEFAULT, ge=1, description="At most this many fills, newest first (capped at 500)"
    )


class AuditQuery(NoInput):
    EMPTY_MEANS_UNSET = frozenset({"limit", "since"})
    since: datetime | None = Field(None, description="RFC 3339; events from this server time on")
    limit: int = Field(LIST_DEFAULT, ge=1, le=LIST_MAX)

    @field_validator("since", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> datetime | None:
        """An RFC 3339 time (not a Unix number); naive means UTC. An unencoded `+` arrives as a space."""
        if value is None:
            return None
        try:
            return parse_time(str(value).replace(" ", "+"))
        except ValueError:
            raise PydanticCustomError("invalid_since", "since must be an RFC 3339 time") from None


def _since(value: Any, name: str = "since") -> datetime | None:
    """An RFC 3339 time (not a Unix number); naive means UTC. An unencoded `+` arrives as a space."""
    if value is None:
        return None
    try:
        return parse_time(str(value).replace(" ", "+"))
    except ValueError:
        raise PydanticCustomError(f"invalid_{name}", f"{name} must be an RFC 3339 time") from None


class FillsQuery(NoInput):
    EMPTY_MEANS_UNSET = frozenset({"limit", "since", "cursor"})
    since: datetime | None = Field(None, description="RFC 3339; fills from this transaction time on")
    cursor: str | None = Field(
        None,
        description="`next_cursor` of the previous page: the fills after it (takes precedence over since)",
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\|[A-Za-z0-9:._-]{1,128}$",
    )
    limit: int = Field(FEED_DEFAULT, ge=1, le=FEED_MAX, description="At most this many, oldest first")

    @field_validator("since", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> datetime | None:
        return _since(value)


class AnalyticsQuery(NoInput):
    EMPTY_MEANS_UNSET = frozenset({"since", "until", "symbol", "caller"})
    since: datetime | None = Field(
        None, description="RFC 3339; orders requested from then (default: a day back)"
    )
    until: datetime | None = Field(None, description="RFC 3339; orders requested before then (default: now)")
    symbol: str | None = Field(None, pattern=r"^[A-Za-z0-9./]{1,32}$", description="Only this symbol")
    caller: str | None = Field(None, pattern=r"^[A-Za-z0-9_.@-]{1,64}$", description="Only this caller")

    @field_validator("since", "until", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any, info: ValidationInfo) -> datetime | None:
        return _since(value, str(info.field_name))

    @field_validator("symbol", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class FailedQuery(NoInput):
    EMPTY_MEANS_UNSET = frozenset({"limit"})
    limit: int = Field(
        DEAD_LETTERS_DEFAULT, ge=1, le=DEAD_LETTERS_MAX, description="At most this many, newest first"
    )


class CloseSize(NoInput):
    """How much of a position to close: all of it, `qty` shares, or `percentage` (0 < p <= 100)."""

    qty: Decimal | None = Field(None, description="Shares to close, a plain decimal up to 9 places")
    percentage: Decimal | None = Field(None, description="Percent of the position to close, in (0, 100]")

    @field_validator("qty", "percentage", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> Decimal | None:
        if value is None:
            return None
        name = str(info.field_name)
        try:
            amount = parse_decimal(value, QTY_MAX if name == "qty" else PERCENT_MAX)
        except PydanticCustomError as exc:
            raise PydanticCustomError(f"invalid_{name}", f"{name}: {exc.message()}") from None
        if amount <= 0:
            raise PydanticCustomError(f"invalid_{name}", f"{name} must be greater than 0")
        return amount.normalize()


class DateQuery(NoInput):
    """`?date=YYYY-MM-DD`: an exchange date; today (US Eastern) when left out."""

    EMPTY_MEANS_UNSET = frozenset({"date"})
    date: Date | None = Field(None, description="An exchange date, YYYY-MM-DD; today when left out")

    @field_validator("date", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Date | None:
        if value is None or isinstance(value, Date):
            return value
        text = str(value)
        try:
            if len(text) != 10:
                raise ValueError(text)
            return Date.fromisoformat(text)
        except ValueError:
            raise PydanticCustomError("invalid_date", "date must be a calendar date, YYYY-MM-DD") from None


AssetClass = Literal["us_equity", "us_option", "crypto"]


class FlattenRequest(Model):
    """POST /flatten: which asset classes to close; the FLATTEN_ASSET_CLASSES setting when left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asset_classes: tuple[AssetClass, ...] | None = Field(None, min_length=1, max_length=len(ASSET_CLASSES))

    @field_validator("asset_classes", mode="before")
    @classmethod
    def _classes(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list) or not value or len(value) > len(ASSET_CLASSES):
            message = f"asset_classes must be a list of 1 to {len(ASSET_CLASSES)} asset classes"
            raise PydanticCustomError("invalid_asset_classes", message)
        if not all(isinstance(v, str) and v in ASSET_CLASSES for v in value):
            known = ", ".join(sorted(ASSET_CLASSES))
            raise PydanticCustomError("invalid_asset_classes", f"asset_classes must be among {known}")
        return tuple(dict.fromkeys(value))
