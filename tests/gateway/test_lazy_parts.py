"""An instance loads only what its own entry point needs: main.py imports an entry point's module when it
is asked for, the route table names models without importing them, and the gateway builds each use case
on its first use, once, however many threads ask at the same time."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from shared.app import wire
from shared.config import Settings
from shared.gateway import Gateway
from tests.support.env import DEV_TOKEN
from tests.support.firestore import unreachable_client

ROOT = Path(__file__).resolve().parents[2]
# Modules of use cases get_account never calls.
NOT_FOR_READS = (
    "shared.orders.desk",
    "shared.orders.sync",
    "shared.eod.procedure",
    "shared.notify.center",
    "shared.analytics.report",
    "shared.risk.store",
)


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after `import main` and `code`."""
    probe = f"import json, sys, main\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


@pytest.fixture
def gateway() -> Gateway:
    """A gateway over real parts whose Firestore is unreachable: building a part sends nothing."""
    # The dev token needs an emulator named; the client built on it is the injected, unreachable one.
    env = {
        "GATEWAY_DEV_TOKEN": DEV_TOKEN,
        "GOOGLE_CLOUD_PROJECT": "lazy",
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:9",
    }
    db = unreachable_client("lazy")
    return wire(Settings.from_mapping(env), db=db).gateway


def test_serving_get_account_loads_no_order_eod_notify_or_analytics_module() -> None:
    """functions-framework looks up the one entry point it serves; the others' modules stay unloaded."""
    loaded = loaded_after("main.get_account")
    assert "functions.account" in loaded
    assert loaded.isdisjoint(NOT_FOR_READS)


def test_loading_main_imports_no_entry_point_module() -> None:
    """Until an entry point is asked for, main.py has imported none of functions/ entry modules."""
    loaded = loaded_after("")
    assert loaded.isdisjoint({"functions.account", "functions.orders", "functions.eod", "functions.events"})


def test_an_unknown_name_is_not_an_attribute_of_main() -> None:
    import main

    with pytest.raises(AttributeError, match="no_such_entry_point"):
        main.no_such_entry_point  # noqa: B018


def test_the_route_table_resolves_each_model_it_names() -> None:
    """Every route's models import and are pydantic models (a misspelt name fails here, not in prod)."""
    from functions.routes import ROUTES

    resolved: list[Any] = []
    for route in ROUTES:
        resolved += [route.query_model, route.body_model, route.response_model]
    assert all(hasattr(model, "model_validate") for model in resolved if model is not None)


def test_a_part_asked_for_by_many_threads_at_once_is_built_once(gateway: Gateway) -> None:
    """Sixteen threads asking for the order desk of a fresh gateway all get the same desk."""
    start = threading.Barrier(16)
    desks: list[object] = []

    def ask() -> None:
        start.wait()
        desks.append(gateway.desk)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(desks) == 16 and len({id(desk) for desk in desks}) == 1


def test_use_cases_share_the_parts_they_are_built_over(gateway: Gateway) -> None:
    """The desk, the exits and the flatten see one risk store, the one `gateway.risk` returns."""
    risk = gateway.risk
    assert gateway.desk._risk is risk
    assert gateway.exits._risk is risk
    assert gateway.flatten._risk is risk


def test_a_gateway_builds_nothing_it_was_not_asked_for(gateway: Gateway) -> None:
    assert gateway.account is not None
    assert "account" in vars(gateway) and "desk" not in vars(gateway) and "risk" not in vars(gateway)


def test_a_risk_store_first_asked_for_after_close_starts_no_listener(gateway: Gateway) -> None:
    """A replaced gateway leaves nothing running, even for a part a late request builds after it."""
    gateway.close()
    assert gateway.risk._listen is False
