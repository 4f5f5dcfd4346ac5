"""One response as llhttp (httptools) reads it: status, header fields, body pieces, the end.

Nothing here splits lines or reads a chunk size: httptools does the parsing (status line,
header block, Content-Length, chunked framing, its strict refusals: `HTTP/1.1 2000`, a
chunk not followed by CRLF, two Content-Lengths, Transfer-Encoding with Content-Length).
This class only collects what the parser reports, and notes what makes a connection
unfit for reuse: any byte of a further message after this one ended.
"""

from __future__ import annotations

import httptools

Headers = list[tuple[bytes, bytes]]
_FRAMING = (b"content-length", b"transfer-encoding")


def unframed(headers: Headers) -> bool:
    """No Content-Length and no Transfer-Encoding: the body ends when the server closes."""
    return all(n.lower() not in _FRAMING for n, _ in headers)


class Message:
    """The parser's callbacks for one exchange; `feed` raises `httptools.HttpParserError`."""

    __slots__ = (
        "_head_only",
        "_informational",
        "body",
        "chunked",
        "done",
        "extra",
        "head_done",
        "headers",
        "keep",
        "parser",
        "status",
    )

    def __init__(self, head_only: bool) -> None:
        self.parser = httptools.HttpResponseParser(self)
        # RFC 9112 2.2: a recipient MAY take a lone LF as a line end; older servers send it.
        self.parser.set_dangerous_leniencies(lenient_optional_cr_before_lf=True)
        self.reset(head_only)

    def reset(self, head_only: bool) -> None:
        """Ready for the next answer on the same connection, its parser kept (it stands
        at the end of the last answer: a connection is reused only after a clean one).
        New lists: whoever took the last answer's headers or pieces keeps them."""
        self._head_only = head_only  # a HEAD: the body a Content-Length announces never comes
        self._informational = False
        self.status = 0
        self.headers: Headers = []
        self.body: list[bytes] = []
        self.head_done = self.done = self.extra = self.chunked = self.keep = False

    def feed(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def take(self) -> list[bytes]:
        """The body pieces parsed since the last call."""
        pieces, self.body = self.body, []
        return pieces

    @property
    def close_delimited(self) -> bool:
        """A body that ends when the server closes: no Content-Length, no Transfer-Encoding."""
        return not self.chunked and unframed(self.headers)

    # httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.done:
            self.extra = True  # a second answer on the same bytes: never paired with ours

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.done:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.done:
            return
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # 100 Continue and friends: the real answer follows
            self._informational, self.headers = True, []
            return
        self.status, self.head_done = status, True
        self.keep = self.parser.should_keep_alive() and not self._head_only
        if self._head_only:
            self.done = True

    def on_chunk_header(self) -> None:
        self.chunked = True

    def on_body(self, body: bytes) -> None:
        if not self.done:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
        else:
            self.done = True
