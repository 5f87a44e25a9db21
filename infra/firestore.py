"""Firestore's composite indexes and TTL policies from infra/firestore/indexes.json (Firebase's format).

`python -m infra.firestore --project P [--dry-run]`: creates missing composite indexes, turns TTL on for
each TTL field and exempts it from single-field indexing. Every command is idempotent."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.commands import Gcloud, Shell
from infra.project import FIRESTORE_DATABASE, Project

SETTINGS_PATH = Path(__file__).resolve().parent / "firestore" / "indexes.json"
IndexKey = tuple[str, str, tuple[tuple[str, str], ...]]


def load(path: Path = SETTINGS_PATH) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(path.read_text())
    return settings


def index_key(group: str, scope: str, fields: Sequence[dict[str, str]]) -> IndexKey:
    pairs = tuple(
        (f["fieldPath"], (f.get("order") or f.get("arrayConfig") or "").lower())
        for f in fields
        if f["fieldPath"] != "__name__"
    )
    return (group, scope.lower(), pairs)


def existing_indexes(listing: str | None) -> set[IndexKey]:
    """The composite indexes `gcloud firestore indexes composite list --format=json` reports."""
    found = set()
    for index in json.loads(listing or "[]"):
        group = index["name"].split("/collectionGroups/")[1].split("/")[0]
        found.add(index_key(group, index.get("queryScope", "COLLECTION"), index.get("fields", [])))
    return found


def index_command(project: Project, index: dict[str, Any]) -> Gcloud:
    configs = []
    for field in index["fields"]:
        kind, value = (
            ("array-config", field["arrayConfig"]) if "arrayConfig" in field else ("order", field["order"])
        )
        configs.append(f"--field-config=field-path={field['fieldPath']},{kind}={value.lower()}")
    return Gcloud.of(
        "firestore indexes composite create",
        f"--collection-group={index['collectionGroup']}",
        f"--query-scope={index.get('queryScope', 'COLLECTION').lower()}",
        *configs,
        f"--database={FIRESTORE_DATABASE}",
        f"--project={project.id}",
        "--async",
    )


def override_commands(project: Project, override: dict[str, Any]) -> list[Gcloud]:
    field = override["fieldPath"]
    where = (f"--collection-group={override['collectionGroup']}", f"--database={FIRESTORE_DATABASE}")
    commands = []
    if override.get("ttl"):
        commands.append(
            Gcloud.of(
                "firestore fields ttls update",
                field,
                *where,
                "--enable-ttl",
                f"--project={project.id}",
                "--async",
            )
        )
    if override.get("indexes") == []:
        commands.append(
            Gcloud.of(
                "firestore indexes fields update",
                field,
                *where,
                "--disable-indexes",
                f"--project={project.id}",
                "--async",
            )
        )
    return commands


def apply(shell: Shell, project: Project, settings: dict[str, Any]) -> None:
    listing = shell.query(
        Gcloud.of(
            "firestore indexes composite list",
            f"--database={FIRESTORE_DATABASE}",
            f"--project={project.id}",
            "--format=json",
        )
    )
    have = existing_indexes(listing)
    for index in settings.get("indexes", []):
        key = index_key(index["collectionGroup"], index.get("queryScope", "COLLECTION"), index["fields"])
        if key in have:
            shell.say(f"# index on {index['collectionGroup']} exists")
        else:
            shell.run(index_command(project, index))
    for override in settings.get("fieldOverrides", []):
        for command in override_commands(project, override):
            shell.run(command)


def main(argv: Sequence[str] | None = None, shell: Shell | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m infra.firestore", description=__doc__)
    p.add_argument("--project", required=True)
    p.add_argument("--dry-run", action="store_true", help="print every command, change nothing")
    p.add_argument("--settings", type=Path, default=SETTINGS_PATH)
    args = p.parse_args(argv)
    apply(shell or Shell(args.dry_run), Project(args.project), load(args.settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
