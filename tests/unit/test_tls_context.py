"""The upstream TLS context against a real HTTPS server on loopback, its certificate signed by a CA made
for the test: trusted through a hashed CA directory (read only when a handshake needs it), a CA file,
or certifi's bundle when the directory is not hashed; certificates and host names always checked."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import httpx
import pytest

from shared.config import Settings
from shared.http import tls_context
from tests.support.tls import Authority, https_server


def get(url: str, context: ssl.SSLContext) -> int:
    with httpx.Client(transport=httpx.HTTPTransport(verify=context), timeout=5.0) as client:
        return client.get(url).status_code


def certifis_bundle_size() -> int:
    return len(ssl.create_default_context(cafile=certifi.where()).get_ca_certs())


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority("execution engine test ca")


def test_a_hashed_directory_reads_no_certificate_until_a_handshake_needs_one(
    authority: Authority, tmp_path: Path
) -> None:
    context = tls_context(None, str(authority.hashed_directory(tmp_path / "certs")))
    assert context.get_ca_certs() == []


def test_a_server_signed_by_a_ca_in_the_hashed_directory_is_trusted(
    authority: Authority, tmp_path: Path
) -> None:
    context = tls_context(None, str(authority.hashed_directory(tmp_path / "certs")))
    with https_server(*authority.server_files(tmp_path / "server")) as url:
        assert get(url, context) == 200
    subjects = [cert["subject"] for cert in context.get_ca_certs()]
    assert subjects == [((("commonName", "execution engine test ca"),),)]


def test_a_server_signed_by_a_ca_missing_from_the_directory_is_refused(
    authority: Authority, tmp_path: Path
) -> None:
    stranger = Authority("some other ca")
    context = tls_context(None, str(stranger.hashed_directory(tmp_path / "certs")))
    with https_server(*authority.server_files(tmp_path / "server")) as url, pytest.raises(httpx.ConnectError):
        get(url, context)


def test_a_certificate_for_another_host_name_is_refused(authority: Authority, tmp_path: Path) -> None:
    context = tls_context(None, str(authority.hashed_directory(tmp_path / "certs")))
    server = authority.server_files(tmp_path / "server", host="other.test")
    with https_server(*server) as url, pytest.raises(httpx.ConnectError):
        get(url, context)


def test_a_ca_file_is_trusted_instead_of_the_directory(authority: Authority, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(authority.pem())
    context = tls_context(str(ca_file), str(tmp_path / "empty"))
    with https_server(*authority.server_files(tmp_path / "server")) as url:
        assert get(url, context) == 200


def test_a_directory_without_hashed_names_falls_back_to_certifis_bundle(
    authority: Authority, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "ca.pem").write_bytes(authority.pem())  # not under its hash: OpenSSL would never find it
    assert len(tls_context(None, str(plain)).get_ca_certs()) == certifis_bundle_size()


def test_a_missing_directory_falls_back_to_certifis_bundle(tmp_path: Path) -> None:
    assert len(tls_context(None, str(tmp_path / "absent")).get_ca_certs()) == certifis_bundle_size()


def test_the_ca_file_and_directory_come_from_openssls_variables() -> None:
    settings = Settings.from_mapping({"SSL_CERT_FILE": "/etc/corp/ca.pem", "SSL_CERT_DIR": "/etc/corp/certs"})
    assert (settings.ca_file, settings.ca_dir) == ("/etc/corp/ca.pem", "/etc/corp/certs")


def test_without_openssls_variables_the_system_directory_is_trusted() -> None:
    settings = Settings.from_mapping({})
    assert (settings.ca_file, settings.ca_dir) == (None, "/etc/ssl/certs")
