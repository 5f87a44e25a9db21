"""infra/gateway.py: the API Gateway config is valid OpenAPI 2.0, serves every route under /api/alpaca
at its own function, and rolls out as a new content-named config before the gateway moves to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, validate

from functions.routes import BASE_PATH, PAGES, ROUTES, Route
from infra import gateway
from shared.auth.callers import Scope
from tests.deploy.conftest import PROJECT, Recorder, recording_shell


@pytest.fixture
def doc() -> dict[str, object]:
    return gateway.document(PROJECT)


def test_the_gateway_config_validates_as_openapi_2(doc: dict[str, object]) -> None:
    validate(doc, cls=OpenAPIV2SpecValidator)
    assert doc["swagger"] == "2.0"


def test_every_route_is_served_under_the_base_path_with_its_method_and_function(
    doc: dict[str, object],
) -> None:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    for route in ROUTES:
        op = paths[BASE_PATH + route.path][route.method.lower()]
        assert op["operationId"] == route.entry_point
        url = PROJECT.function_url(route.entry_point)
        assert op["x-google-backend"] == {
            "address": url,
            "path_translation": "APPEND_PATH_TO_ADDRESS",
            "jwt_audience": url,
            "deadline": gateway.BACKEND_DEADLINE_S,
        }
        declared = [(p["name"], p["in"], p["required"]) for p in op.get("parameters", [])]
        assert declared == [(name, "path", True) for name in route.params]
    operations = {
        (path, method)
        for path, item in paths.items()
        for method in item
        if method != "options" and path.startswith(BASE_PATH)
    }
    assert operations == {(BASE_PATH + r.path, r.method.lower()) for r in ROUTES}


def test_every_path_answers_cors_preflights_through_one_of_its_functions(doc: dict[str, object]) -> None:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    for path, item in paths.items():
        if not path.startswith(BASE_PATH):
            continue  # a page's own calls are same-origin: no preflight
        address = item["options"]["x-google-backend"]["address"]
        assert address in {item[m]["x-google-backend"]["address"] for m in item if m != "options"}, path


def test_the_config_id_carries_the_prefix_and_changes_with_the_content(doc: dict[str, object]) -> None:
    config = gateway.config_id(doc)
    assert config.startswith(gateway.CONFIG_PREFIX + "-") and len(config) <= 63
    assert gateway.config_id(gateway.document(PROJECT)) == config
    extra = Route("GET", "/extra", "get_extra", Scope.READ, "one more route")
    assert gateway.config_id(gateway.document(PROJECT, (*ROUTES, extra))) != config


def test_a_first_rollout_creates_the_config_then_the_gateway(recorder: Recorder, tmp_path: Path) -> None:
    shell, _ = recording_shell(recorder)
    doc = gateway.document(PROJECT)
    config = gateway.rollout(shell, PROJECT, doc, tmp_path / "gateway.json")
    actions = [" ".join(c[1:4]) for c in recorder.calls if "describe" not in c]
    assert actions == ["api-gateway api-configs create", "api-gateway gateways create"]
    [create] = recorder.ran("api-gateway api-configs create")
    assert create[4] == config
    assert f"--backend-auth-service-account={PROJECT.account('gateway')}" in create
    assert json.loads((tmp_path / "gateway.json").read_text()) == doc


def test_a_new_config_is_created_before_the_running_gateway_is_updated(
    recorder: Recorder, tmp_path: Path
) -> None:
    recorder.answers["gcloud api-gateway gateways describe"] = json.dumps(
        {"apiConfig": f"projects/p/locations/global/apis/{gateway.API_ID}/configs/alpaca-000000000000"}
    )
    shell, _ = recording_shell(recorder)
    gateway.rollout(shell, PROJECT, gateway.document(PROJECT), tmp_path / "gateway.json")
    actions = [" ".join(c[1:4]) for c in recorder.calls if "describe" not in c]
    assert actions == ["api-gateway api-configs create", "api-gateway gateways update"]


def test_an_unchanged_config_changes_nothing(recorder: Recorder, tmp_path: Path) -> None:
    doc = gateway.document(PROJECT)
    config = gateway.config_id(doc)
    recorder.answers["gcloud api-gateway api-configs describe"] = "{}"
    recorder.answers["gcloud api-gateway gateways describe"] = json.dumps(
        {"apiConfig": f"projects/p/locations/global/apis/{gateway.API_ID}/configs/{config}"}
    )
    shell, _ = recording_shell(recorder)
    gateway.rollout(shell, PROJECT, doc, tmp_path / "gateway.json")
    assert [c for c in recorder.calls if "describe" not in c] == []


def test_the_dashboard_is_served_at_app_by_its_own_function_and_nothing_else_outside_the_api(
    doc: dict[str, object],
) -> None:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    outside = {path for path in paths if not path.startswith(BASE_PATH)}
    assert outside == {path for page in PAGES for path in page.paths} == {"/app", "/app/", "/app/{asset}"}
    for path in outside:
        assert list(paths[path]) == ["get"]
        backend = paths[path]["get"]["x-google-backend"]
        assert backend["address"] == PROJECT.function_url("dashboard")
        assert backend["path_translation"] == "APPEND_PATH_TO_ADDRESS"
