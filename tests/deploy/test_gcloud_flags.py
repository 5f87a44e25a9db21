"""Every flag of every generated gcloud command exists in the installed gcloud, as its `--help` says
(offline; each command's help is read once per session, a few at a time)."""

from __future__ import annotations

import functools
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infra import bootstrap, build, deploy, firestore, gateway
from infra.commands import Gcloud, Shell
from tests.deploy.conftest import PROJECT, Recorder, all_kinds_plan, recording_shell

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FLAG = re.compile(r"--(\[no-\])?([a-z][a-z0-9-]*)")
SYNTHETIC_INDEX = {
    "collectionGroup": "orders",
    "queryScope": "COLLECTION",
    "fields": [
        {"fieldPath": "state", "order": "ASCENDING"},
        {"fieldPath": "requested_at", "order": "DESCENDING"},
    ],
}

pytestmark = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")


@functools.cache
def help_text(path: tuple[str, ...]) -> str | None:
    """`gcloud <path> --help` without its examples, None when gcloud has no such command."""
    done = subprocess.run(
        ["gcloud", *path, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        return None
    text = ANSI.sub("", done.stdout)
    return re.sub(r"\nEXAMPLES\n.*?(?=\n[A-Z][A-Z ]+\n)", "\n", text, flags=re.S)


def known_flags(path: tuple[str, ...]) -> set[str]:
    text = help_text(path)
    assert text is not None, f"gcloud {' '.join(path)} does not exist in the installed gcloud"
    flags = set()
    for negatable, name in FLAG.findall(text):
        flags.add(f"--{name}")
        if negatable:
            flags.add(f"--no-{name}")
    return flags


def generated(spec: Path) -> list[Gcloud]:
    """Every command our generators run or query, for every kind of entry point."""
    recorder = Recorder()
    shell, _ = recording_shell(recorder)
    for item in all_kinds_plan():
        deploy.apply(shell, PROJECT, item, "digest", force=False)
    gateway.rollout(shell, PROJECT, gateway.document(PROJECT), spec)
    recorder.answers["gcloud api-gateway gateways describe"] = "{}"
    gateway.rollout(shell, PROJECT, gateway.document(PROJECT), spec)
    bootstrap.commands(shell, PROJECT)
    firestore.apply(shell, PROJECT, {**firestore.load(), "indexes": [SYNTHETIC_INDEX]})
    build.main(["--project", PROJECT.id], Shell(False, recorder))
    return recorder.commands


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> list[Gcloud]:
    found = generated(tmp_path_factory.mktemp("gateway") / "gateway.json")
    paths = {command.path for command in found}
    with ThreadPoolExecutor(max_workers=4) as pool:  # warm the cache: each help takes about 2 s
        list(pool.map(help_text, paths))
    return found


def check(commands: Iterable[Gcloud]) -> None:
    for command in commands:
        unknown = command.flags() - known_flags(command.path)
        assert not unknown, f"gcloud {' '.join(command.path)} has no {sorted(unknown)}"


def test_every_flag_of_the_generated_commands_exists_in_gcloud(commands: list[Gcloud]) -> None:
    check(commands)


def test_the_generated_commands_cover_every_kind_of_resource(commands: list[Gcloud]) -> None:
    paths = {" ".join(command.path) for command in commands}
    assert {
        "functions deploy",
        "functions add-invoker-policy-binding",
        "api-gateway api-configs create",
        "api-gateway gateways update",
        "firestore fields ttls update",
        "firestore indexes composite create",
        "firestore databases create",
        "iam service-accounts create",
        "secrets create",
        "builds submit",
    } <= paths


def as_command(line: str) -> Gcloud:
    """A printed gcloud line as a command: the longest leading run of words that gcloud knows."""
    words = shlex.split(line)[1:]
    lead = next((i for i, word in enumerate(words) if word.startswith("-")), len(words))
    for end in range(lead, 0, -1):
        if help_text(tuple(words[:end])) is not None:
            return Gcloud(tuple(words[:end]), tuple(words[end:]))
    raise AssertionError(f"not a gcloud command: {line}")
