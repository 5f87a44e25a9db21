"""A scheduled entry point takes Cloud Scheduler's OIDC token (or the dev token on
the emulator) and nothing else: no caller token, whatever its scopes, and no bad ID token."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import flask
import pytest

from functions._jobs import Run, scheduled
from functions.routes import JOBS, Job
from shared.auth.signatures import HEADER
from tests.auth.oidc_keys import ACCOUNT, SigningKey, id_claims
from tests.gateway.conftest import Reply, entry_client
from tests.security.credentials import (
    FORWARDED,
    ROOT,
    TRADINGVIEW,
    Matrix,
)
from tests.security.matrix_fixtures import certs, matrix, oidc_key, stranger_key
from tests.support.env import DEV_TOKEN

__all__ = ["certs", "matrix", "oidc_key", "stranger_key"]  # fixtures used by name


PROBE = Job("credential_probe", "*/5 * * * *", "Counts its runs: the matrix's stand-in for a job")
RUNS: list[str] = []


@scheduled(PROBE)
def probe(run: Run) -> dict[str, Any]:
    RUNS.append(run.caller)
    return {"ran": True, "caller": run.caller}


_probe_app = flask.Flask("credential_probe")
_probe_app.add_url_rule("/", "probe", lambda: probe(flask.request), methods=["GET", "POST"])


def job_client(entry_point: str) -> Any:
    return _probe_app.test_client() if entry_point == PROBE.entry_point else entry_client(entry_point)


JOB_PARAMS = [pytest.param(name, id=name) for name in [PROBE.entry_point, *(j.entry_point for j in JOBS)]]


def _unsigned(claims: dict[str, Any], kid: str) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{part(claims)}."


def _bad_oidc() -> dict[str, Callable[[SigningKey, SigningKey], dict[str, str]]]:
    """Header sets a scheduled entry point must refuse, from the published key and an unpublished one."""
    now = int(time.time())

    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return {
        "nothing": lambda k, s: {},
        "root-api-token": lambda k, s: auth(ROOT.token),
        "trader-api-token": lambda k, s: auth(TRADINGVIEW.token),
        "dev-token-not-configured": lambda k, s: auth(DEV_TOKEN),
        "wrong-audience": lambda k, s: auth(k.sign(id_claims(aud="https://elsewhere.example/fn"))),
        "wrong-issuer": lambda k, s: auth(k.sign(id_claims(iss="https://issuer.example.com"))),
        "unlisted-account": lambda k, s: auth(
            k.sign(id_claims(email="intruder@evil.iam.gserviceaccount.com"))
        ),
        "unverified-email": lambda k, s: auth(k.sign(id_claims(email_verified=False))),
        "wrong-key": lambda k, s: auth(s.sign(id_claims(), kid=k.kid)),
        "unpublished-key": lambda k, s: auth(s.sign(id_claims())),
        "no-key-id": lambda k, s: auth(k.sign(id_claims(), kid=None)),
        "unsigned": lambda k, s: auth(_unsigned(id_claims(), k.kid)),
        "expired": lambda k, s: auth(k.sign(id_claims(iat=now - 7200, exp=now - 3600))),
        "not-yet-valid": lambda k, s: auth(k.sign(id_claims(iat=now + 3600, exp=now + 7200))),
        "valid-oidc-only-in-forwarded-header": lambda k, s: {FORWARDED: f"Bearer {k.sign(id_claims())}"},
        "signed-request": lambda k, s: {HEADER: f"keyId=root,t={now},v1={'0' * 64}"},
    }


BAD_OIDC = list(_bad_oidc())
NO_TOKEN = {"nothing", "valid-oidc-only-in-forwarded-header", "signed-request"}


@pytest.mark.parametrize("variant", BAD_OIDC)
@pytest.mark.parametrize("entry_point", JOB_PARAMS)
def test_scheduled_entry_point_refuses_anything_but_the_schedulers_token(
    matrix: Matrix, oidc_key: SigningKey, stranger_key: SigningKey, entry_point: str, variant: str
) -> None:
    """No token, a caller's API token (even admin) or a Google-shaped token that is wrong in any part: 401,
    and the job does not run."""
    headers = _bad_oidc()[variant](oidc_key, stranger_key)
    runs = len(RUNS)
    response = job_client(entry_point).post("/", headers=headers)
    reply = Reply(response.status_code, response.get_json(silent=True), dict(response.headers), response.text)
    assert len(RUNS) == runs, "the job ran"
    matrix.refused(reply, 401, "missing_token" if variant in NO_TOKEN else "invalid_token")


def test_scheduled_entry_point_runs_for_the_schedulers_oidc_token(
    matrix: Matrix, oidc_key: SigningKey
) -> None:
    """Positive control: a Google-signed ID token for the audience and a listed account runs the job."""
    runs = len(RUNS)
    token = oidc_key.sign(id_claims())
    response = job_client(PROBE.entry_point).post("/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.get_json() == {"ran": True, "caller": ACCOUNT}
    assert RUNS[runs:] == [ACCOUNT]
    after = matrix.desk.snapshot()
    assert after == matrix.book.before
    matrix.desk.untouched(after)
