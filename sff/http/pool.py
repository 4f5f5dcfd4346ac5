"""A connection pool whose bookkeeping stays linear in the number of connections.

httpcore 1.0's pool re-examines every connection for every queued request on every
request start and end, and counts idle connections inside that loop (encode/httpcore#1035):
with 100 concurrent requests through one client that is ~10^6 checks and a socket probe
per idle connection each time, which dominated a 100-source fan-out. This pool keeps the
protocol work (h11, TLS, anyio) and the public behaviour of httpcore's, and changes only
how requests meet connections: one pass to clean up, and an idle connection's socket is
probed only when it is about to be reused.
"""

from __future__ import annotations

import httpcore
import httpx
from httpcore._async.interfaces import AsyncConnectionInterface


class LinearConnectionPool(httpcore.AsyncConnectionPool):
    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        closing: list[AsyncConnectionInterface] = []
        kept: list[AsyncConnectionInterface] = []
        idle = 0
        for connection in self._connections:
            if connection.is_closed():
                continue
            if connection.is_idle():
                if idle >= self._max_keepalive_connections:
                    closing.append(connection)
                    continue
                idle += 1
            kept.append(connection)
        self._connections = kept

        for pool_request in self._requests:
            if not pool_request.is_queued():
                continue
            origin = pool_request.request.url.origin
            chosen = self._reusable(origin, closing)
            if chosen is None and len(self._connections) >= self._max_connections:
                spare = next((c for c in self._connections if c.is_idle()), None)
                if spare is None:
                    continue  # every connection is busy: it stays queued
                self._connections.remove(spare)
                closing.append(spare)
            if chosen is None:
                chosen = self.create_connection(origin)
                self._connections.append(chosen)
            pool_request.assign_to_connection(chosen)
        return closing

    def _reusable(
        self, origin: httpcore.Origin, closing: list[AsyncConnectionInterface]
    ) -> AsyncConnectionInterface | None:
        """The first connection ready for ``origin``; expired ones found on the way close."""
        for connection in list(self._connections):
            if not (connection.can_handle_request(origin) and connection.is_available()):
                continue
            if connection.is_idle() and connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)
                continue
            return connection
        return None


def linear_transport(limits: httpx.Limits, *, verify: bool) -> httpx.AsyncHTTPTransport:
    """An httpx transport over `LinearConnectionPool`, configured as httpx would."""
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    plain = transport._pool
    if type(plain) is httpcore.AsyncConnectionPool:  # not a proxy pool: swap in ours
        transport._pool = LinearConnectionPool(
            ssl_context=plain._ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )
    return transport
