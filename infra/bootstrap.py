"""One-time setup of a project: APIs, service accounts and their least-privilege roles, the empty
secrets, the Firestore database and the API Gateway API. Idempotent (each resource is looked up first).

`python -m infra.bootstrap --project P [--dry-run]` (`make bootstrap PROJECT=P`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from infra.commands import Gcloud, Shell
from infra.project import ACCOUNTS, API_ID, FIRESTORE_DATABASE, FIRESTORE_LOCATION, SECRETS, Project

SERVICES = (
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "secretmanager.googleapis.com",
    "firestore.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "pubsub.googleapis.com",
    "apigateway.googleapis.com",
    "servicemanagement.googleapis.com",
    "servicecontrol.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
)
# Project-level roles per account. Invoker rights are per function (infra/deploy.py), secret access per
# secret (below), and the build may act as the accounts it deploys with (below).
PROJECT_ROLES = {
    "runtime": ("roles/datastore.user",),
    "events": ("roles/eventarc.eventReceiver",),
    "build": (
        "roles/cloudbuild.builds.builder",  # runs the build and the functions' own builds, writes logs
        "roles/cloudfunctions.developer",  # deploys functions
        "roles/run.admin",  # gen2 invoker bindings live on the Cloud Run services
        "roles/eventarc.developer",  # the Firestore trigger
        "roles/cloudscheduler.admin",  # infra/scheduler.py
        "roles/apigateway.admin",  # configs and the gateway
        "roles/datastore.indexAdmin",  # indexes and TTL policies
    ),
    "gateway": (),
    "scheduler": (),
}
ACTS_AS = ("runtime", "events", "scheduler", "gateway", "build")  # the build deploys with these


def commands(shell: Shell, project: Project) -> None:
    p = f"--project={project.id}"
    shell.run(Gcloud.of("services enable", *SERVICES, p))
    for role, account_id in ACCOUNTS.items():
        shell.ensure(
            Gcloud.of("iam service-accounts describe", project.account(role), p),
            Gcloud.of(
                "iam service-accounts create", account_id, f"--display-name=Execution Engine {role}", p
            ),
        )
    for role, granted in PROJECT_ROLES.items():
        for name in granted:
            shell.run(
                Gcloud.of(
                    "projects add-iam-policy-binding",
                    project.id,
                    f"--member=serviceAccount:{project.account(role)}",
                    f"--role={name}",
                    "--condition=None",
                    "--format=none",
                )
            )
    for role in ACTS_AS:
        shell.run(
            Gcloud.of(
                "iam service-accounts add-iam-policy-binding",
                project.account(role),
                f"--member=serviceAccount:{project.account('build')}",
                "--role=roles/iam.serviceAccountUser",
                p,
                "--format=none",
            )
        )
    for secret in SECRETS.values():
        shell.ensure(
            Gcloud.of("secrets describe", secret, p),
            Gcloud.of("secrets create", secret, "--replication-policy=automatic", p),
        )
        shell.run(
            Gcloud.of(
                "secrets add-iam-policy-binding",
                secret,
                f"--member=serviceAccount:{project.account('runtime')}",
                "--role=roles/secretmanager.secretAccessor",
                p,
                "--format=none",
            )
        )
    shell.ensure(
        Gcloud.of("firestore databases describe", f"--database={FIRESTORE_DATABASE}", p),
        Gcloud.of(
            "firestore databases create",
            f"--database={FIRESTORE_DATABASE}",
            f"--location={FIRESTORE_LOCATION}",
            "--type=firestore-native",
            p,
        ),
    )
    shell.ensure(
        Gcloud.of("api-gateway apis describe", API_ID, p), Gcloud.of("api-gateway apis create", API_ID, p)
    )
    shell.say("# bootstrap done: add the secrets' first versions (README, Deploying to Google Cloud)")


def main(argv: Sequence[str] | None = None, shell: Shell | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m infra.bootstrap", description=__doc__)
    p.add_argument("--project", required=True)
    p.add_argument("--dry-run", action="store_true", help="print every command, change nothing")
    args = p.parse_args(argv)
    commands(shell or Shell(args.dry_run), Project(args.project))
    return 0


if __name__ == "__main__":
    sys.exit(main())
