"""ULIDs: 128-bit ids written as 26 Crockford base32 characters.

A ULID is a 48-bit time (milliseconds since the Unix epoch) followed by 80
bits that tell apart ids of the same millisecond, both big-endian, written
most significant bit first in base32 with the alphabet
``0123456789ABCDEFGHJKMNPQRSTVWXYZ`` (no I, L, O, U). 130 bits of text hold
the 128 bits, so the first character is at most ``7``. Customer.io documents
the Track API's event ``id`` (which the Journeys destination fills from the
call's ``messageId``) as a ULID used to drop repeated events.

The encoder here works on whole arrays: the ten time characters come from
one 64-bit integer per row and the sixteen others from two 40-bit halves of
the 80 bits, five bits at a time with numpy, so writing a million ids costs
a few array passes rather than a million Python calls.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "ALPHABET",
    "MAX_TIME_MS",
    "RANDOM_BYTES",
    "encode",
    "encode_one",
    "is_ulid",
    "time_ms",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The largest time the 48 bits hold: 8 August 10889.
MAX_TIME_MS = 2**48 - 1
# Bytes of the part after the time.
RANDOM_BYTES = 10

_LETTERS = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
_VALUES = {c: i for i, c in enumerate(ALPHABET)}
_PATTERN = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_TIME_CHARS = 10
_HALF_CHARS = 8  # 40 bits, five bytes, of the random part
_LENGTH = 26


def _digits(values: np.ndarray, count: int, out: np.ndarray, start: int) -> None:
    """Write ``count`` base32 digits of each of ``values`` into ``out[:, start:]``."""
    values = values.copy()
    for column in range(start + count - 1, start - 1, -1):
        out[:, column] = values & np.uint64(31)
        values >>= np.uint64(5)


def encode(times: np.ndarray, randomness: np.ndarray) -> np.ndarray:
    """Write ULIDs for arrays of times and random parts.

    Parameters
    ----------
    times : numpy.ndarray
        Milliseconds since the Unix epoch, one per id, each in
        ``[0, MAX_TIME_MS]``.
    randomness : numpy.ndarray
        ``uint8`` array of shape ``(len(times), 10)``: the 80 bits after the time.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of shape ``(len(times), 26)`` holding the ASCII text of
        each id (``.view("S26")`` gives one bytes value per row).

    Examples
    --------
    >>> import numpy as np
    >>> text = encode(np.array([1_700_000_000_000]), np.zeros((1, 10), np.uint8))
    >>> text.view("S26")[0, 0].decode()
    '01HF7YAT000000000000000000'
    """
    times = np.asarray(times, dtype=np.uint64)
    randomness = np.asarray(randomness, dtype=np.uint8).reshape(len(times), RANDOM_BYTES)
    out = np.empty((len(times), _LENGTH), dtype=np.uint8)
    _digits(times, _TIME_CHARS, out, 0)
    wide = randomness.astype(np.uint64)
    for half in range(2):
        value = np.zeros(len(times), dtype=np.uint64)
        for byte in range(5):
            value = (value << np.uint64(8)) | wide[:, 5 * half + byte]
        _digits(value, _HALF_CHARS, out, _TIME_CHARS + _HALF_CHARS * half)
    return _LETTERS[out]


def encode_one(time: int, randomness: bytes) -> str:
    """Return the ULID of one time (milliseconds) and 10 random bytes.

    Examples
    --------
    >>> encode_one(0, bytes(10))
    '00000000000000000000000000'
    >>> encode_one(2**48 - 1, b"\\xff" * 10)
    '7ZZZZZZZZZZZZZZZZZZZZZZZZZ'
    """
    if not 0 <= time <= MAX_TIME_MS:
        raise ValueError(f"a ULID's time is 0 to {MAX_TIME_MS} ms, not {time}")
    if len(randomness) != RANDOM_BYTES:
        raise ValueError(f"a ULID's random part is {RANDOM_BYTES} bytes, not {len(randomness)}")
    value = (time << 80) | int.from_bytes(randomness, "big")
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in range(_LENGTH - 1, -1, -1))


def is_ulid(text: object) -> bool:
    """Whether ``text`` is a ULID in canonical form (26 upper-case Crockford characters).

    Examples
    --------
    >>> is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV"), is_ulid("0123456789abcdef0123456789abcdef")
    (True, False)
    """
    return isinstance(text, str) and _PATTERN.fullmatch(text) is not None


def time_ms(text: str) -> int:
    """Return the time part of a ULID, in milliseconds since the Unix epoch.

    Raises
    ------
    ValueError
        ``text`` is not a ULID.

    Examples
    --------
    >>> time_ms("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    1469922850259
    """
    if not is_ulid(text):
        raise ValueError(f"not a ULID: {text!r}")
    value = 0
    for char in text[:_TIME_CHARS]:
        value = (value << 5) | _VALUES[char]
    return value
