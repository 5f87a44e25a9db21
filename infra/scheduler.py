"""Cloud Scheduler jobs for the scheduled entry points of `functions/routes.py` JOBS: each created, or
updated where it differs, with an OIDC token for the function's URL. Idempotent; `--dry-run` only reads.

    python -m infra.scheduler --project my-project [--region us-east4] [--service-account EMAIL] [--dry-run]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO

from google.api_core import exceptions as gexc
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import scheduler_v1
from google.protobuf import field_mask_pb2

from functions.routes import JOBS, Job
from infra.project import Project

REGION = "us-east4"
# The flatten polls for up to FLATTEN_DEADLINE_SECONDS (120 s by default): the attempt may take that
# long, and the function's own timeout must be at least this.
ATTEMPT_DEADLINE = timedelta(minutes=5)
# A failed delivery is retried a few times inside the last minutes before the close; the function is
# idempotent (one run per session, one snapshot per schedule time), so a retry is always safe.
RETRY = scheduler_v1.RetryConfig(
    retry_count=3,
    max_retry_duration=timedelta(minutes=8),
    min_backoff_duration=timedelta(seconds=20),
    max_backoff_duration=timedelta(seconds=120),
    max_doublings=2,
)
MANAGED = ("description", "schedule", "time_zone", "http_target", "retry_config", "attempt_deadline")


@dataclass(frozen=True)
class Change:
    """What the sync did (or, on a dry run, would do) to one job."""

    action: str  # create | update | unchanged
    job: scheduler_v1.Job
    fields: tuple[str, ...] = ()

    def line(self) -> str:
        target = self.job.http_target
        name = self.job.name.rsplit("/", 1)[-1]
        what = f"{self.action:9} {name}: {self.job.schedule!r} ({self.job.time_zone})"
        detail = f" POST {target.uri} as {target.oidc_token.service_account_email}"
        changed = f" [changes: {', '.join(self.fields)}]" if self.fields else ""
        return what + detail + changed


def function_url(project: str, region: str, entry_point: str) -> str:
    """A gen2 function's cloudfunctions.net URL, which is also the OIDC token's audience."""
    return Project(project, region).function_url(entry_point)


def default_service_account(project: str) -> str:
    return Project(project).account("scheduler")


def desired_jobs(job: Job, project: str, region: str, service_account: str) -> list[scheduler_v1.Job]:
    """One Scheduler job per cron of `job`: `<entry_point>`, then `<entry_point>-2`, ..."""
    return [
        desired_job(job, project, region, service_account, number)
        for number in range(1, len(job.schedules) + 1)
    ]


def desired_job(
    job: Job, project: str, region: str, service_account: str, number: int = 1
) -> scheduler_v1.Job:
    url = function_url(project, region, job.entry_point)
    job_id = job.entry_point if number == 1 else f"{job.entry_point}-{number}"
    return scheduler_v1.Job(
        name=scheduler_v1.CloudSchedulerClient.job_path(project, region, job_id),
        description=job.summary,
        schedule=job.schedules[number - 1],
        time_zone=job.time_zone,
        http_target=scheduler_v1.HttpTarget(
            uri=url,
            http_method=scheduler_v1.HttpMethod.POST,
            headers={"Content-Type": "application/json"},
            body=b"{}",
            oidc_token=scheduler_v1.OidcToken(service_account_email=service_account, audience=url),
        ),
        retry_config=RETRY,
        attempt_deadline=ATTEMPT_DEADLINE,
    )


def differences(existing: scheduler_v1.Job, desired: scheduler_v1.Job) -> tuple[str, ...]:
    """The managed fields whose value differs. The service adds headers of its own (User-Agent), so only
    ours are compared."""
    found = []
    for name in MANAGED:
        if name == "http_target":
            have, want = existing.http_target, desired.http_target
            ours = {k: v for k, v in have.headers.items() if k in want.headers}
            same = (
                have.uri == want.uri
                and have.http_method == want.http_method
                and have.body == want.body
                and have.oidc_token == want.oidc_token
                and ours == dict(want.headers)
            )
            if not same:
                found.append(name)
        elif getattr(existing, name) != getattr(desired, name):
            found.append(name)
    return tuple(found)


def sync(
    client: Any,
    project: str,
    region: str = REGION,
    service_account: str | None = None,
    *,
    dry_run: bool = False,
    jobs: Sequence[Job] = JOBS,
) -> list[Change]:
    """Create each job that is missing and update each that differs (only the differing fields)."""
    account = service_account or default_service_account(project)
    parent = scheduler_v1.CloudSchedulerClient.common_location_path(project, region)
    changes = []
    for desired in (d for job in jobs for d in desired_jobs(job, project, region, account)):
        try:
            existing = client.get_job(name=desired.name)
        except gexc.NotFound:
            if not dry_run:
                client.create_job(parent=parent, job=desired)
            changes.append(Change("create", desired))
            continue
        fields = differences(existing, desired)
        if fields and not dry_run:
            client.update_job(job=desired, update_mask=field_mask_pb2.FieldMask(paths=list(fields)))
        changes.append(Change("update" if fields else "unchanged", desired, fields))
    return changes


class NoCredentials:
    """A dry run's stand-in for the API on a machine without Google credentials: it knows of no job, so
    every job is shown as it would be created."""

    def get_job(self, name: str, **_: Any) -> scheduler_v1.Job:
        raise gexc.NotFound(name)


def _client(dry_run: bool, out: TextIO) -> Any:
    try:
        return scheduler_v1.CloudSchedulerClient()
    except DefaultCredentialsError:
        if not dry_run:
            raise
        print("# no Google credentials here: every job is shown as it would be created", file=out)
        return NoCredentials()


def main(argv: Sequence[str] | None = None, *, client: Any = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, help="the Google Cloud project of the functions")
    parser.add_argument("--region", default=REGION, help=f"the functions' and jobs' region ({REGION})")
    parser.add_argument(
        "--service-account",
        help="the OIDC token's service account (default ee-scheduler@PROJECT.iam.gserviceaccount.com)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    args = parser.parse_args(argv)
    client = client or _client(args.dry_run, out)
    changes = sync(client, args.project, args.region, args.service_account, dry_run=args.dry_run)
    prefix = "would " if args.dry_run else ""
    for change in changes:
        print(prefix + change.line() if change.action != "unchanged" else change.line(), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
