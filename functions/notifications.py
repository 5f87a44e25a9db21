"""Notification targets and the dead letters of their deliveries (admin)."""

from __future__ import annotations

from functions._http import Call, endpoint
from functions.inputs import FailedQuery, NoInput
from shared.notify.deadletters import DeadLetters, Replay
from shared.notify.targets import NotificationsChange, NotificationsView


@endpoint("get_notifications")
def get_notifications(call: Call[NoInput, NoInput]) -> NotificationsView:
    """The targets; a secret is never returned, only whether one is set."""
    return call.gateway.notify.view()


@endpoint("put_notifications")
def put_notifications(call: Call[NotificationsChange, NoInput]) -> NotificationsView:
    """Replace the targets (each URL checked); a target without `secret` keeps its stored one; audited."""
    return call.gateway.notify.replace(call.body, call.caller.name, call.request_id)


@endpoint("list_failed_notifications")
def list_failed_notifications(call: Call[NoInput, FailedQuery]) -> DeadLetters:
    return call.gateway.notify.failed(call.query.limit)


@endpoint("replay_failed_notification")
def replay_failed_notification(call: Call[NoInput, NoInput]) -> Replay:
    """One more attempt of a dead letter, with its webhook-id and body; delivered removes it."""
    return call.gateway.notify.replay(call.params["dead_letter_id"])
