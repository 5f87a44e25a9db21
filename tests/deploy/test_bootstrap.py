"""infra/bootstrap.py, infra/firestore.py and the Makefile targets: the one-time setup prints every
resource in a dry run and creates nothing twice; TTL and indexes come from the committed JSON."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

from infra import bootstrap, firestore
from infra.commands import Shell
from infra.project import ACCOUNTS, SECRETS
from tests.deploy.conftest import PROJECT, Recorder, recording_shell

ROOT = Path(__file__).resolve().parents[2]
INDEX = {
    "collectionGroup": "orders",
    "queryScope": "COLLECTION",
    "fields": [
        {"fieldPath": "state", "order": "ASCENDING"},
        {"fieldPath": "requested_at", "order": "DESCENDING"},
    ],
}


def dry_run() -> list[str]:
    out = io.StringIO()
    bootstrap.commands(Shell(True, out=out), PROJECT)
    return out.getvalue().splitlines()


def test_a_dry_run_prints_every_account_secret_the_database_and_the_api() -> None:
    lines = dry_run()
    assert any(
        line.startswith("gcloud services enable ") and "apigateway.googleapis.com" in line for line in lines
    )
    for account in ACCOUNTS.values():
        assert any(line.startswith(f"gcloud iam service-accounts create {account} ") for line in lines)
    for secret in SECRETS.values():
        assert any(line.startswith(f"gcloud secrets create {secret} ") for line in lines)
    [database] = [line for line in lines if line.startswith("gcloud firestore databases create")]
    assert "--location=us-east4" in database and "--type=firestore-native" in database
    assert any(line.startswith("gcloud api-gateway apis create alpaca-api ") for line in lines)


def test_only_the_runtime_account_may_read_the_secrets() -> None:
    grants = [line for line in dry_run() if line.startswith("gcloud secrets add-iam-policy-binding")]
    assert len(grants) == len(SECRETS)
    assert all(f"--member=serviceAccount:{PROJECT.account('runtime')}" in line for line in grants)
    assert all("--role=roles/secretmanager.secretAccessor" in line for line in grants)


def test_no_account_gets_a_basic_role() -> None:
    roles = [part for line in dry_run() for part in line.split() if part.startswith("--role=")]
    assert roles and not {"--role=roles/owner", "--role=roles/editor", "--role=roles/viewer"} & set(roles)


def test_a_second_bootstrap_creates_nothing(recorder: Recorder) -> None:
    recorder.answers.update(
        {
            "gcloud iam service-accounts describe": "{}",
            "gcloud secrets describe": "{}",
            "gcloud firestore databases describe": "{}",
            "gcloud api-gateway apis describe": "{}",
        }
    )
    shell, _ = recording_shell(recorder)
    bootstrap.commands(shell, PROJECT)
    assert [str(c) for c in recorder.commands if c.path[-1] == "create"] == []


def test_ttl_is_on_for_the_expiring_collections_with_their_field_unindexed(recorder: Recorder) -> None:
    shell, _ = recording_shell(recorder)
    firestore.apply(shell, PROJECT, firestore.load())
    ttl = {(c.args[0], c.args[1]) for c in recorder.commands if c.path[-2:] == ("ttls", "update")}
    assert {
        ("expires_at", "--collection-group=order_rate"),
        ("expires_at", "--collection-group=signatures"),
    } <= ttl
    exempt = {(c.args[0], c.args[1]) for c in recorder.commands if c.path[-2:] == ("fields", "update")}
    assert ttl <= exempt


def test_a_missing_composite_index_is_created_and_an_existing_one_left_alone(recorder: Recorder) -> None:
    shell, _ = recording_shell(recorder)
    firestore.apply(shell, PROJECT, {"indexes": [INDEX]})
    [create] = [c for c in recorder.commands if c.path[-2:] == ("composite", "create")]
    assert "--field-config=field-path=state,order=ascending" in create.args
    assert "--field-config=field-path=requested_at,order=descending" in create.args
    listed = [
        {
            "name": "projects/p/databases/(default)/collectionGroups/orders/indexes/abc",
            "queryScope": "COLLECTION",
            "fields": [*INDEX["fields"], {"fieldPath": "__name__", "order": "DESCENDING"}],
        }
    ]
    again = Recorder({"gcloud firestore indexes composite list": json.dumps(listed)})
    firestore.apply(recording_shell(again)[0], PROJECT, {"indexes": [INDEX]})
    assert [c for c in again.commands if c.path[-2:] == ("composite", "create")] == []


def test_make_bootstrap_and_deploy_need_a_project_and_pass_it_on() -> None:
    def make(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=False)

    refused = subprocess.run(["make", "need-project"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "PROJECT=" in refused.stderr
    assert "-m infra.bootstrap --project=p1" in make("bootstrap", "PROJECT=p1").stdout
    deployed = make("deploy", "PROJECT=p1", "GATEWAY_CALLERS_VERSION=4", "DRY_RUN=1").stdout
    assert "-m infra.build --project=p1 --dry-run" in deployed and "--gateway-callers-version=4" in deployed
