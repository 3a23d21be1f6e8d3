"""Refuse private, loopback and link-local addresses, so a hostile feed cannot make
the crawler fetch internal URLs (cloud metadata at 169.254.169.254, admin panels)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class PrivateAddressRefused(Exception):
    """The URL's host is, or resolves to, a non-public address."""


def is_public_ip(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host, parts.port)
        except (OSError, UnicodeError):
            return
    for address in addresses:
        if not is_public_ip(address):
            raise PrivateAddressRefused(
                f"{host} is a private or loopback address ({address}); "
                "set allow_private_addresses = true to fetch it"
            )
