"""infra/scheduler.py against an in-process fake Cloud Scheduler (gRPC, the library's own types) through
the real client: jobs created from the JOBS table, left alone when unchanged, updated field by field."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from google.cloud import scheduler_v1

from functions.routes import JOBS, Job
from infra import scheduler
from tests.support.scheduler import FakeCloudScheduler, fake_cloud_scheduler

PROJECT = "ee-prod"
PARENT = f"projects/{PROJECT}/locations/us-east4"
SCHEDULER_JOBS = sum(len(job.schedules) for job in JOBS)  # one Scheduler job per cron


@pytest.fixture
def cloud() -> Iterator[tuple[FakeCloudScheduler, Any]]:
    with fake_cloud_scheduler() as pair:
        yield pair


def run(client: Any, *args: str) -> str:
    out = io.StringIO()
    assert scheduler.main(["--project", PROJECT, *args], client=client, out=out) == 0
    return out.getvalue()


def test_first_sync_creates_one_job_per_scheduled_entry_point(cloud: tuple[FakeCloudScheduler, Any]) -> None:
    """Each job POSTs its function's URL with an OIDC token for that URL, in New York time, with retries."""
    fake, client = cloud
    run(client)
    expected = [f"{PARENT}/jobs/{job.entry_point}" for job in JOBS]
    expected += [
        f"{PARENT}/jobs/{job.entry_point}-{n}" for job in JOBS for n in range(2, len(job.schedules) + 1)
    ]
    assert sorted(fake.jobs) == sorted(expected)
    flatten = fake.jobs[f"{PARENT}/jobs/flatten_positions"]
    url = f"https://us-east4-{PROJECT}.cloudfunctions.net/flatten_positions"
    assert (flatten.schedule, flatten.time_zone) == ("*/5 12,15 * * 1-5", "America/New_York")
    assert flatten.http_target.uri == url and flatten.http_target.http_method == scheduler_v1.HttpMethod.POST
    assert flatten.http_target.oidc_token.audience == url
    assert (
        flatten.http_target.oidc_token.service_account_email
        == f"ee-scheduler@{PROJECT}.iam.gserviceaccount.com"
    )
    assert flatten.retry_config.retry_count == 3 and flatten.attempt_deadline == timedelta(minutes=5)
    snapshot = fake.jobs[f"{PARENT}/jobs/snapshot_positions"]
    assert snapshot.schedule == "5 13,16 * * 1-5"


def test_second_sync_changes_nothing(cloud: tuple[FakeCloudScheduler, Any]) -> None:
    """Idempotent: the service's own additions (state, a User-Agent header) are no difference."""
    fake, client = cloud
    run(client)
    fake.calls.clear()
    printed = run(client)
    assert fake.calls == ["GetJob"] * SCHEDULER_JOBS
    assert printed.count("unchanged") == SCHEDULER_JOBS


def test_job_changed_by_hand_is_updated_only_in_the_fields_that_differ(
    cloud: tuple[FakeCloudScheduler, Any],
) -> None:
    fake, client = cloud
    run(client)
    name = f"{PARENT}/jobs/flatten_positions"
    fake.jobs[name].schedule = "0 15 * * *"
    fake.jobs[name].http_target.oidc_token.audience = "https://elsewhere.example"
    fake.calls.clear()
    printed = run(client)
    assert "UpdateJob:schedule,http_target" in fake.calls
    assert fake.jobs[name].schedule == "*/5 12,15 * * 1-5"
    assert fake.jobs[name].http_target.oidc_token.audience.endswith("/flatten_positions")
    assert "update    flatten_positions" in printed and "[changes: schedule, http_target]" in printed


def test_dry_run_prints_what_it_would_do_and_changes_nothing(cloud: tuple[FakeCloudScheduler, Any]) -> None:
    fake, client = cloud
    printed = run(client, "--dry-run", "--service-account", "eod@ee-prod.iam.gserviceaccount.com")
    assert fake.jobs == {} and set(fake.calls) == {"GetJob"}
    assert printed.count("would create") == SCHEDULER_JOBS
    assert "as eod@ee-prod.iam.gserviceaccount.com" in printed


def test_an_entry_point_with_two_schedules_gets_a_job_for_each(cloud: tuple[FakeCloudScheduler, Any]) -> None:
    fake, client = cloud
    job = Job("sync_probe", "* 9-16 * * 1-5", "two crons", extra_schedules=("*/15 * * * *",))
    scheduler.sync(client, PROJECT, jobs=(job,))
    schedules = {name.rsplit("/", 1)[1]: found.schedule for name, found in fake.jobs.items()}
    assert schedules == {"sync_probe": "* 9-16 * * 1-5", "sync_probe-2": "*/15 * * * *"}
