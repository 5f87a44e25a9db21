"""Notifications: signed Standard Webhooks deliveries from notify_on_audit, retries on the injected
clock, dead letters and their replay, 410, formats, and secrets that never come back."""

from __future__ import annotations

import json
from typing import Any

from standardwebhooks.webhooks import Webhook

from shared.audit import Event
from shared.clock import ManualClock
from shared.gateway import Gateway
from shared.notify.dispatch import SCHEDULE
from tests.gateway.conftest import call_entry
from tests.notify.conftest import SECRET, audit_event, deliver, put_targets, target
from tests.orders.conftest import TRADER_TOKEN
from tests.support.receiver import Receiver


def test_delivery_verifies_with_the_standardwebhooks_library(
    gateway: Gateway, receiver: Receiver, db: Any, firestore_project: str
) -> None:
    """One event, one POST whose headers and body pass Webhook.verify, with the documented payload."""
    assert put_targets(target(receiver)).status == 200
    audit_event(gateway, "evt-signed")
    assert deliver(db, firestore_project, "evt-signed") == 200
    [delivery] = receiver.deliveries
    payload = Webhook(SECRET).verify(delivery.body, delivery.headers)
    assert payload["type"] == "order.filled"
    assert payload["data"]["id"] == "evt-signed"
    assert payload["data"]["symbol"] == "AAPL" and payload["timestamp"].endswith("Z")
    assert delivery.headers["webhook-id"].startswith("msg_")


def test_redelivered_cloudevent_is_sent_once(
    gateway: Gateway, receiver: Receiver, db: Any, firestore_project: str
) -> None:
    """Eventarc delivers at least once: the same audit event twice makes one delivery."""
    put_targets(target(receiver))
    audit_event(gateway, "evt-twice")
    deliver(db, firestore_project, "evt-twice")
    deliver(db, firestore_project, "evt-twice")
    assert len(receiver.deliveries) == 1


def test_only_the_events_a_target_wants_are_sent(
    gateway: Gateway, receiver: Receiver, db: Any, firestore_project: str
) -> None:
    """A target of order.filled gets no order.denied."""
    put_targets(target(receiver, events=["order.filled"]))
    audit_event(gateway, "evt-denied", Event.ORDER_DENIED, reason="symbol_denied")
    deliver(db, firestore_project, "evt-denied")
    assert receiver.deliveries == []


def test_target_down_then_recovering_gets_the_event_on_a_retry(
    gateway: Gateway, receiver: Receiver, db: Any, firestore_project: str, clock: ManualClock
) -> None:
    """503, 503, then 200: delivered on the third attempt (5 s and 5 min later), same webhook-id."""
    receiver.answers = [503, 503]
    put_targets(target(receiver))
    audit_event(gateway, "evt-retry")
    deliver(db, firestore_project, "evt-retry")
    assert gateway.notify.retry_due() == 0  # nothing is due before its time
    clock.advance(SCHEDULE[1])
    assert gateway.notify.retry_due() == 1
    clock.advance(SCHEDULE[2])
    gateway.notify.retry_due()
    assert [d.status for d in receiver.deliveries] == [503, 503, 200]
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 1
    assert all(d.signed for d in receiver.deliveries)
    [record] = [s.to_dict() for s in db.collection("notify_deliveries").stream()]
    assert (record["state"], record["attempt_count"], len(record["attempts"])) == ("delivered", 3, 3)


def test_target_that_never_recovers_is_dead_lettered_and_replayed(
    gateway: Gateway, receiver: Receiver, db: Any, firestore_project: str, clock: ManualClock
) -> None:
    """Every attempt of the schedule fails: a dead letter, listed; replayed once the target is back."""
    receiver.always = 500
    put_targets(target(receiver))
    audit_event(gateway, "evt-dead")
    deliver(db, firestore_project, "evt-dead")
    for wait in SCHEDULE[1:]:
        clock.advance(wait)
        gateway.notify.retry_due()
    assert len(receiver.deliveries) == len(SCHEDULE)
    listed = call_entry("list_failed_notifications", "GET", "/notifications/failed")
    assert listed.status == 200, listed.text
    [letter] = listed.body["failed"]
    assert (letter["reason"], letter["attempt_count"], letter["type"]) == (
        "attempts_exhausted",
        5,
        "order.filled",
    )
    receiver.always = None
    replay = call_entry("replay_failed_notification", "POST", f"/notifications/failed/{letter['id']}/replay")
    assert replay.status == 200 and replay.body["delivered"] is True, replay.text
    assert receiver.deliveries[-1].headers["webhook-id"] == receiver.deliveries[0].headers["webhook-id"]
    assert call_entry("list_failed_notifications", "GET", "/notifications/failed").body["failed"] == []


def test_gone_target_is_disabled_and_gets_nothing_more(
    gateway: Gateway, receiver: Receiver, db: Any, firestore_project: str
) -> None:
    """A 410 disables the target at once: a dead letter, and later events are not sent."""
    receiver.always = 410
    put_targets(target(receiver))
    audit_event(gateway, "evt-gone")
    deliver(db, firestore_project, "evt-gone")
    audit_event(gateway, "evt-after")
    deliver(db, firestore_project, "evt-after")
    assert len(receiver.deliveries) == 1
    [view] = call_entry("get_notifications", "GET", "/notifications").body["targets"]
    assert view["disabled"] is True
    [letter] = call_entry("list_failed_notifications", "GET", "/notifications/failed").body["failed"]
    assert letter["reason"] == "target_gone"


def test_slack_target_gets_a_signed_slack_message(
    gateway: Gateway, receiver: Receiver, db: Any, firestore_project: str
) -> None:
    """format slack: `{"text": ...}`, signed like every delivery."""
    put_targets(target(receiver, format="slack"))
    audit_event(gateway, "evt-slack")
    deliver(db, firestore_project, "evt-slack")
    [delivery] = receiver.deliveries
    assert delivery.signed
    assert json.loads(delivery.body)["text"].startswith("Execution Engine: order.filled symbol=AAPL")


def test_secret_is_never_returned(gateway: Gateway, receiver: Receiver) -> None:
    """GET and PUT answer `secret_set`, never the secret; a PUT without it keeps the stored one."""
    saved = put_targets(target(receiver))
    kept = put_targets({k: v for k, v in target(receiver).items() if k != "secret"})
    read = call_entry("get_notifications", "GET", "/notifications")
    for reply in (saved, kept, read):
        assert reply.status == 200 and SECRET not in reply.text and '"secret"' not in reply.text
    assert read.body["targets"][0]["secret_set"] is True


def test_target_url_is_shown_as_scheme_and_host_only(gateway: Gateway, receiver: Receiver) -> None:
    """A webhook's path can be its secret: GET and PUT answer `scheme://host/…`, never the path."""
    saved = put_targets(target(receiver))
    read = call_entry("get_notifications", "GET", "/notifications")
    origin = receiver.url.removesuffix("/hook")
    for reply in (saved, read):
        assert reply.status == 200 and "/hook" not in reply.text
    assert read.body["targets"][0]["url"] == f"{origin}/…"


def test_the_url_as_shown_sent_back_keeps_the_stored_one(
    gateway: Gateway, receiver: Receiver, db: Any, firestore_project: str
) -> None:
    """GET, then PUT what it showed: deliveries still go to the stored path."""
    put_targets(target(receiver))
    [view] = call_entry("get_notifications", "GET", "/notifications").body["targets"]
    assert put_targets(target(receiver, url=view["url"])).status == 200
    audit_event(gateway, "evt-shown")
    deliver(db, firestore_project, "evt-shown")
    assert [delivery.path for delivery in receiver.deliveries] == ["/hook"]


def test_notification_routes_need_the_admin_scope(gateway: Gateway) -> None:
    """A trading caller may not read or change the targets."""
    reply = call_entry("get_notifications", "GET", "/notifications", token=TRADER_TOKEN)
    assert reply.status == 403


def test_put_refuses_a_malformed_secret(gateway: Gateway, receiver: Receiver) -> None:
    reply = put_targets(target(receiver, secret="not-a-whsec"))
    assert (reply.status, reply.body["error"]) == (400, "invalid_secret")


def test_put_refuses_a_link_local_url_even_locally(gateway: Gateway, receiver: Receiver) -> None:
    """The metadata server's address is never a target."""
    reply = put_targets(target(receiver, url="http://169.254.169.254/computeMetadata/v1/"))
    assert (reply.status, reply.body["error"]) == (422, "unsafe_url")


def test_replay_of_an_unknown_dead_letter_is_404(gateway: Gateway) -> None:
    reply = call_entry("replay_failed_notification", "POST", "/notifications/failed/" + "0" * 32 + "/replay")
    assert (reply.status, reply.body["error"]) == (404, "dead_letter_not_found")
