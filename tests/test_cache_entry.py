"""CacheEntry: what goes into a store comes back, and nothing else decodes."""

from __future__ import annotations

import pytest

from sff.cache import CacheDecodeError, CacheEntry

ENTRY = CacheEntry(
    status=200,
    body=b'{"todos": [1, 2]}\x00\xff',
    stored_at=1_700_000_000.25,
    content_type="application/json; charset=utf-8",
)


def test_an_encoded_entry_decodes_to_an_equal_entry() -> None:
    assert CacheEntry.decode(ENTRY.encode()) == ENTRY


def test_an_empty_body_and_a_non_ascii_content_type_survive() -> None:
    entry = CacheEntry(status=204, body=b"", stored_at=0.0, content_type="text/plain; x=é")
    assert CacheEntry.decode(entry.encode()) == entry


def test_age_is_seconds_since_stored_and_never_negative() -> None:
    assert ENTRY.age_s(now=ENTRY.stored_at + 90) == 90
    assert ENTRY.age_s(now=ENTRY.stored_at - 5) == 0  # another host's clock runs behind
    assert ENTRY.age_s() > 0


@pytest.mark.parametrize(
    "foreign",
    [b"", b'{"status": 200, "body": "x"}', b"\x80\x04\x95pickle", b"\x00sffE", b"\x00" * 64],
)
def test_a_foreign_value_raises_a_decode_error(foreign: bytes) -> None:
    with pytest.raises(CacheDecodeError):
        CacheEntry.decode(foreign)


def test_a_truncated_entry_raises_a_decode_error() -> None:
    data = ENTRY.encode()
    with pytest.raises(CacheDecodeError, match="truncated or corrupt"):
        CacheEntry.decode(data[:-1])
    with pytest.raises(CacheDecodeError, match="truncated or corrupt"):
        CacheEntry.decode(data + b"x")


def test_a_flipped_byte_in_the_body_raises_a_decode_error() -> None:
    data = bytearray(ENTRY.encode())
    data[-3] ^= 0x01
    with pytest.raises(CacheDecodeError, match="truncated or corrupt"):
        CacheEntry.decode(bytes(data))


def test_an_entry_of_another_version_raises_a_decode_error() -> None:
    data = bytearray(ENTRY.encode())
    data[5] = 3  # the version byte follows the 5-byte magic
    with pytest.raises(CacheDecodeError, match="version 3"):
        CacheEntry.decode(bytes(data))


def test_an_entry_keeps_the_backends_caching_headers() -> None:
    entry = CacheEntry(200, b'{"a": 1}', 1700000000.5, http='[1700000060.5, "\\"v1\\"", null]')
    assert CacheEntry.decode(entry.encode()) == entry


def test_an_entry_written_by_the_previous_version_is_still_read() -> None:
    import struct
    import zlib

    ctype, body = b"application/json", b'{"a": 1}'
    checked = struct.pack(">HdHI", 200, 1700000000.0, len(ctype), len(body)) + ctype + body
    v1 = b"\x00sffE" + struct.pack(">BI", 1, zlib.crc32(checked)) + checked
    assert CacheEntry.decode(v1) == CacheEntry(200, body, 1700000000.0)


def test_a_decode_error_is_a_value_error_and_shows_no_data() -> None:
    with pytest.raises(ValueError) as caught:
        CacheEntry.decode(b"token=abc123")
    assert "abc123" not in str(caught.value)
