"""The layout's rules (design §2): the deploy index exports exactly the route tables' entry points, the
engine knows neither Flask nor the environment (only shared/config.py reads it), every error is whole."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import main
import shared
from functions.routes import entry_points
from shared.errors import GatewayError

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "shared"
CONFIG = SHARED / "config.py"
ENVIRONMENT_READERS = frozenset({"environ", "environb", "getenv", "getenvb"})
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def engine_modules() -> list[Path]:
    return sorted(SHARED.rglob("*.py"))


def flask_imports(tree: ast.AST) -> list[int]:
    """Lines that import flask or one of its modules."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "flask" or name.startswith("flask.") for name in names):
            lines.append(node.lineno)
    return lines


def environment_reads(tree: ast.AST) -> list[int]:
    """Lines that touch os.environ or os.getenv, through `import os` (any alias) or `from os import`."""
    os_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "os"
    }
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in ENVIRONMENT_READERS for alias in node.names):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
            and node.attr in ENVIRONMENT_READERS
        ):
            lines.append(node.lineno)
    return lines


def error_classes() -> list[type[GatewayError]]:
    """GatewayError and every subclass defined anywhere in the engine (each module imported first)."""
    for module in pkgutil.walk_packages(shared.__path__, "shared."):
        importlib.import_module(module.name)
    found: list[type[GatewayError]] = []
    pending: list[type[GatewayError]] = [GatewayError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_deploy_index_exports_exactly_the_entry_points_of_the_route_tables() -> None:
    """main.__all__ lists each entry point of ROUTES, JOBS and TRIGGERS once, and main defines each."""
    assert sorted(main.__all__) == entry_points()
    assert len(set(main.__all__)) == len(main.__all__)
    assert all(callable(getattr(main, name)) for name in main.__all__)


def test_the_engine_never_imports_flask() -> None:
    """Only functions/ (and the deploy index) know Flask; shared/ is the framework-free engine."""
    found = {
        str(path.relative_to(ROOT)): lines
        for path in engine_modules()
        if (lines := flask_imports(ast.parse(path.read_text(), str(path))))
    }
    assert found == {}


def test_only_the_config_module_reads_the_environment() -> None:
    """Settings are read once, by shared/config.py, and passed in everywhere else."""
    found = {
        str(path.relative_to(ROOT)): lines
        for path in engine_modules()
        if path != CONFIG and (lines := environment_reads(ast.parse(path.read_text(), str(path))))
    }
    assert found == {}
    assert environment_reads(ast.parse(CONFIG.read_text())), "shared/config.py is the reader"


def test_the_environment_check_sees_every_way_of_reading_it() -> None:
    """The walker itself: aliases, `from os import` and getenv are all caught, other os use is not."""
    source = "import os as o\nfrom os import getenv\nx = o.environ['A']\ny = o.path.join('a')\n"
    assert environment_reads(ast.parse(source)) == [2, 3]
    assert flask_imports(ast.parse("import flask.json\nfrom flask import Flask\nimport flaskish\n")) == [1, 2]


@pytest.mark.parametrize("cls", error_classes(), ids=lambda cls: cls.__qualname__)
def test_every_error_has_an_http_status_and_a_snake_case_reason(cls: type[GatewayError]) -> None:
    """Each class of the error tree answers with an HTTP error status and a stable snake_case reason."""
    assert type(cls.status) is int and 400 <= cls.status <= 599
    assert isinstance(cls.default_reason, str) and SNAKE_CASE.fullmatch(cls.default_reason)
