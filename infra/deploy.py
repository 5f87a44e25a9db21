"""Every function's `gcloud functions deploy`, generated from ROUTES, JOBS, TRIGGERS and PAGES, with its
invoker.

`python -m infra.deploy --project P [--dry-run] [--only NAME] [--force]`. A function whose upload and
command are unchanged (the `deploy-hash` label) is not redeployed."""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from functions.routes import JOBS, PAGES, ROUTES, TRIGGERS, Job, Page, Route, Trigger
from infra.commands import Gcloud, Shell
from infra.project import (
    FIRESTORE_DATABASE,
    FIRESTORE_LOCATION,
    PAPER_URL,
    REGION,
    RUNTIME,
    SECRETS,
    Project,
)
from shared.auth.callers import Scope

ROOT = Path(__file__).resolve().parent.parent
HASH_LABEL = "deploy-hash"
WARM = frozenset({"place_order"})  # the order path: TradingView gives up after about 3 s
Entry = Route | Job | Trigger | Page


@dataclass(frozen=True)
class Sizing:
    """Resources of one function, and why."""

    memory: str
    cpu: str
    concurrency: int
    timeout_s: int
    min_instances: int
    max_instances: int
    reason: str


READ = Sizing(
    memory="512Mi",
    cpu="1",  # concurrency above 1 needs a whole vCPU
    concurrency=16,
    timeout_s=30,
    min_instances=0,
    max_instances=10,
    reason="reads scale to zero; 16 concurrent requests per instance",
)
TRADE = replace(READ, reason="trading calls: a whole vCPU for the audit commits; scale to zero")
ORDER = replace(
    TRADE, min_instances=1, reason="the order path stays warm: a ~1.5 s cold start would eat a webhook's 3 s"
)
ADMIN = replace(
    READ, cpu="0.5", concurrency=1, max_instances=2, reason="rare calls by people: half a vCPU, one at a time"
)
JOB = replace(
    READ,
    concurrency=1,
    timeout_s=540,
    max_instances=2,
    reason="one run at a time; the flatten polls until flat, so a long timeout",
)
EVENT = replace(
    READ,
    concurrency=8,
    timeout_s=60,
    max_instances=3,
    reason="small event bursts; Eventarc retries a failure",
)

PAGE = replace(
    READ,
    memory="256Mi",
    max_instances=2,
    reason="static files from memory, revalidated by ETag: small, 16 at a time, scale to zero",
)


def sizing(entry: Entry) -> Sizing:
    if isinstance(entry, Page):
        return PAGE
    if isinstance(entry, Job):
        return JOB
    if isinstance(entry, Trigger):
        return EVENT
    if entry.entry_point in WARM:
        return ORDER
    return {Scope.ADMIN: ADMIN, Scope.TRADE: TRADE}.get(entry.scope, READ)


@dataclass(frozen=True)
class Settings:
    """What one deployment needs beyond the tables."""

    project: Project
    secret_versions: dict[str, str]  # env var -> pinned version
    alpaca_base_url: str = PAPER_URL


@dataclass(frozen=True)
class Deployment:
    name: str
    kind: str  # route, job or trigger
    sizing: Sizing
    command: Gcloud  # without the hash label
    invoker: str  # the one service account that may call it

    def labelled(self, deploy_hash: str) -> Gcloud:
        return Gcloud(self.command.path, (*self.command.args, f"--update-labels={HASH_LABEL}={deploy_hash}"))


def table_entries(
    routes: Sequence[Route] = ROUTES,
    jobs: Sequence[Job] = JOBS,
    triggers: Sequence[Trigger] = TRIGGERS,
    pages: Sequence[Page] = PAGES,
) -> list[Entry]:
    return [*routes, *jobs, *triggers, *pages]


def kind_of(entry: Entry) -> str:
    kinds: dict[type, str] = {Route: "route", Job: "job", Trigger: "trigger", Page: "page"}
    return kinds[type(entry)]


def plan(settings: Settings, entries: Sequence[Entry] | None = None) -> list[Deployment]:
    """One deployment per entry point of the tables."""
    entries = table_entries() if entries is None else entries
    fleet = sum(sizing(entry).max_instances for entry in entries)
    return [deployment(settings, entry, fleet) for entry in entries]


def deployment(settings: Settings, entry: Entry, fleet_instances: int) -> Deployment:
    project, size, name = settings.project, sizing(entry), entry.entry_point
    env = {
        "GOOGLE_CLOUD_PROJECT": project.id,
        "ALPACA_BASE_URL": settings.alpaca_base_url,
        # Every instance of every function spends the same key: degraded mode shares by all of them.
        "MAX_INSTANCES": str(fleet_instances),
        "THREADS": str(size.concurrency),
    }
    secrets = {var: f"{secret}:{settings.secret_versions[var]}" for var, secret in SECRETS.items()}
    if isinstance(entry, Job):
        env["OIDC_AUDIENCE"] = project.function_url(name)
        env["SCHEDULER_SERVICE_ACCOUNTS"] = project.account("scheduler")
    if isinstance(entry, Route):
        # API Gateway holds Authorization for IAM; the caller's token arrives as X-Forwarded-Authorization.
        env["BEHIND_API_GATEWAY"] = "true"
    else:
        secrets.pop("GATEWAY_CALLERS")  # only HTTP routes authenticate registry callers
    if isinstance(entry, Page):
        secrets.clear()  # a page serves files: it holds no key, no registry
        env.pop("ALPACA_BASE_URL")
    args = [
        name,
        "--gen2",
        f"--region={project.region}",
        f"--project={project.id}",
        f"--runtime={RUNTIME}",
        "--source=.",
        f"--entry-point={name}",
        f"--service-account={project.account('runtime')}",
        f"--build-service-account={project.account_resource('build')}",
        f"--memory={size.memory}",
        f"--cpu={size.cpu}",
        f"--concurrency={size.concurrency}",
        f"--timeout={size.timeout_s}s",
        f"--min-instances={size.min_instances}",
        f"--max-instances={size.max_instances}",
        "--set-env-vars=" + ",".join(f"{k}={v}" for k, v in env.items()),
        "--set-secrets=" + ",".join(f"{k}={v}" for k, v in secrets.items()) if secrets else "--clear-secrets",
        *trigger_args(project, entry),
    ]
    # API Gateway calls the routes and the page (at /app/ beside /api/alpaca on one origin).
    role = {"route": "gateway", "page": "gateway", "job": "scheduler", "trigger": "events"}[kind_of(entry)]
    return Deployment(name, kind_of(entry), size, Gcloud(("functions", "deploy"), tuple(args)), role)


def trigger_args(project: Project, entry: Entry) -> list[str]:
    if not isinstance(entry, Trigger):
        return ["--trigger-http", "--no-allow-unauthenticated", "--ingress-settings=all"]
    return [
        f"--trigger-event-filters=type={entry.event_type}",
        f"--trigger-event-filters=database={FIRESTORE_DATABASE}",
        f"--trigger-event-filters-path-pattern=document={entry.document}",
        f"--trigger-location={FIRESTORE_LOCATION}",
        f"--trigger-service-account={project.account('events')}",
        "--retry",  # the handler raises only retryable failures
        "--ingress-settings=all",  # IAM decides who may invoke: only the Eventarc trigger's account
    ]


def invoker_binding(project: Project, item: Deployment) -> Gcloud:
    return Gcloud.of(
        "functions add-invoker-policy-binding",
        item.name,
        f"--region={project.region}",
        f"--project={project.id}",
        f"--member=serviceAccount:{project.account(item.invoker)}",
    )


def describe(project: Project, name: str) -> Gcloud:
    return Gcloud.of(
        "functions describe", name, f"--region={project.region}", f"--project={project.id}", "--format=json"
    )


def upload_files(root: Path = ROOT) -> list[str]:
    """What `gcloud functions deploy --source=root` uploads, as gcloud itself lists it."""
    done = subprocess.run(
        ["gcloud", "meta", "list-files-for-upload", str(root)], capture_output=True, text=True, check=True
    )
    return sorted(line.strip() for line in done.stdout.splitlines() if line.strip())


def upload_digest(root: Path, files: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def deploy_hash(upload: str, command: Gcloud) -> str:
    """Changes when the code or any flag changes (a new secret version, say)."""
    return hashlib.sha256(f"{upload}\0{command}".encode()).hexdigest()[:32]


def deployed_hash(shell: Shell, project: Project, name: str) -> str | None:
    described = shell.query(describe(project, name))
    if not described:
        return None
    labels = json.loads(described).get("labels") or {}
    return str(labels.get(HASH_LABEL)) if HASH_LABEL in labels else None


def apply(shell: Shell, project: Project, item: Deployment, upload: str, force: bool) -> None:
    wanted = deploy_hash(upload, item.command)
    if not force and deployed_hash(shell, project, item.name) == wanted:
        shell.say(f"# {item.name}: unchanged ({HASH_LABEL}={wanted}), not redeployed")
    else:
        shell.say(f"# {item.name} ({item.kind}): {item.sizing.reason}")
        shell.run(item.labelled(wanted))
    shell.run(invoker_binding(project, item))  # idempotent, so a failed earlier run is repaired


def select(items: list[Deployment], only: str | None) -> list[Deployment]:
    if only is None:
        return items
    chosen = [item for item in items if item.name == only]
    if not chosen:
        raise SystemExit(f"--only {only}: not an entry point ({', '.join(i.name for i in items)})")
    return chosen


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__)
    p.add_argument("--project", required=True)
    p.add_argument("--region", default=REGION)
    p.add_argument("--dry-run", action="store_true", help="print every command, change nothing")
    p.add_argument("--only", metavar="NAME", help="deploy one entry point")
    p.add_argument("--force", action="store_true", help="redeploy even when unchanged")
    p.add_argument("--parallel", type=int, default=6, help="deploys at once (each takes minutes)")
    p.add_argument("--alpaca-base-url", default=PAPER_URL)
    for var, secret in SECRETS.items():
        p.add_argument(f"--{secret}-version", dest=var, default="1", help=f"pinned version of {secret}")
    return p


def main(
    argv: Sequence[str] | None = None, shell: Shell | None = None, files: Sequence[str] | None = None
) -> int:
    args = parser().parse_args(argv)
    project = Project(args.project, args.region)
    versions = {var: str(getattr(args, var)) for var in SECRETS}
    if any(not v.isdigit() for v in versions.values()):
        raise SystemExit("secret versions are pinned numbers, never `latest`")
    shell = shell or Shell(args.dry_run)
    items = select(plan(Settings(project, versions, args.alpaca_base_url)), args.only)
    upload = upload_digest(ROOT, upload_files() if files is None else files)
    workers = 1 if shell.dry_run else max(1, args.parallel)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(apply, shell, project, item, upload, args.force) for item in items]:
            future.result()
    return 0


if __name__ == "__main__":
    sys.exit(main())
