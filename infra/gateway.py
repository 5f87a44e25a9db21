"""The API Gateway config (OpenAPI 2.0) generated from ROUTES and PAGES, and the commands that roll it out.

Every route is served under /api/alpaca by its own function; the path is appended to the function's
URL, so a signature over the public path still holds. The dashboard's page is served at /app/ by its
function on the same origin, so the page's API calls are same-origin.
`python -m infra.gateway --project P [--dry-run]`."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from functions.routes import BASE_PATH, PAGES, ROUTES, Page, Route
from infra.commands import Gcloud, Shell
from infra.project import API_ID, GATEWAY_ID, REGION, Project

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "build" / "gateway.json"
CONFIG_PREFIX = "alpaca"
BACKEND_DEADLINE_S = 30.0  # the functions' own timeout


def backend(project: Project, entry: Route | Page) -> dict[str, Any]:
    """Where API Gateway sends the route: its function, called with the gateway's ID token for that
    function's URL; the caller's own Authorization arrives as X-Forwarded-Authorization."""
    url = project.function_url(entry.entry_point)
    return {
        "address": url,
        "path_translation": "APPEND_PATH_TO_ADDRESS",
        "jwt_audience": url,
        "deadline": BACKEND_DEADLINE_S,
    }


def operation(project: Project, route: Route) -> dict[str, Any]:
    params = [{"name": name, "in": "path", "required": True, "type": "string"} for name in route.params]
    op: dict[str, Any] = {
        "operationId": route.entry_point,
        "summary": route.summary,
        "x-google-backend": backend(project, route),
        "responses": {
            "200": {"description": "JSON, as in openapi.json"},
            "default": {"description": "error"},
        },
    }
    if params:
        op["parameters"] = params
    return op


def page_operations(project: Project, page: Page) -> dict[str, dict[str, Any]]:
    """GET of the page and of each file below it (the function answers only the names it knows)."""
    operations: dict[str, dict[str, Any]] = {}
    for number, path in enumerate(page.paths):
        op: dict[str, Any] = {
            "operationId": f"{page.entry_point}_{number}" if number else page.entry_point,
            "summary": page.summary,
            "x-google-backend": backend(project, page),
            "produces": ["text/html", "*/*"],
            "responses": {
                "200": {"description": "the page or one of its files"},
                "default": {"description": "error"},
            },
        }
        if "{asset}" in path:
            op["parameters"] = [{"name": "asset", "in": "path", "required": True, "type": "string"}]
        operations[path] = {"get": op}
    return operations


def document(
    project: Project, routes: Sequence[Route] = ROUTES, pages: Sequence[Page] = PAGES
) -> dict[str, Any]:
    """The OpenAPI 2.0 document: one operation per route, plus a CORS preflight per path, answered by
    the path's first function (API Gateway passes OPTIONS on only when it is declared). That function's
    preflight names its own method; a path with two methods needs it to name both."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        item = paths.setdefault(BASE_PATH + route.path, {})
        item[route.method.lower()] = operation(project, route)
    for path, item in paths.items():
        first = next(r for r in routes if BASE_PATH + r.path == path)
        preflight = operation(project, first)
        preflight["operationId"] = f"{first.entry_point}_preflight"
        preflight["summary"] = "CORS preflight"
        item["options"] = preflight
    for page in pages:  # same-origin pages need no preflight
        paths.update(page_operations(project, page))
    return {
        "swagger": "2.0",
        "info": {"title": "Execution Engine", "version": "1.0.0"},
        "schemes": ["https"],
        "produces": ["application/json"],
        "paths": paths,
    }


def canonical(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, indent=2) + "\n"


def config_id(doc: dict[str, Any], prefix: str = CONFIG_PREFIX) -> str:
    """A config id that names its content: a changed document is a new config, created before the
    gateway is pointed at it (configs are immutable)."""
    return f"{prefix}-{hashlib.sha256(canonical(doc).encode()).hexdigest()[:12]}"


def rollout(shell: Shell, project: Project, doc: dict[str, Any], spec_path: Path = SPEC_PATH) -> str:
    """Create the config unless it exists, then point the gateway at it (create it the first time)."""
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(canonical(doc))
    config = config_id(doc)
    where = (f"--project={project.id}",)
    shell.ensure(
        Gcloud.of("api-gateway api-configs describe", config, f"--api={API_ID}", *where),
        Gcloud.of(
            "api-gateway api-configs create",
            config,
            f"--api={API_ID}",
            f"--openapi-spec={spec_path.relative_to(ROOT) if spec_path.is_relative_to(ROOT) else spec_path}",
            f"--backend-auth-service-account={project.account('gateway')}",
            *where,
        ),
    )
    at = (f"--location={project.region}", *where)
    target = (f"--api={API_ID}", f"--api-config={config}")
    current = shell.query(Gcloud.of("api-gateway gateways describe", GATEWAY_ID, *at, "--format=json"))
    if current is None:
        shell.run(Gcloud.of("api-gateway gateways create", GATEWAY_ID, *target, *at))
    elif not re.search(rf"/configs/{re.escape(config)}\"", current):
        shell.run(Gcloud.of("api-gateway gateways update", GATEWAY_ID, *target, *at))
    else:
        shell.say(f"# {GATEWAY_ID} already serves {config}")
    return config


def main(argv: Sequence[str] | None = None, shell: Shell | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m infra.gateway", description=__doc__)
    p.add_argument("--project", required=True)
    p.add_argument("--region", default=REGION)
    p.add_argument("--dry-run", action="store_true", help="print every command, change nothing")
    p.add_argument("--print", action="store_true", help="print the OpenAPI 2.0 document and stop")
    args = p.parse_args(argv)
    project = Project(args.project, args.region)
    doc = document(project)
    if args.print:
        sys.stdout.write(canonical(doc))
        return 0
    rollout(shell or Shell(args.dry_run), project, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
