"""Where notifications may go: https to public addresses in the cloud, loopback too on the emulator."""

from __future__ import annotations

import pytest

from shared.notify.urls import UnsafeUrl, check_url


def resolver(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


PUBLIC = resolver("93.184.215.14")


def test_cloud_accepts_https_to_a_public_address() -> None:
    """The ordinary case passes."""
    check_url("https://hooks.example.com/x", local=False, resolver=PUBLIC)


def test_cloud_refuses_plain_http() -> None:
    with pytest.raises(UnsafeUrl):
        check_url("http://hooks.example.com/x", local=False, resolver=PUBLIC)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.4.4", "169.254.169.254", "::1", "fe80::1", "fd00::1",
     "0.0.0.0", "224.0.0.1", "100.64.0.1", "::ffff:127.0.0.1"],
)  # fmt: skip
def test_cloud_refuses_a_name_resolving_to_a_non_public_address(address: str) -> None:
    """A public-looking name that resolves to a private, loopback, link-local or reserved address."""
    with pytest.raises(UnsafeUrl):
        check_url("https://innocent.example.com/", local=False, resolver=resolver("93.184.215.14", address))


def test_local_mode_allows_http_to_loopback() -> None:
    check_url("http://127.0.0.1:9000/hook", local=True, resolver=resolver("127.0.0.1"))


def test_local_mode_still_refuses_the_metadata_server() -> None:
    with pytest.raises(UnsafeUrl):
        check_url("http://metadata.google.internal/", local=True, resolver=resolver("169.254.169.254"))


def test_unresolvable_host_is_refused_with_its_own_reason() -> None:
    def fails(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(UnsafeUrl) as caught:
        check_url("https://nowhere.invalid/", local=False, resolver=fails)
    assert caught.value.reason == "unresolvable_url"


@pytest.mark.parametrize(
    "url", ["https://user:pw@example.com/", "ftp://example.com/", "https:///x", "https://[::1"]
)
def test_malformed_or_credentialed_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, local=False, resolver=PUBLIC)
