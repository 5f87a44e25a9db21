"""A copy of exactly what gcloud uploads, installed from requirements.txt alone into a fresh virtual
environment, starts under functions-framework for every entry point and answers a request with JSON."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from functions.routes import BASE_PATH, Job, Page, Route, Trigger
from infra.deploy import Entry, table_entries, upload_files
from infra.stack import Service, free_port
from tests.support.env import DEV_TOKEN, GENEROUS_BUDGET, gateway_env

ROOT = Path(__file__).resolve().parents[2]
PATH_VALUES = {"order_id": str(uuid.UUID(int=0, version=4)), "symbol": "AAPL", "dead_letter_id": "0" * 32}
AT_ONCE = 4  # processes started together on two shared cores

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud lists the upload"),
]


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files gcloud would upload, copied and nothing else."""
    dest = tmp_path_factory.mktemp("upload")
    for name in upload_files(ROOT):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def fresh_venv(upload: Path) -> Path:
    venv = upload.parent / "fresh-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "-r",
        str(upload / "requirements.txt"),
    ]
    done = subprocess.run(pip, timeout=600, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return venv


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None


def call_for(entry: Entry) -> Call:
    """The entry point's own kind of request, with the dev token."""
    auth = {"Authorization": f"Bearer {DEV_TOKEN}"}
    if isinstance(entry, Route):
        path = BASE_PATH + entry.path.format(**{name: PATH_VALUES[name] for name in entry.params})
        body = {} if entry.method in {"POST", "PUT"} else None
        return Call(entry.method, path, auth, body)
    if isinstance(entry, Page):  # a built asset that is JSON: the upload carries the dashboard
        return Call("GET", f"{entry.path}/manifest.webmanifest", {})
    if isinstance(entry, Job):
        return Call("POST", "/", {**auth, "X-CloudScheduler-ScheduleTime": "2026-11-17T20:50:00Z"}, {})
    event = {"ce-id": "1", "ce-source": "test", "ce-type": entry.event_type, "ce-specversion": "1.0"}
    return Call("POST", "/", {**event, "ce-subject": "documents/audit/1"}, None)


def start(venv: Path, upload: Path, entry: Entry, env: dict[str, str]) -> Service:
    port = free_port()
    args = [
        str(venv / "bin" / "functions-framework"),
        f"--target={entry.entry_point}",
        "--source=main.py",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    process = subprocess.Popen(
        args,
        cwd=upload,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Service(entry.entry_point, f"http://127.0.0.1:{port}", process)


def answer(service: Service, call: Call, deadline_s: float = 60.0) -> httpx.Response:
    end = time.monotonic() + deadline_s
    while True:
        assert service.process.poll() is None, f"{service.name} exited with {service.process.returncode}"
        try:
            return httpx.request(
                call.method, service.url + call.path, headers=call.headers, json=call.json, timeout=20
            )
        except httpx.TransportError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def served(venv: Path, upload: Path, entry: Entry, env: dict[str, str]) -> tuple[str, int, Any]:
    service = start(venv, upload, entry, env)
    try:
        response = answer(service, call_for(entry))
        body = response.json() if response.content and not isinstance(entry, Trigger) else None
        return entry.entry_point, response.status_code, body
    finally:
        service.stop()


@pytest.fixture(scope="module")
def answers(
    fresh_venv: Path, upload: Path, firestore_emulator: str, sandbox_service: Service
) -> Iterator[dict[str, tuple[int, Any]]]:
    project = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        "PATH": f"{fresh_venv / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        **gateway_env(
            sandbox_service.url, firestore_emulator, project, RATE_LIMIT_PER_MINUTE=GENEROUS_BUDGET
        ),
    }
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        results = list(pool.map(lambda entry: served(fresh_venv, upload, entry, env), table_entries()))
    yield {name: (status, body) for name, status, body in results}


def test_every_entry_point_answers_from_the_fresh_install(answers: dict[str, tuple[int, Any]]) -> None:
    assert sorted(answers) == sorted(entry.entry_point for entry in table_entries())
    for entry in table_entries():
        status, body = answers[entry.entry_point]
        assert status < 500, (entry.entry_point, status, body)
        if not isinstance(entry, Trigger):
            assert isinstance(body, dict | list), (entry.entry_point, body)


def test_reads_without_parameters_are_served_from_the_fresh_install(
    answers: dict[str, tuple[int, Any]],
) -> None:
    """200, or the read's own 404 for a record that does not exist yet (today's flatten run)."""
    reads = [e for e in table_entries() if isinstance(e, Route) and e.method == "GET" and not e.params]
    assert reads
    for entry in reads:
        status, body = answers[entry.entry_point]
        assert status == 200 or (status == 404 and body["error"] != "route_not_found"), (entry, body)


def test_the_fresh_install_imports_nothing_from_the_repository(fresh_venv: Path, upload: Path) -> None:
    probe = "import main, functions, shared; print(main.__file__, functions.__file__, shared.__file__)"
    done = subprocess.run(
        [str(fresh_venv / "bin" / "python"), "-c", probe],
        cwd=upload,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(Path(p).is_relative_to(upload) for p in done.stdout.split())
