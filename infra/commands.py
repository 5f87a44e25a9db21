"""gcloud commands as values, and the shell that runs them or, in a dry run, prints them."""

from __future__ import annotations

import shlex
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Gcloud:
    """One gcloud invocation: the command path (`functions deploy`) and its arguments."""

    path: tuple[str, ...]
    args: tuple[str, ...]

    @classmethod
    def of(cls, path: str, *args: str) -> Gcloud:
        return cls(tuple(path.split()), args)

    def argv(self) -> list[str]:
        return ["gcloud", *self.path, *self.args]

    def flags(self) -> set[str]:
        """The flag names used, `--memory=512Mi` giving `--memory`."""
        return {arg.split("=", 1)[0] for arg in self.args if arg.startswith("--")}

    def __str__(self) -> str:
        return shlex.join(self.argv())


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str = ""


# Runs a command; `capture` asks for stdout back (queries), otherwise output goes to the build log.
Executor = Callable[[Gcloud, bool], Result]


def subprocess_executor(command: Gcloud, capture: bool) -> Result:
    done = subprocess.run(command.argv(), capture_output=capture, text=True, check=False)
    return Result(done.returncode, done.stdout if capture else "")


class Shell:
    """Runs actions and queries. A dry run prints each action and answers every query as absent, so it
    prints the whole first deployment."""

    def __init__(
        self, dry_run: bool, executor: Executor = subprocess_executor, out: TextIO | None = None
    ) -> None:
        self.dry_run = dry_run
        self._execute = executor
        self._out = out or sys.stdout
        self._lock = threading.Lock()

    def say(self, line: str) -> None:
        with self._lock:
            print(line, file=self._out, flush=True)

    def run(self, command: Gcloud) -> None:
        """Execute an action (printed first); a failure raises."""
        self.say(str(command))
        if self.dry_run:
            return
        result = self._execute(command, False)
        if result.returncode != 0:
            raise RuntimeError(f"failed ({result.returncode}): {command}")

    def query(self, command: Gcloud) -> str | None:
        """Stdout of a read-only command, None when it fails (the resource does not exist)."""
        if self.dry_run:
            return None
        result = self._execute(command, True)
        return result.stdout if result.returncode == 0 else None

    def ensure(self, probe: Gcloud, create: Gcloud) -> None:
        """Create a resource unless `probe` (a describe) finds it: idempotent."""
        if self.query(probe) is None:
            self.run(create)
