"""What an SDK user does: generate a Python client from the served OpenAPI document with
openapi-python-client, import it, and drive the seed's workflow through it against the real local server
(sandbox frozen in trading hours, dev token).

Generation is local and offline: the document is the one the server serves, written to a pytest tmp directory
with the generator's config; the package is generated there (never into the repository) and imported from
there. The generator's post-hooks are ruff (the venv's, `--isolated` so no outside config is read, and
`--no-cache`), which needs no network. Every call must answer 200 with a parsed model of the generated type
whose values are the gateway's answer, field for field (a field the document does not declare would be lost
by the model, and is a failure too). A generated model that cannot parse a real answer names the operation,
the answer and the error.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.contract.conftest import LocalServer
from tests.gateway.conftest import DEV_TOKEN, TRADING_NOW

PACKAGE = "execution_engine_api_client"
GENERATION_TIMEOUT_S = 30.0  # about 3 s (ruff's hooks included) on the 2-core development machine
# Per test, its fixtures included: the first test starts the stack (the emulator, when it is not up yet, the
# sandbox and the server) and runs the generator; the module takes 15 to 30 s.
pytestmark = pytest.mark.timeout(60)

SEED_ORDER = {"symbol": "AAPL", "qty": "10", "side": "buy", "type": "market", "time_in_force": "day"}
GENERATOR_CONFIG: dict[str, Any] = {
    "package_name_override": PACKAGE,
    "post_hooks": [
        "ruff check . --fix-only --extend-select=I --isolated --no-cache",
        "ruff format . --isolated --no-cache",
    ],
}
# What openapi-python-client prints for a part of the document it could not turn into code (or a post-hook
# it skipped or that failed); on success it prints only "Generating <path>".
GENERATOR_PROBLEMS = re.compile(
    r"unable to (parse|process)|cannot parse|could not|will be omitted|has resulted in the removal"
    r"|warning|error|skipping integration|failed|not in path",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Generation:
    returncode: int
    output: str  # stdout and stderr, interleaved
    package_dir: Path


@pytest.fixture(scope="module")
def generation(served_document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Generation:
    """`openapi-python-client generate` on the served document, in a tmp directory, offline."""
    root = tmp_path_factory.mktemp("generated-client")
    document = root / "openapi.json"
    document.write_text(json.dumps(served_document, indent=2))
    config = root / "openapi-python-client.json"
    config.write_text(json.dumps(GENERATOR_CONFIG))
    package_dir = root / "src" / PACKAGE
    # The post-hooks run `ruff` from PATH: the venv's own, next to this interpreter.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document)]
    command += ["--meta", "none", "--config", str(config), "--output-path", str(package_dir)]
    command += ["--fail-on-warning"]
    result = subprocess.run(
        command,
        cwd=root,
        env={**os.environ, "PATH": path, "NO_COLOR": "1", "TERM": "dumb"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=GENERATION_TIMEOUT_S,
        check=False,
    )
    return Generation(result.returncode, result.stdout, package_dir)


@pytest.fixture(scope="module")
def client_package(generation: Generation) -> Iterator[ModuleType]:
    """The generated package, imported from its tmp directory (and forgotten again afterwards)."""
    assert (generation.package_dir / "__init__.py").is_file(), f"no client generated:\n{generation.output}"
    assert PACKAGE not in sys.modules, f"{PACKAGE} is already imported from elsewhere"
    search_path = str(generation.package_dir.parent)
    sys.path.insert(0, search_path)
    importlib.invalidate_caches()
    try:
        package = importlib.import_module(PACKAGE)
        assert Path(package.__file__ or "").parent == generation.package_dir, package.__file__
        yield package
    finally:
        sys.path.remove(search_path)
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def generated(name: str) -> Any:
    """A module of the generated package: `api.default.get_clock`, `models`, `types`."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generation_reports_no_problem(generation: Generation) -> None:
    lines = [line for line in generation.output.splitlines() if not line.startswith("Generating ")]
    problems = [line for line in lines if GENERATOR_PROBLEMS.search(line)]
    assert generation.returncode == 0 and not problems, (
        f"openapi-python-client exited {generation.returncode}; it reports:\n"
        + "\n".join(problems)
        + f"\n\nits whole output:\n{generation.output}"
    )


class GatewayCalls:
    """Calls through the generated client; each answer's raw body is kept, to name it when parsing fails."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.answers: list[httpx.Response] = []

    def keep(self, response: httpx.Response) -> None:
        response.read()
        self.answers.append(response)

    def call(self, operation: str, endpoint: ModuleType, **kwargs: Any) -> tuple[Any, Any]:
        """The parsed model of a 200 answer, and the answer's JSON as the gateway sent it."""
        self.answers.clear()
        try:
            response = endpoint.sync_detailed(client=self.client, **kwargs)
        except Exception as error:
            raw = self.answers[-1] if self.answers else None
            answer = f"{raw.status_code} {raw.text}" if raw is not None else "no answer"
            pytest.fail(f"{operation}: the generated client failed on the answer {answer}\nerror: {error!r}")
        body = json.loads(response.content)
        assert response.status_code == 200, f"{operation}: {response.status_code} {body}"
        assert response.parsed is not None, f"{operation}: answer not parsed: {body}"
        return response.parsed, body


@pytest.fixture
def calls(client_package: ModuleType, local_server: LocalServer) -> Iterator[GatewayCalls]:
    calls = GatewayCalls(None)
    client = client_package.AuthenticatedClient(
        base_url=local_server.url,  # the document's paths carry /api/alpaca
        token=DEV_TOKEN,
        timeout=httpx.Timeout(20.0),
        raise_on_unexpected_status=True,
        httpx_args={"event_hooks": {"response": [calls.keep]}},
    )
    calls.client = client
    with client:
        yield calls


def same_value(parsed: Any, sent: Any) -> bool:
    """A value re-serialised by a generated model against the one the gateway sent: equal, or the same
    instant written differently (`Z` against `+00:00`, trailing zeros of the fraction)."""
    if parsed == sent:
        return True
    if isinstance(parsed, str) and isinstance(sent, str):
        try:
            return datetime.fromisoformat(parsed) == datetime.fromisoformat(sent)
        except ValueError:
            return False
    if isinstance(parsed, dict) and isinstance(sent, dict):
        return parsed.keys() == sent.keys() and all(same_value(parsed[k], sent[k]) for k in sent)
    if isinstance(parsed, list) and isinstance(sent, list):
        return len(parsed) == len(sent) and all(map(same_value, parsed, sent))
    return False


def assert_model(operation: str, parsed: Any, body: Any, model: type) -> None:
    """`parsed` is an instance of the generated `model` (not a dict) holding exactly what the gateway sent."""
    assert type(parsed) is model, f"{operation}: {type(parsed)!r} is not the generated {model!r}"
    dumped = parsed.to_dict()
    assert same_value(dumped, body), (
        f"{operation}: the {model.__name__} model does not hold the gateway's answer\n"
        f"missing from the model: {sorted(body.keys() - dumped.keys())}\n"
        f"answer: {body}\nmodel:  {dumped}"
    )


def test_seed_workflow_through_the_generated_client(calls: GatewayCalls) -> None:
    api = "api.default."
    models = generated("models")

    clock, body = calls.call("GET /clock", generated(api + "get_clock"))
    assert_model("GET /clock", clock, body, models.MarketClock)
    assert clock.is_open is True
    assert clock.timestamp == datetime.fromisoformat(TRADING_NOW)  # a datetime, parsed from the format

    account, body = calls.call("GET /account", generated(api + "get_account"))
    assert_model("GET /account", account, body, models.Account)
    assert Decimal(account.buying_power) > 0 and account.status == body["status"]

    request = models.OrderRequest(
        symbol="AAPL",
        qty="10",
        side=models.Side.BUY,
        type_=models.OrderType.MARKET,
        time_in_force=models.TimeInForce.DAY,
    )
    assert {**request.to_dict(), "extended_hours": False} == {**SEED_ORDER, "extended_hours": False}
    order, body = calls.call("POST /orders", generated(api + "place_order"), body=request)
    assert_model("POST /orders", order, body, models.Order)
    assert (order.symbol, order.qty, order.side, order.type_) == ("AAPL", "10", "buy", "market")
    assert order.status == "filled", body  # a marketable order fills within the request (README)

    orders, body = calls.call(
        "GET /orders?status=all", generated(api + "list_orders"), status=models.ListOrdersStatus.ALL
    )
    assert isinstance(orders, list) and isinstance(body, list) and len(orders) == len(body)
    for item, sent in zip(orders, body, strict=True):
        assert_model("GET /orders?status=all", item, sent, models.Order)
    assert [o.id for o in orders if o.id == order.id] == [order.id]

    positions, body = calls.call("GET /positions", generated(api + "list_positions"))
    assert isinstance(positions, list) and len(positions) == len(body) == 1, body
    assert_model("GET /positions", positions[0], body[0], models.Position)
    assert (positions[0].symbol, positions[0].qty, positions[0].side) == ("AAPL", "10", "long")

    closed, body = calls.call("POST /positions/AAPL/close", generated(api + "close_position"), symbol="AAPL")
    assert_model("POST /positions/AAPL/close", closed, body, models.ClosePositionResult)
    assert (closed.symbol, closed.side, closed.quantity) == ("AAPL", "sell", "10"), body

    positions, body = calls.call("GET /positions", generated(api + "list_positions"))
    assert positions == [] == body
