"""The scheduled-job and Firestore-event adapters, driven as Cloud Scheduler and Eventarc drive them:
a job over HTTP with the scheduler's headers, an event as a CloudEvent carrying Firestore's protobuf."""

from __future__ import annotations

from typing import Any

import flask
import pytest
from cloudevents.http import CloudEvent
from google.cloud.firestore_v1.types import document as document_pb

from functions._events import Created, DocumentEventData, on_document
from functions._jobs import SCHEDULE_TIME, Run, scheduled
from functions.routes import Job, Trigger
from shared.errors import Unavailable, Unprocessable
from tests.gateway.conftest import DEV_TOKEN

JOB = Job("probe_job", "*/5 * * * 1-5", "a job that reports its run")
TRIGGER = Trigger("probe_event", "audit/{id}", "google.cloud.firestore.document.v1.created", "a probe")
SCHEDULED_AT = "2026-11-17T20:50:00Z"


@scheduled(JOB)
def probe_job(run: Run) -> dict[str, Any]:
    return {"run_key": run.run_key, "caller": run.caller, "job": run.job.entry_point}


def post_job(headers: dict[str, str], method: str = "POST") -> flask.Response:
    app = flask.Flask("jobs")
    with app.test_request_context("/", method=method, headers=headers):
        return probe_job(flask.request)


def test_scheduled_delivery_runs_under_the_schedule_time_as_its_run_key(gateway: Any) -> None:
    """Two deliveries of one schedule time share a run key, so the job can do its work once."""
    headers = {"Authorization": f"Bearer {DEV_TOKEN}", SCHEDULE_TIME: SCHEDULED_AT}
    first, again = post_job(headers), post_job(headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert (
        first.get_json()
        == again.get_json()
        == {
            "run_key": "20261117T205000Z",
            "caller": "dev",
            "job": "probe_job",
        }
    )


def test_manual_run_without_a_schedule_time_gets_its_own_run_key(gateway: Any) -> None:
    """No X-CloudScheduler-ScheduleTime: each run is its own."""
    headers = {"Authorization": f"Bearer {DEV_TOKEN}"}
    keys = {post_job(headers).get_json()["run_key"] for _ in range(2)}
    assert len(keys) == 2 and all(key.startswith("manual-") for key in keys)


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({}, 401, "missing_token"),
        ({"Authorization": "Bearer reader-token-7f3a"}, 401, "invalid_token"),
        ({"Authorization": f"Bearer {DEV_TOKEN}", SCHEDULE_TIME: "yesterday"}, 400, "invalid_schedule_time"),
    ],
)
def test_job_refuses_a_wrong_credential_or_schedule_time(
    gateway: Any, headers: dict[str, str], status: int, reason: str
) -> None:
    """A caller token is no scheduler credential, and a malformed schedule time is a 400."""
    response = post_job(headers)
    assert (response.status_code, response.get_json()["error"]) == (status, reason)


def test_job_answers_get_with_a_json_405(gateway: Any) -> None:
    """Cloud Scheduler POSTs; anything else is refused as JSON."""
    response = post_job({"Authorization": f"Bearer {DEV_TOKEN}"}, method="GET")
    assert (response.status_code, response.get_json()["error"]) == (405, "method_not_allowed")


def firestore_event(path: str, fields: dict[str, Any]) -> CloudEvent:
    """The CloudEvent Eventarc delivers when `path` is created, its data Firestore's protobuf."""
    values = {name: document_pb.Value(string_value=value) for name, value in fields.items()}
    name = f"projects/p/databases/(default)/documents/{path}"
    data = DocumentEventData(value=document_pb.Document(name=name, fields=values))
    attributes = {"type": TRIGGER.event_type, "source": "//firestore.googleapis.com/projects/p", "id": "ev-1"}
    return CloudEvent(attributes, DocumentEventData.serialize(data))


def test_created_document_reaches_the_handler_decoded(gateway: Any) -> None:
    """The handler gets the document's id, path and fields as Python values."""
    seen: list[Created] = []
    entry = on_document(TRIGGER)(seen.append)
    entry(firestore_event("audit/abc", {"type": "order.submitted", "symbol": "AAPL"}))
    assert [(c.id, c.path, c.data, c.event_id) for c in seen] == [
        ("abc", "audit/abc", {"type": "order.submitted", "symbol": "AAPL"}, "ev-1")
    ]


def test_retryable_failure_is_raised_so_eventarc_delivers_again(gateway: Any) -> None:
    """A dependency that is down (503) fails the delivery; Eventarc retries it."""

    def down(_: Created) -> None:
        raise Unavailable("the receiver is down")

    with pytest.raises(Unavailable):
        on_document(TRIGGER)(down)(firestore_event("audit/abc", {"type": "order.submitted"}))


def test_permanent_failure_is_acknowledged_not_retried(
    gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure that would repeat forever (422) is logged and the event acknowledged."""

    def refuses(_: Created) -> None:
        raise Unprocessable("never acceptable", reason="bad_event")

    on_document(TRIGGER)(refuses)(firestore_event("audit/abc", {"type": "order.submitted"}))
    assert any("dropped" in record.getMessage() for record in caplog.records)
