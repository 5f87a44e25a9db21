"""The dashboard's files as the `dashboard` entry point serves them (through the local server's /app/):
the built copy is current, the page is light, every answer carries the security headers, and only the
known names are served."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from functions.dashboard import ASSETS, ASSETS_DIR, CONTENT_SECURITY_POLICY
from infra.gateway_server import create_app

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "dashboard"
WEIGHT_LIMIT = 200 * 1024
TEXT = ("index.html", "app.js", "app.css", "manifest.webmanifest", "icon.svg")


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    return create_app().test_client()


def test_the_built_assets_are_a_current_copy_of_the_sources() -> None:
    """`python -m dashboard.build` was run after the last change to dashboard/."""
    assert sorted(p.name for p in ASSETS_DIR.iterdir()) == sorted(ASSETS)
    stale = [name for name in ASSETS if (SOURCES / name).read_bytes() != (ASSETS_DIR / name).read_bytes()]
    assert stale == []


def test_the_whole_page_weighs_under_200_kb(client: FlaskClient) -> None:
    served = sum(len(client.get(f"/app/{name}").data) for name in ASSETS)
    assert served < WEIGHT_LIMIT


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_each_asset_is_served_with_its_content_type_and_the_security_headers(
    client: FlaskClient, name: str
) -> None:
    response = client.get(f"/app/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ASSETS[name]
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_is_served_at_app_with_its_slash(client: FlaskClient) -> None:
    redirected = client.get("/app")
    assert (redirected.status_code, redirected.headers["Location"]) == (308, "/app/")
    page = client.get("/app/")
    assert page.data == (ASSETS_DIR / "index.html").read_bytes()
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/app/main.py",
        "/app/../main.py",
        "/app/%2e%2e/main.py",
        "/app/%2E%2E%2Fmain.py",
        "/app/x/app.js",
        "/app/.env",
        "/app/build.py",
        "/app/icons.py",
        "/app/app.js%00",
    ],
)
def test_only_the_known_asset_names_are_served(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "route_not_found"


def test_a_write_to_the_page_is_refused_with_405(client: FlaskClient) -> None:
    response = client.post("/app/")
    assert (response.status_code, response.headers["Allow"]) == (405, "GET, HEAD")


def test_an_unchanged_asset_is_revalidated_with_304(client: FlaskClient) -> None:
    first = client.get("/app/app.js")
    again = client.get("/app/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_the_sources_load_nothing_from_another_origin_and_run_no_inline_script() -> None:
    html = (SOURCES / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\son\w+=", html) == []  # no inline event handlers
    assert "style=" not in html
    for name in TEXT:
        text = (SOURCES / name).read_text()
        urls = re.findall(r"(?:https?:)?//[\w.-]+\.\w+", text)
        assert [u for u in urls if u != "http://www.w3.org"] == [], name


def test_the_manifest_makes_the_page_installable() -> None:
    manifest = json.loads((SOURCES / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == manifest["scope"] == "/app/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert icon["src"] in ASSETS
    for size in (192, 512):
        png = (SOURCES / f"icon-{size}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png[16:20]) == int.from_bytes(png[20:24]) == size


def test_values_are_rendered_as_text_never_as_html() -> None:
    script = (SOURCES / "app.js").read_text()
    assert re.findall(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script) == []
