"""Which ``Host`` a gateway answers: a guard against DNS rebinding.

A page on any web site can make a browser send requests to ``127.0.0.1:8000`` under a
name the attacker controls (rebinding it to loopback); the browser then lets that page
read the answers. Checking the Host header stops it: by default only the loopback names
and the bound address are answered, ``--allow-host`` adds more (a LAN name, a tunnel).
"""

from __future__ import annotations

import ipaddress

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
ANY_ADDRESS = ("0.0.0.0", "::", "[::]")


def allowed_hosts(bound: str, extra: tuple[str, ...]) -> frozenset[str]:
    names = {*LOOPBACK, *(normal(h) for h in extra)}
    if bound not in ANY_ADDRESS:
        names.add(normal(bracketed(bound)))
    return frozenset(names)


def host_name(header: str) -> str:
    """``Host`` without its port, lower-cased (``[::1]:8000`` -> ``[::1]``)."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def normal(host: str) -> str:
    return host_name(host).rstrip(".")


def bracketed(address: str) -> str:
    try:
        is_v6 = ipaddress.ip_address(address.strip("[]")).version == 6
    except ValueError:
        return address
    return f"[{address.strip('[]')}]" if is_v6 else address


def allows(names: frozenset[str], header: str | None) -> bool:
    return header is not None and normal(header) in names
