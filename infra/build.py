"""`make deploy`: submits cloudbuild.yaml to Cloud Build in the region, as the build service account.

`python -m infra.build --project P [--dry-run] [--alpaca-api-key-version N ...]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from infra.commands import Gcloud, Shell
from infra.project import PAPER_URL, REGION, SECRETS, Project

BUILD_IGNORE = (
    ".gcloudignore-build"  # the build needs tests and infra, which the functions' upload leaves out
)


def substitution(secret: str) -> str:
    """`alpaca-api-key` -> `_ALPACA_API_KEY_VERSION`, as cloudbuild.yaml names it."""
    return "_" + secret.upper().replace("-", "_") + "_VERSION"


def submit(project: Project, versions: dict[str, str], alpaca_base_url: str) -> Gcloud:
    values = {"_REGION": project.region, "_ALPACA_BASE_URL": alpaca_base_url}
    values.update({substitution(secret): versions[secret] for secret in SECRETS.values()})
    return Gcloud.of(
        "builds submit",
        ".",
        "--config=cloudbuild.yaml",
        f"--ignore-file={BUILD_IGNORE}",
        f"--region={project.region}",
        f"--project={project.id}",
        f"--service-account={project.account_resource('build')}",
        "--substitutions=" + ",".join(f"{k}={v}" for k, v in values.items()),
    )


def main(argv: Sequence[str] | None = None, shell: Shell | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m infra.build", description=__doc__)
    p.add_argument("--project", required=True)
    p.add_argument("--region", default=REGION)
    p.add_argument("--dry-run", action="store_true", help="print the command, submit nothing")
    p.add_argument("--alpaca-base-url", default=PAPER_URL)
    for secret in SECRETS.values():
        p.add_argument(f"--{secret}-version", dest=secret, default="1", help=f"pinned version of {secret}")
    args = p.parse_args(argv)
    versions = {secret: str(getattr(args, secret)) for secret in SECRETS.values()}
    (shell or Shell(args.dry_run)).run(
        submit(Project(args.project, args.region), versions, args.alpaca_base_url)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
