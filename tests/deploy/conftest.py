"""Deploy tests: a recording gcloud stand-in (no cloud is ever called) and the commands generated."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from functions.routes import Job, Trigger
from infra import deploy
from infra.commands import Gcloud, Result, Shell
from infra.project import Project

PROJECT = Project("demo-project")
VERSIONS = {"ALPACA_API_KEY": "3", "ALPACA_SECRET_KEY": "3", "GATEWAY_CALLERS": "7"}
# Table entries that may not exist yet, so every kind of entry point is generated and checked.
SYNTHETIC_JOB = Job("synthetic_job", "*/5 15-16 * * 1-5", "a scheduled entry point")
SYNTHETIC_TRIGGER = Trigger(
    "synthetic_trigger", "audit/{id}", "google.cloud.firestore.document.v1.created", "an event entry point"
)


@dataclass
class Recorder:
    """Stands in for gcloud: records every command; queries answer from `answers` (by a prefix of the
    command line), else fail as for an absent resource."""

    answers: dict[str, str] = field(default_factory=dict)
    commands: list[Gcloud] = field(default_factory=list)

    @property
    def calls(self) -> list[list[str]]:
        return [command.argv() for command in self.commands]

    def __call__(self, command: Gcloud, capture: bool) -> Result:
        self.commands.append(command)
        if not capture:
            return Result(0)
        line = str(command)
        for prefix, answer in self.answers.items():
            if line.startswith(prefix):
                return Result(0, answer)
        return Result(1)

    def ran(self, path: str) -> list[list[str]]:
        """The calls of one command path, e.g. `functions deploy`."""
        words = ["gcloud", *path.split()]
        return [call for call in self.calls if call[: len(words)] == words]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def recording_shell(recorder: Recorder) -> tuple[Shell, io.StringIO]:
    out = io.StringIO()
    return Shell(False, recorder, out), out


def described(labels: dict[str, str]) -> str:
    return json.dumps({"name": "f", "labels": labels})


def all_kinds_plan() -> list[deploy.Deployment]:
    """The real tables plus a synthetic job and trigger."""
    entries = deploy.table_entries(
        jobs=(*deploy.JOBS, SYNTHETIC_JOB), triggers=(*deploy.TRIGGERS, SYNTHETIC_TRIGGER)
    )
    return deploy.plan(deploy.Settings(PROJECT, VERSIONS), entries)


def flag_value(args: Sequence[str], flag: str) -> str:
    values = [arg.split("=", 1)[1] for arg in args if arg.startswith(flag + "=")]
    assert len(values) == 1, f"{flag} given {len(values)} times in {args}"
    return values[0]


def pairs(value: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in value.split(","))
