"""The dry runs add up to one deployment: what the deploy, the gateway and the build refer to is what
the bootstrap creates, and the gateway calls exactly the functions the deploy makes it the invoker of."""

from __future__ import annotations

import io
from pathlib import Path

from infra import bootstrap, build, gateway
from infra.commands import Gcloud, Shell
from tests.deploy.conftest import PROJECT, Recorder, all_kinds_plan, flag_value, pairs, recording_shell


def bootstrapped() -> list[Gcloud]:
    recorder = Recorder()
    bootstrap.commands(recording_shell(recorder)[0], PROJECT)
    return recorder.commands


def created(path: str) -> set[str]:
    words = tuple(path.split())
    return {command.args[0] for command in bootstrapped() if command.path == words}


def test_every_account_the_deploy_uses_is_created_by_the_bootstrap() -> None:
    accounts = {
        f"{name}@{PROJECT.id}.iam.gserviceaccount.com" for name in created("iam service-accounts create")
    }
    for item in all_kinds_plan():
        args = item.command.args
        used = {flag_value(args, "--service-account"), PROJECT.account(item.invoker)}
        used.add(flag_value(args, "--build-service-account").rsplit("/", 1)[1])
        if item.kind == "trigger":
            used.add(flag_value(args, "--trigger-service-account"))
        assert used <= accounts, item.name


def test_every_secret_the_functions_mount_is_created_and_readable_by_their_account() -> None:
    secrets = created("secrets create")
    readable = created("secrets add-iam-policy-binding")
    for item in all_kinds_plan():
        if item.kind == "page":
            assert "--clear-secrets" in item.command.args, item.name  # a page mounts no secret
            continue
        mounted = {
            ref.split(":")[0] for ref in pairs(flag_value(item.command.args, "--set-secrets")).values()
        }
        assert mounted <= secrets and mounted <= readable, item.name


def test_the_gateway_calls_each_route_function_as_the_account_that_may_invoke_it(
    recorder: Recorder, tmp_path: Path
) -> None:
    doc = gateway.document(PROJECT)
    shell, _ = recording_shell(recorder)
    gateway.rollout(shell, PROJECT, doc, tmp_path / "gateway.json")
    [create] = [c for c in recorder.commands if c.path == ("api-gateway", "api-configs", "create")]
    caller = flag_value(create.args, "--backend-auth-service-account")
    routes = {item.name: item for item in all_kinds_plan() if item.kind in {"route", "page"}}
    addresses = {op["x-google-backend"]["address"] for item in doc["paths"].values() for op in item.values()}
    assert addresses == {PROJECT.function_url(name) for name in routes}
    assert {PROJECT.account(item.invoker) for item in routes.values()} == {caller}
    assert flag_value(create.args, "--api") in created("api-gateway apis create")


def test_the_trigger_listens_where_the_database_is() -> None:
    [database] = [c for c in bootstrapped() if c.path == ("firestore", "databases", "create")]
    for item in all_kinds_plan():
        if item.kind == "trigger":
            assert flag_value(item.command.args, "--trigger-location") == flag_value(
                database.args, "--location"
            )


def test_the_build_runs_as_the_account_the_bootstrap_lets_deploy() -> None:
    out = io.StringIO()
    build.main(["--project", PROJECT.id, "--dry-run"], Shell(True, out=out))
    assert f"--service-account={PROJECT.account_resource('build')}" in out.getvalue()
    acts_as = [c for c in bootstrapped() if c.path == ("iam", "service-accounts", "add-iam-policy-binding")]
    assert {c.args[0] for c in acts_as} >= {PROJECT.account("runtime"), PROJECT.account("events")}
    assert all(
        flag_value(c.args, "--member") == f"serviceAccount:{PROJECT.account('build')}" for c in acts_as
    )
