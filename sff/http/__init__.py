"""Outbound HTTP: render a source's request, the client and its pool, the wire, bounded reads.

Nothing is imported here: `sff.http.fetch` is what an invocation loads, and https-only
pieces (`sff.http.pool`, httpcore) load only when an https backend is called.
"""
