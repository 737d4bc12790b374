"""Which network address a request came from, as far as Willow may believe it.

Behind a reverse proxy every connection comes from the proxy, so its address says nothing
about the person. The deployment names its proxies (`WILLOW_FORWARDED_ALLOW_IPS`); only
their `X-Forwarded-For` is read, from the right, skipping the named proxies. A connection
from a named proxy without that header has no client address at all: Willow never mistakes
the proxy for a person. Addresses are only ever hashed with a rotating key (peers/bans.py,
chat/core/limits.py), never stored or logged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ClientAddress:
    address: str
    # True when the address came from a trusted proxy's forwarded header.
    forwarded: bool


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """The proxies' addresses or networks; raises ValueError on anything else."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(ip.version == net.version and ip in net for net in proxies)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]
) -> ClientAddress | None:
    """Her address: the peer's, or, from a named proxy, the forwarded one; None if unknown."""
    if not peer:
        return None
    peer_ip = _ip(peer)
    if peer_ip is None or not _trusted(peer_ip, proxies):
        return ClientAddress(peer, forwarded=False)
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            # A malformed hop: nothing to its left can be believed either.
            return None
        if not _trusted(ip, proxies):
            return ClientAddress(str(ip), forwarded=True)
    return None


def forwarded_scheme(
    peer: str | None, forwarded_proto: str | None, proxies: Sequence[Network]
) -> str | None:
    """The scheme her browser used ("https" or "http"), as a named proxy says in
    X-Forwarded-Proto; None when the peer is not a named proxy or says nothing usable."""
    peer_ip = _ip(peer) if peer else None
    if peer_ip is None or not _trusted(peer_ip, proxies) or not forwarded_proto:
        return None
    scheme = forwarded_proto.split(",")[0].strip().lower()
    return scheme if scheme in ("http", "https") else None
