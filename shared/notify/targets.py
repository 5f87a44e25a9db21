"""Notification targets in `settings/notifications`: who gets which events, in which format.

A target's `secret` is written, never read back: views carry only `secret_set`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.cloud import firestore
from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from shared.audit import AuditLog, Event
from shared.errors import Unprocessable
from shared.firestore import READ_RETRY, SETTINGS, TIMEOUT_SECONDS, firestore_errors
from shared.models import Model
from shared.notify.payloads import Format
from shared.notify.signing import secret_key
from shared.notify.urls import shown

DOCUMENT = "notifications"
MAX_TARGETS = 20
MAX_EVENTS = 32
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FAMILIES = ("order", "position", "risk", "eod", "limiter")
EVENT = re.compile(r"^(\*|(" + "|".join(FAMILIES) + r")\.(\*|[a-z_]{1,48}))$")
# The events the issue names; any `<family>.<name>` or `<family>.*` is accepted for the ones to come.
SUGGESTED = (
    "order.filled",
    "order.partially_filled",
    "order.rejected",
    "order.denied",
    "order.unresolved",
    "order.not_sent",
    "limiter.backoff",
    "eod.*",
)


class TargetIn(Model):
    """A target as PUT sends it; `secret` may be left out to keep the stored one of the same name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Unique; letters, digits, `_` and `-`, at most 64")
    url: str = Field(
        max_length=2048,
        description="https:// (http and loopback only on the emulator); GET's form keeps the stored URL",
    )
    secret: str | None = Field(
        None, max_length=200, description="Standard Webhooks secret, `whsec_` plus base64 (24-64 bytes)"
    )
    events: list[str] = Field(
        min_length=1,
        max_length=MAX_EVENTS,
        description=f"Event types (`order.filled`), a family (`eod.*`) or `*`; e.g. {', '.join(SUGGESTED)}",
    )
    format: Format = "json"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise PydanticCustomError("invalid_target_name", "name: letters, digits, _ and -, at most 64")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            secret_key(value)
        except ValueError as exc:
            raise PydanticCustomError("invalid_secret", str(exc)) from None
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        for kind in value:
            if not isinstance(kind, str) or not EVENT.fullmatch(kind):
                raise PydanticCustomError(
                    "invalid_event", f"events: each is `<{'|'.join(FAMILIES)}>.<name>`, a family `.*`, or `*`"
                )
        return sorted(set(value))


class NotificationsChange(Model):
    """The whole list of targets (a PUT replaces it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: list[TargetIn] = Field(max_length=MAX_TARGETS)

    @model_validator(mode="after")
    def _unique(self) -> NotificationsChange:
        names = [t.name for t in self.targets]
        if len(names) != len(set(names)):
            raise PydanticCustomError("invalid_targets", "targets: each name once")
        return self


class Target(Model):
    """A stored target."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    url: str
    secret: str = Field(repr=False)
    events: list[str]
    format: Format = "json"
    disabled: bool = False
    disabled_reason: str | None = None

    def wants(self, kind: str) -> bool:
        family = kind.split(".", 1)[0]
        return not self.disabled and any(e in ("*", kind, f"{family}.*") for e in self.events)


class TargetView(Model):
    name: str
    url: str = Field(description="Scheme and host only, `/…` standing for any path and query")
    events: list[str]
    format: Format
    secret_set: bool
    disabled: bool
    disabled_reason: str | None = None


class NotificationsView(Model):
    targets: list[TargetView]

    @classmethod
    def of(cls, targets: list[Target]) -> NotificationsView:
        return cls(
            targets=[
                TargetView(
                    **t.model_dump(exclude={"secret", "url"}), url=shown(t.url), secret_set=bool(t.secret)
                )
                for t in targets
            ]
        )


class TargetStore:
    """`settings/notifications`: read on each event (a handful of targets), written by admins."""

    def __init__(self, audit: AuditLog, check_url: Callable[[str], None]) -> None:
        self._audit = audit
        self._db = audit.db
        self._check_url = check_url

    def _ref(self) -> Any:
        return self._db.collection(SETTINGS).document(DOCUMENT)

    def targets(self) -> list[Target]:
        with firestore_errors(reading=True):
            snap = self._ref().get(retry=READ_RETRY, timeout=TIMEOUT_SECONDS)
        raw = (snap.to_dict() or {}).get("targets") or [] if snap.exists else []
        return [Target.model_validate(item) for item in raw]

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets() if t.name == name), None)

    def replace(self, change: NotificationsChange, caller: str, request_id: str) -> list[Target]:
        """Check every URL, keep the stored URL given back as shown and stored secrets left out, clear
        `disabled`, audit the change."""
        current = {t.name: t for t in self.targets()}
        targets: list[Target] = []
        for given in change.targets:
            stored = current.get(given.name)
            url = stored.url if stored is not None and given.url == shown(stored.url) else given.url
            self._check_url(url)
            secret = given.secret or (stored.secret if stored is not None else None)
            if secret is None:
                raise Unprocessable(f"target {given.name} needs a secret", reason="missing_secret")
            targets.append(Target(**given.model_dump(exclude={"secret", "url"}), url=url, secret=secret))
        with firestore_errors():
            self._ref().set(
                {"targets": [t.model_dump() for t in targets], "updated_at": firestore.SERVER_TIMESTAMP},
                timeout=TIMEOUT_SECONDS,
            )
        names = [t.name for t in targets]
        self._audit.record(Event.NOTIFICATIONS_UPDATED, caller, request_id, targets=names)
        return targets

    def disable(self, name: str, reason: str) -> None:
        """The receiver said 410 Gone: no more deliveries to it until a PUT saves it again."""

        @firestore.transactional
        def change(transaction: Any) -> None:
            snap = self._ref().get(transaction=transaction)
            raw = list((snap.to_dict() or {}).get("targets") or [])
            for item in raw:
                if item.get("name") == name:
                    item["disabled"], item["disabled_reason"] = True, reason
            transaction.update(self._ref(), {"targets": raw})

        with firestore_errors():
            change(self._db.transaction())
