"""Which address Willow believes: the peer, or a named proxy's forwarded one, never the proxy."""

from __future__ import annotations

import pytest

from chat.core.addresses import ClientAddress, client_address, forwarded_scheme, parse_networks

PROXIES = parse_networks(["127.0.0.1", "10.0.0.0/8"])


def test_a_direct_connection_is_the_peer_and_its_header_is_ignored() -> None:
    found = client_address("198.51.100.4", ["203.0.113.9"], PROXIES)
    assert found == ClientAddress("198.51.100.4", forwarded=False)


def test_from_a_named_proxy_the_rightmost_address_not_a_proxy_counts() -> None:
    # The browser claimed 192.0.2.1; the proxies appended what they saw.
    found = client_address("127.0.0.1", ["192.0.2.1, 203.0.113.9", "10.1.2.3"], PROXIES)
    assert found == ClientAddress("203.0.113.9", forwarded=True)


@pytest.mark.parametrize("header", [[], ["10.0.0.5"], ["not-an-address"], ["203.0.113.9, junk"]])
def test_a_proxy_without_a_usable_header_has_no_client_address(header: list[str]) -> None:
    assert client_address("127.0.0.1", header, PROXIES) is None


def test_ipv4_mapped_ipv6_is_the_ipv4_address() -> None:
    found = client_address("::ffff:127.0.0.1", ["::ffff:203.0.113.9"], PROXIES)
    assert found == ClientAddress("203.0.113.9", forwarded=True)


def test_the_page_scheme_is_believed_only_from_a_named_proxy() -> None:
    proxies = parse_networks(["127.0.0.1"])
    assert forwarded_scheme("127.0.0.1", "https", proxies) == "https"
    assert forwarded_scheme("127.0.0.1", "HTTP, https", proxies) == "http"
    # Anyone else saying so is ignored, and so is anything but http or https.
    assert forwarded_scheme("203.0.113.9", "https", proxies) is None
    assert forwarded_scheme("127.0.0.1", "gopher", proxies) is None
    assert forwarded_scheme("127.0.0.1", None, proxies) is None
    assert forwarded_scheme(None, "https", proxies) is None
