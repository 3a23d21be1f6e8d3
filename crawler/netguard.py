"""Refuse private, loopback and link-local addresses, so a hostile feed cannot make
the crawler fetch internal URLs (cloud metadata at 169.254.169.254, admin panels)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class PrivateAddressRefused(Exception):
    """The URL's host is, or resolves to, a non-public address."""


# IPv6 prefixes that carry an IPv4 address in their last 32 bits: through a NAT64
# gateway, 64:ff9b::a9fe:a9fe is 169.254.169.254. The local-use NAT64 prefix and the
# deprecated IPv4-compatible addresses (::a.b.c.d) are never public.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NEVER_PUBLIC = (ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("::/96"))


def is_public_ip(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif any(ip in network for network in _NEVER_PUBLIC):
            return False
        else:
            embedded = (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64
                        else ip.sixtofour)  # 2002:a9fe:a9fe:: is 6to4 for 169.254.169.254
            if embedded is not None and not is_public_ip(str(embedded)):
                return False
    return ip.is_global and not ip.is_multicast


def is_loopback_name(host: str) -> bool:
    """localhost and every name under .localhost are loopback whatever DNS says (RFC
    6761); with a trailing dot too, which some resolvers do not answer."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def resolve(host: str, port: int | None = None) -> list[str]:
    infos = socket.getaddrinfo(host, port or 80, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def check_url(url: str, allow_private: bool) -> None:
    """Raise PrivateAddressRefused unless every address of the URL's host is public
    (or private addresses are allowed). DNS failures are left to the fetcher."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    if not host:
        return
    if is_loopback_name(host):
        raise PrivateAddressRefused(
            f"{host} names a private or loopback address (localhost is loopback); "
            "set allow_private_addresses = true to fetch it")
    try:
        port = parts.port
    except ValueError:
        port = None
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            return
    for address in addresses:
        if not is_public_ip(address):
            raise PrivateAddressRefused(
                f"{host} is a private or loopback address ({address}); "
                "set allow_private_addresses = true to fetch it"
            )
