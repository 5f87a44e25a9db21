"""Notifications as the gateway offers them: targets, delivery of audit events, dead letters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from shared.audit import AuditLog
from shared.clock import Clock
from shared.notify.deadletters import DeadLetters, DeadLetterStore, Replay
from shared.notify.dispatch import Attempts, Dispatcher
from shared.notify.targets import NotificationsChange, NotificationsView, TargetStore
from shared.notify.urls import Resolver, check_url, resolve


@dataclass(frozen=True)
class Notifications:
    targets: TargetStore
    dispatcher: Dispatcher
    dead_letters: DeadLetterStore

    @classmethod
    def build(
        cls,
        audit: AuditLog,
        http: httpx.Client,
        clock: Clock,
        *,
        local: bool,
        timeout: float,
        resolver: Resolver = resolve,
    ) -> Notifications:
        checker = partial(check_url, local=local, resolver=resolver)
        targets = TargetStore(audit, checker)
        attempts = Attempts(audit.db, targets, http, clock, checker, timeout)
        return cls(targets, Dispatcher(attempts), DeadLetterStore(attempts))

    def view(self) -> NotificationsView:
        return NotificationsView.of(self.targets.targets())

    def replace(self, change: NotificationsChange, caller: str, request_id: str) -> NotificationsView:
        return NotificationsView.of(self.targets.replace(change, caller, request_id))

    def on_event(self, event_id: str, event: Mapping[str, Any]) -> int:
        return self.dispatcher.on_event(event_id, event)

    def retry_due(self) -> int:
        return self.dispatcher.retry_due()

    def failed(self, limit: int) -> DeadLetters:
        return self.dead_letters.list(limit)

    def replay(self, doc_id: str) -> Replay:
        return self.dead_letters.replay(doc_id)
