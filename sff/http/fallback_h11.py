"""A response head llhttp refused, read again by h11: valid but unusual answers.

llhttp is strict where RFC 9112/9110 let a client be lenient: a header value folded onto
the next line (obs-fold, which a user agent must read as SP, RFC 9112 5.2) and the same
Content-Length sent twice or as ``5, 5`` (which may be taken as one, RFC 9110 8.6).
llhttp's own ``lenient_headers`` would also let control characters through, so instead
the bytes of that one response are handed to h11, which accepts exactly these and still
refuses differing lengths and a bare CR or NUL in a value. The rest of that response
(head, body framing, EOF) is h11's; the connection is closed after it, never reused.

h11 is imported only here, and this module only when llhttp refused a head.
"""

from __future__ import annotations

import h11
import httptools

from sff.http.message import Message, unframed


class H11Message(Message):
    """`Message`'s attributes, filled from h11's events instead of llhttp's callbacks."""

    __slots__ = ("_h11",)

    def __init__(self, method: str, received: bytes, head_limit: int) -> None:
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=head_limit)
        # h11 frames a response by the request it answers (a HEAD has no body): tell it
        # which one this is. Target and Host only satisfy its state machine; nothing is sent.
        self._h11.send(h11.Request(method=method, target="/", headers=[("Host", "origin")]))
        self._h11.send(h11.EndOfMessage())
        self.status = 0
        self.headers = []
        self.body = []
        self.head_done = self.done = self.extra = self.chunked = self.keep = False
        self.feed(received)

    def feed(self, data: bytes) -> None:
        if self.done:
            self.extra = True  # bytes past our answer: not ours
            return
        try:
            self._h11.receive_data(data)
            self._drain()
        except h11.RemoteProtocolError as exc:
            raise httptools.HttpParserError(str(exc) or "unparsable") from None

    def _drain(self) -> None:
        while not self.done:
            event = self._h11.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self._head(event)
            elif isinstance(event, h11.Data):
                self.body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self.done = True
            # an InformationalResponse (100 Continue): the real answer follows

    def _head(self, event: h11.Response) -> None:
        names = {n.lower() for n, _ in event.headers.raw_items()}
        if {b"content-length", b"transfer-encoding"} <= names:
            # h11 lets Transfer-Encoding win (RFC 9112 6.3); llhttp refuses the pair as a
            # smuggling sign, and so does this fallback, whatever made llhttp stop first.
            raise h11.RemoteProtocolError("Transfer-Encoding with Content-Length")
        self.status, self.head_done = event.status_code, True
        self.headers = [(bytes(n), bytes(v)) for n, v in event.headers.raw_items()]

    @property
    def close_delimited(self) -> bool:
        return unframed(self.headers)


def reread(method: str, received: bytes, head_limit: int) -> Message | None:
    """The response in ``received`` as h11 reads it, or None when h11 refuses it too."""
    try:
        return H11Message(method, received, head_limit)
    except httptools.HttpParserError:
        return None
