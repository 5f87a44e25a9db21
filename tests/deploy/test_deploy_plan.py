"""infra/deploy.py: one gcloud functions deploy per entry point, with the right trigger, invoker, sizing,
secrets and environment; unchanged functions are skipped. No cloud: gcloud is a recorder."""

from __future__ import annotations

import pytest

import main
from functions.routes import JOBS, PAGES, ROUTES, TRIGGERS, entry_points
from infra import deploy
from infra.project import SECRETS
from tests.deploy.conftest import (
    PROJECT,
    SYNTHETIC_JOB,
    SYNTHETIC_TRIGGER,
    VERSIONS,
    Recorder,
    all_kinds_plan,
    described,
    flag_value,
    pairs,
    recording_shell,
)

ARGS = ["--project", PROJECT.id, "--alpaca-api-key-version=3", "--gateway-callers-version=7"]


def by_name() -> dict[str, deploy.Deployment]:
    return {item.name: item for item in all_kinds_plan()}


def test_every_entry_point_has_one_deploy_command_and_one_table_entry_and_back() -> None:
    items = deploy.plan(deploy.Settings(PROJECT, VERSIONS))
    names = [item.name for item in items]
    table = [e.entry_point for t in (ROUTES, JOBS, TRIGGERS, PAGES) for e in t]
    assert sorted(names) == sorted(set(names)) == sorted(table) == entry_points()
    assert sorted(main.__all__) == sorted(names)
    for item in items:
        assert item.command.path == ("functions", "deploy")
        assert item.command.args[0] == item.name


def test_every_function_deploys_gen2_in_us_east4_from_the_root_with_its_own_entry_point() -> None:
    for item in all_kinds_plan():
        args = item.command.args
        assert "--gen2" in args
        assert flag_value(args, "--region") == "us-east4"
        assert flag_value(args, "--source") == "."
        assert flag_value(args, "--entry-point") == item.name
        assert flag_value(args, "--runtime") in {"python311", "python312", "python313"}
        assert flag_value(args, "--service-account") == PROJECT.account("runtime")


def test_routes_are_invoked_by_the_gateway_jobs_by_the_scheduler_triggers_by_eventarc() -> None:
    items = by_name()
    for route in ROUTES:
        assert items[route.entry_point].invoker == "gateway"
        assert "--no-allow-unauthenticated" in items[route.entry_point].command.args
        assert "--trigger-http" in items[route.entry_point].command.args
    assert items[SYNTHETIC_JOB.entry_point].invoker == "scheduler"
    assert items[SYNTHETIC_TRIGGER.entry_point].invoker == "events"
    binding = deploy.invoker_binding(PROJECT, items["place_order"])
    assert binding.path == ("functions", "add-invoker-policy-binding")
    assert flag_value(binding.args, "--member") == f"serviceAccount:{PROJECT.account('gateway')}"


def test_a_trigger_gets_the_eventarc_firestore_filters_on_its_document() -> None:
    args = by_name()[SYNTHETIC_TRIGGER.entry_point].command.args
    filters = [arg for arg in args if arg.startswith("--trigger-event-filters=")]
    assert filters == [
        "--trigger-event-filters=type=google.cloud.firestore.document.v1.created",
        "--trigger-event-filters=database=(default)",
    ]
    assert flag_value(args, "--trigger-event-filters-path-pattern") == "document=audit/{id}"
    assert flag_value(args, "--trigger-location") == "us-east4"
    assert flag_value(args, "--trigger-service-account") == PROJECT.account("events")
    assert "--trigger-http" not in args


def test_a_scheduled_function_knows_its_oidc_audience_and_the_scheduler_account() -> None:
    env = pairs(flag_value(by_name()[SYNTHETIC_JOB.entry_point].command.args, "--set-env-vars"))
    assert env["OIDC_AUDIENCE"] == PROJECT.function_url(SYNTHETIC_JOB.entry_point)
    assert env["SCHEDULER_SERVICE_ACCOUNTS"] == PROJECT.account("scheduler")


def test_an_api_function_reads_the_callers_token_from_the_forwarded_header_only() -> None:
    """Behind API Gateway `Authorization` is the gateway's own token; jobs are called directly."""
    env = pairs(flag_value(by_name()["place_order"].command.args, "--set-env-vars"))
    job_env = pairs(flag_value(by_name()[SYNTHETIC_JOB.entry_point].command.args, "--set-env-vars"))
    assert (env.get("BEHIND_API_GATEWAY"), job_env.get("BEHIND_API_GATEWAY")) == ("true", None)


def test_the_order_path_keeps_one_warm_instance_and_reads_scale_to_zero() -> None:
    items = by_name()
    assert flag_value(items["place_order"].command.args, "--min-instances") == "1"
    for route in ROUTES:
        if route.entry_point != "place_order":
            assert flag_value(items[route.entry_point].command.args, "--min-instances") == "0"


def test_concurrency_above_one_always_has_a_whole_vcpu_and_matching_threads() -> None:
    for item in all_kinds_plan():
        args = item.command.args
        concurrency = int(flag_value(args, "--concurrency"))
        if concurrency > 1:
            assert float(flag_value(args, "--cpu")) >= 1
        assert pairs(flag_value(args, "--set-env-vars"))["THREADS"] == str(concurrency)
        assert item.sizing.reason


def test_max_instances_env_is_every_instance_that_shares_the_alpaca_key() -> None:
    items = all_kinds_plan()
    fleet = sum(int(flag_value(item.command.args, "--max-instances")) for item in items)
    for item in items:
        assert pairs(flag_value(item.command.args, "--set-env-vars"))["MAX_INSTANCES"] == str(fleet)


def test_secrets_are_mounted_at_pinned_versions_and_the_registry_only_for_routes() -> None:
    items = by_name()
    route_secrets = pairs(flag_value(items["get_account"].command.args, "--set-secrets"))
    assert route_secrets == {var: f"{SECRETS[var]}:{VERSIONS[var]}" for var in SECRETS}
    job_secrets = pairs(flag_value(items[SYNTHETIC_JOB.entry_point].command.args, "--set-secrets"))
    assert "GATEWAY_CALLERS" not in job_secrets
    assert all(not ref.endswith(":latest") for ref in route_secrets.values())


def test_latest_as_a_secret_version_is_refused(recorder: Recorder) -> None:
    shell, _ = recording_shell(recorder)
    with pytest.raises(SystemExit):
        deploy.main([*ARGS, "--alpaca-secret-key-version=latest"], shell, files=[])


def test_a_dry_run_prints_every_deploy_and_binding_and_no_secret_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALPACA_SECRET_KEY", "very-secret-value")
    deploy.main([*ARGS, "--dry-run"], files=[])
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name in entry_points():
        assert any(line.startswith(f"gcloud functions deploy {name} ") for line in lines)
        assert any(line.startswith(f"gcloud functions add-invoker-policy-binding {name} ") for line in lines)
    assert "very-secret-value" not in out
    assert "ALPACA_SECRET_KEY=alpaca-secret-key:1" in out


def test_only_deploys_the_one_named_function(recorder: Recorder) -> None:
    shell, _ = recording_shell(recorder)
    deploy.main([*ARGS, "--only", "cancel_order"], shell, files=[])
    assert [call[3] for call in recorder.ran("functions deploy")] == ["cancel_order"]


def test_only_with_an_unknown_name_is_refused(recorder: Recorder) -> None:
    shell, _ = recording_shell(recorder)
    with pytest.raises(SystemExit, match="not an entry point"):
        deploy.main([*ARGS, "--only", "no_such_function"], shell, files=[])
    assert recorder.ran("functions deploy") == []


def test_an_unchanged_function_is_not_redeployed_but_keeps_its_binding(recorder: Recorder) -> None:
    item = deploy.plan(deploy.Settings(PROJECT, {**VERSIONS, "ALPACA_SECRET_KEY": "1"}))[0]
    wanted = deploy.deploy_hash(deploy.upload_digest(deploy.ROOT, []), item.command)
    recorder.answers[f"gcloud functions describe {item.name} "] = described({deploy.HASH_LABEL: wanted})
    shell, out = recording_shell(recorder)
    deploy.main([*ARGS, "--only", item.name], shell, files=[])
    assert recorder.ran("functions deploy") == []
    assert len(recorder.ran("functions add-invoker-policy-binding")) == 1
    assert "unchanged" in out.getvalue()


def test_a_new_secret_version_redeploys_an_otherwise_unchanged_function(recorder: Recorder) -> None:
    item = deploy.plan(deploy.Settings(PROJECT, {**VERSIONS, "ALPACA_SECRET_KEY": "1"}))[0]
    old = deploy.deploy_hash(deploy.upload_digest(deploy.ROOT, []), item.command)
    recorder.answers[f"gcloud functions describe {item.name} "] = described({deploy.HASH_LABEL: old})
    shell, _ = recording_shell(recorder)
    deploy.main([*ARGS, "--alpaca-secret-key-version=2", "--only", item.name], shell, files=[])
    [call] = recorder.ran("functions deploy")
    assert f"--update-labels={deploy.HASH_LABEL}=" in " ".join(call)
    assert "ALPACA_SECRET_KEY=alpaca-secret-key:2" in " ".join(call)


def test_changed_code_changes_the_deploy_hash() -> None:
    item = deploy.plan(deploy.Settings(PROJECT, VERSIONS))[0]
    before = deploy.deploy_hash(deploy.upload_digest(deploy.ROOT, ["main.py"]), item.command)
    after = deploy.deploy_hash(
        deploy.upload_digest(deploy.ROOT, ["main.py", "requirements.txt"]), item.command
    )
    assert before != after
