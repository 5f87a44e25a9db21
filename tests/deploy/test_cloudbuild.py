"""cloudbuild.yaml parses, its steps wait only for earlier ids, its substitutions are defined, and each
step calls an infra module with arguments that module accepts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import build, deploy, firestore, gateway

ROOT = Path(__file__).resolve().parents[2]
MODULE_STEPS = {
    "deploy": "infra.deploy",
    "firestore": "infra.firestore",
    "scheduler": "infra.scheduler",
    "gateway": "infra.gateway",
}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    return loaded


def steps(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in config["steps"]}


def test_cloudbuild_has_an_explicit_timeout_and_unique_step_ids(config: dict[str, Any]) -> None:
    assert re.fullmatch(r"\d+s", config["timeout"])
    ids = [step["id"] for step in config["steps"]]
    assert len(ids) == len(set(ids))
    assert set(MODULE_STEPS) | {"test"} <= set(ids)


def test_every_wait_for_names_an_earlier_step(config: dict[str, Any]) -> None:
    seen: set[str] = set()
    for step in config["steps"]:
        for waited in step.get("waitFor", []):
            assert waited == "-" or waited in seen, f"{step['id']} waits for {waited}"
        seen.add(step["id"])


def test_deploys_wait_for_the_tests_and_the_gateway_and_scheduler_for_the_deploy(
    config: dict[str, Any],
) -> None:
    by_id = steps(config)
    assert by_id["deploy"]["waitFor"] == ["test"]
    assert by_id["firestore"]["waitFor"] == ["test"]
    assert by_id["gateway"]["waitFor"] == ["deploy"]
    assert by_id["scheduler"]["waitFor"] == ["deploy"]


def test_the_test_step_lints_and_runs_the_whole_suite_where_the_emulator_exists(
    config: dict[str, Any],
) -> None:
    test = steps(config)["test"]
    assert "emulators" in test["name"]
    script = " ".join(test["args"])
    assert "make lint" in script and "make test" in script


def test_every_substitution_used_is_defined_and_make_deploy_sets_only_those(config: dict[str, Any]) -> None:
    text = (ROOT / "cloudbuild.yaml").read_text()
    used = set(re.findall(r"\$\{(_[A-Z0-9_]+)\}", text)) | set(re.findall(r"\$(_[A-Z0-9_]+)", text))
    defined = set(config["substitutions"])
    assert used <= defined
    submitted = build.submit(deploy.Project("p"), dict.fromkeys(deploy.SECRETS.values(), "1"), "https://x")
    sent = {
        pair.split("=", 1)[0]
        for arg in submitted.args
        if arg.startswith("--substitutions=")
        for pair in arg.split("=", 1)[1].split(",")
    }
    assert sent <= defined


def substituted(arg: str, config: dict[str, Any]) -> str:
    values = {"PROJECT_ID": "demo-project", **config["substitutions"]}
    return re.sub(r"\$\{?([A-Z_][A-Z0-9_]*)\}?", lambda m: str(values[m.group(1)]), arg)


def step_args(config: dict[str, Any], step_id: str) -> list[str]:
    step = steps(config)[step_id]
    assert step["entrypoint"] == "/workspace/.venv/bin/python"
    assert "CLOUDSDK_CORE_DISABLE_PROMPTS=1" in step["env"]  # gcloud must never wait for an answer
    args = [substituted(arg, config) for arg in step["args"]]
    assert args[:2] == ["-m", MODULE_STEPS[step_id]] and "--project=demo-project" in args
    return args[2:]


def test_the_deploy_firestore_and_gateway_steps_dry_run_with_their_arguments(
    config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy.main([*step_args(config, "deploy"), "--dry-run"], files=[]) == 0
    assert firestore.main([*step_args(config, "firestore"), "--dry-run"]) == 0
    assert gateway.main([*step_args(config, "gateway"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "gcloud functions deploy place_order " in out
    assert "gcloud api-gateway gateways create " in out
    assert "gcloud firestore fields ttls update " in out


def test_the_scheduler_step_dry_runs_with_its_arguments(config: dict[str, Any]) -> None:
    args = step_args(config, "scheduler")
    subprocess.run(
        [sys.executable, "-m", "infra.scheduler", *args, "--dry-run"], cwd=ROOT, check=True, timeout=120
    )
