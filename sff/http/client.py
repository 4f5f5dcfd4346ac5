"""The HTTP client sff sends with: the lean send on its own connections; httpx when needed.

A cold plain-http invocation must not pay for ``import httpx`` (~20 ms: email,
http.cookiejar, urllib.request, brotli, zstandard come with it). `Client` holds the
connection pool (`sff.http.streams`) and the lean sender over it, and builds httpx's
AsyncClient over the same pool (`sff.http.hxclient`) only the first time something needs
httpx: a request the lean send leaves to it (https, redirects, respx or a tracer
patching httpcore, a URL or header only httpx can say how to send), or a caller using the
client as an httpx client (``client.get(...)``: every attribute httpx has is its).

`lean_sender` decides, once per invocation, whether a client may take the lean send.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias

from sff import secrets
from sff.http.lean import LeanSender
from sff.http.message import Headers
from sff.http.streams import Pool

if TYPE_CHECKING:
    import httpx

AnyClient: TypeAlias = "Client | httpx.AsyncClient"
"""What an invocation may be given to send with: sff's client, or a caller's own httpx one."""


class Client:
    """sff's client: plain http on the lean send, httpx's AsyncClient on first need."""

    __slots__ = _OWN = ("__weakref__", "_closed", "_headers", "_httpx", "_lean", "_max", "pool")

    def __init__(self, max_connections: int = 100) -> None:
        self.pool = Pool(max_connections, max_connections)
        self._max = max_connections
        self._headers = default_headers()
        self._httpx: httpx.AsyncClient | None = None
        self._lean: LeanSender | None = None
        self._closed = False

    @property
    def httpx_client(self) -> httpx.AsyncClient:
        """httpx's client over this one's connections (built now if it was not)."""
        if self._httpx is None:
            if self._closed:  # as httpx says it of a closed client
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            from sff.http.hxclient import build

            self._httpx = build(self.pool, self._max, self._headers)
        return self._httpx

    @property
    def built(self) -> httpx.AsyncClient | None:
        """httpx's client if something has needed it yet; None otherwise."""
        return self._httpx

    def lean(self) -> LeanSender:
        if self._lean is None:
            self._lean = LeanSender(self.pool, self._headers)
        return self._lean

    @property
    def is_closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        self._closed = True
        self.pool.close()
        if self._httpx is not None:
            await self._httpx.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __getattr__(self, name: str) -> Any:
        """httpx's API (``get``, ``send``, ``cookies`` ...) for a caller using this client
        as an httpx one: a name this class does not have is its httpx client's."""
        if name.startswith("__") or name in self._OWN:
            raise AttributeError(name)  # copy/pickle probing, or __init__ not run yet
        return getattr(self.httpx_client, name)

    def __setattr__(self, name: str, value: Any) -> None:
        """Setting httpx's attributes (``auth``, ``headers`` ...) sets them on httpx's
        client, as on an httpx client; `lean_sender` then sees what was set."""
        if name in self._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.httpx_client, name, value)


def new_client(max_connections: int = 100) -> Client:
    secrets.guard_loggers()  # httpx logs request URLs, httpcore response headers
    return Client(max_connections)


def lean_sender(client: Client | httpx.AsyncClient) -> LeanSender | None:
    """A lean sender for ``client``, or None when it is not sff's or its httpx half was
    given anything the lean path does not add to a request: auth, event hooks, default
    params, a base URL, headers, proxies or other mounts for http://, another transport.
    Checked once per invocation."""
    if not isinstance(client, Client):
        return None  # a caller's own httpx client: httpx sends, as the caller set it up
    built = client.built
    if built is None:
        return client.lean()  # nothing can have changed what httpx would send
    from sff.http.transport import StreamTransport  # loaded: httpx's half is built

    transport = getattr(built, "_transport", None)
    mounts = getattr(built, "_mounts", None)
    if not isinstance(transport, StreamTransport) or transport.pool is not client.pool:
        return None
    if built.auth is not None or built.params or str(built.base_url) or mounts is None:
        return None
    if any(built.event_hooks.values()):
        return None
    if any(not getattr(p, "pattern", "").startswith("https://") for p in mounts):
        return None
    if built.headers.raw != default_headers():  # a caller set default headers: sent too
        return LeanSender(client.pool, built.headers.raw)
    return client.lean()


@lru_cache(maxsize=1)
def default_headers() -> Headers:
    """The headers httpx's AsyncClient sends by default, in its order, found without
    importing httpx: its version from its own ``__version__.py``, the codings it asks
    for from which decoders it would find (as ``httpx._decoders`` looks for them)."""
    from importlib.util import find_spec  # loaded already: pydantic's plugin loader uses it

    codings = ["gzip", "deflate"]
    if find_spec("brotli") or find_spec("brotlicffi"):
        codings.append("br")
    if find_spec("zstandard"):
        codings.append("zstd")
    return [
        (b"Accept", b"*/*"),
        (b"Accept-Encoding", ", ".join(codings).encode()),
        (b"Connection", b"keep-alive"),
        (b"User-Agent", f"python-httpx/{_httpx_version()}".encode()),
    ]


def _httpx_version() -> str:
    """httpx's ``__version__``: its module run on its own (from its .pyc), not the package."""
    if "httpx" in sys.modules:
        return str(sys.modules["httpx"].__version__)
    from importlib.machinery import PathFinder, SourceFileLoader
    from types import ModuleType

    spec = PathFinder.find_spec("httpx")
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(next(iter(spec.submodule_search_locations)), "__version__.py")
        if os.path.isfile(path):
            module = ModuleType("_sff_httpx_version")
            SourceFileLoader(module.__name__, path).exec_module(module)
            return str(module.__version__)
    from sff.http._httpx import httpx  # installed some other way: ask it

    return str(httpx.__version__)
