"""Make text that came from a server (or an exception) safe to show: no key, no frame values.

A proxy or a server that echoes the request in an error body would otherwise
put the API key (raw, as ``Bearer KEY`` or as Basic's base64 of ``KEY:``) and
the frame's values into a row's ``error`` and into ``report()``, which users
paste into tickets. :class:`Redactor` removes every form of the key the
library sends, any eight characters in a row of those forms (a server may
truncate what it echoes), and every string value of the request body, then
caps the text to a short single line.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Iterable
from typing import Any

import orjson

__all__ = ["MAX_DETAIL", "REDACTED", "Redactor", "service_message"]

#: Longest piece of a server's answer kept in an error, after redaction.
MAX_DETAIL = 120
REDACTED = "[redacted]"
# A run of this many characters of a key form is taken as the key: long
# enough never to match ordinary words, short enough to catch a truncated echo.
_KEY_WINDOW = 8
# Values shorter than this identify nothing and would blank out common words.
_MIN_VALUE = 3
# Only this much of an answer is looked at: error bodies are short, and a
# huge one must not cost seconds of scanning.
_SCAN_CHARS = 4_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# The members of a JSON error body that usually hold its message.
_MESSAGE_KEYS = ("error", "message", "errors", "detail", "reason")
# Fields the library fills itself, whose values are not the frame's data.
_OWN_FIELDS = frozenset({"type", "messageId", "timestamp", "sentAt"})


def _key_forms(secret: str) -> list[str]:
    basic = base64.b64encode(f"{secret}:".encode()).decode()
    return [secret, basic, basic.rstrip("=")]


def _values(node: Any, out: set[str], field: str = "") -> None:
    if isinstance(node, dict):
        for name, value in node.items():
            _values(value, out, str(name))
    elif isinstance(node, list):
        for item in node:
            _values(item, out, field)
    elif isinstance(node, str):
        if field not in _OWN_FIELDS and len(node) >= _MIN_VALUE:
            out.add(node)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        text = repr(node)
        if len(text) >= 5:  # phone-number-like numbers; not batch indexes
            out.add(text)


class Redactor:
    """Removes one request's secrets from texts about it.

    Parameters
    ----------
    secret : str or None
        The API key.
    body : bytes
        The request body as JSON (uncompressed); its string values are
        removed too. Parsed only when a text is redacted (error paths only).
    """

    __slots__ = ("_body", "_forms", "_values")

    def __init__(self, secret: str | None, body: bytes = b"") -> None:
        self._forms = _key_forms(secret) if secret else []
        self._body = body
        self._values: list[str] | None = None

    def _body_values(self) -> list[str]:
        if self._values is None:
            found: set[str] = set()
            with contextlib.suppress(orjson.JSONDecodeError):
                _values(orjson.loads(self._body), found)
            escaped = {orjson.dumps(v).decode()[1:-1] for v in found}
            # Longest first, so that a value containing another goes whole.
            self._values = sorted(found | escaped, key=len, reverse=True)
        return self._values

    def _key_spans(self, text: str) -> list[tuple[int, int]]:
        spans = []
        for form in self._forms:
            size = min(_KEY_WINDOW, len(form))
            for start in range(len(form) - size + 1):
                window = form[start : start + size]
                at = text.find(window)
                while at >= 0:
                    spans.append((at, at + size))
                    at = text.find(window, at + 1)
        return spans

    def clean(self, text: str, limit: int = MAX_DETAIL) -> str:
        """Return ``text`` without the key or body values, on one line, at most ``limit`` long."""
        text = _CONTROL.sub(" ", text[:_SCAN_CHARS])
        text = _blank(text, self._key_spans(text))
        if self._body:
            for value in self._body_values():
                if value in text:
                    text = text.replace(value, REDACTED)
        text = " ".join(text.split())
        if len(text) > limit:
            text = text[: limit - 3].rstrip() + "..."
        return text


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + REDACTED + text[end:]
    return text


def service_message(body: bytes) -> str | None:
    """The message of a JSON error body, or None when the body is not a JSON object.

    ``{"error": "..."}``, ``{"message": "..."}``, ``{"errors": [...]}`` give
    their member; any other object gives its compact JSON.
    """
    try:
        data = orjson.loads(body[: _SCAN_CHARS * 4])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    for name in _MESSAGE_KEYS:
        if name in data and data[name] not in (None, "", [], {}):
            value = data[name]
            return value if isinstance(value, str) else orjson.dumps(value).decode()
    return orjson.dumps(data).decode() if data else ""
