"""The Host allowlist, without a server: ports, IPv6 brackets, case and a trailing dot."""

from sff.serve.hosts import allowed_hosts, allows


def test_loopback_names_and_the_bound_address_are_allowed_with_any_port() -> None:
    names = allowed_hosts("192.168.1.5", ())

    for host in ("localhost", "LOCALHOST:8000", "127.0.0.1:8000", "[::1]:8000", "[::1]",
                 "192.168.1.5:8000", "localhost."):  # fmt: skip
        assert allows(names, host), host
    for host in ("evil.example", "localhost.evil.example", "127.0.0.2", "", "[::2]:80"):
        assert not allows(names, host), host
    assert not allows(names, None)


def test_extra_hosts_and_an_ipv6_bind_address() -> None:
    names = allowed_hosts("::1", ("Devbox.LAN", "tunnel.example.com:443"))

    assert allows(names, "devbox.lan:8000") and allows(names, "tunnel.example.com")
    assert allows(names, "[::1]:9000")


def test_binding_every_address_does_not_allow_every_host() -> None:
    names = allowed_hosts("0.0.0.0", ())
    assert not allows(names, "0.0.0.0:8000") and not allows(names, "anything.example")
