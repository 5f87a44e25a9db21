"""What `gcloud functions deploy --source=.` uploads (gcloud's own listing, through .gcloudignore):
main.py, requirements.txt, functions/ and shared/, and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.deploy import upload_files

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("functions/", "shared/")
NEVER = ("tests/", "sandbox/", "bench/", "infra/", "examples/", "dashboard/", ".venv", "build/", ".git/")

pytestmark = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")


@pytest.fixture(scope="module")
def uploaded() -> list[str]:
    return upload_files(ROOT)


def test_the_upload_holds_main_requirements_functions_and_shared(uploaded: list[str]) -> None:
    assert {"main.py", "requirements.txt"} <= set(uploaded)
    for package in RUNTIME:
        assert f"{package}__init__.py" in uploaded


def test_the_upload_holds_every_module_of_functions_and_shared(uploaded: list[str]) -> None:
    sources = {
        path.relative_to(ROOT).as_posix()
        for package in RUNTIME
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources <= set(uploaded)


def test_the_upload_leaves_out_tests_tools_and_local_state(uploaded: list[str]) -> None:
    assert [name for name in uploaded if name.startswith(NEVER)] == []
    assert [
        name
        for name in uploaded
        if name not in {"main.py", "requirements.txt"} and not name.startswith(RUNTIME)
    ] == []
    assert [name for name in uploaded if "__pycache__" in name or name.endswith(".pyc")] == []
