"""The call tree: where each of a plan's sources lands in the call, compiled once.

:func:`compile_tree` nests the plan's sources by path; the encoder's reference
path builds one dict per row from it (:func:`build`), and its column-wise path
lays it out once per plan in orjson's sorted key order (:func:`layout`), then
joins each key's text for a whole slice (:class:`Member`). Both give the same
bytes (``tests/unit/prepare/test_encoding_equivalence.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from . import fragments
from .call_plan import Source

__all__ = [
    "BASE",
    "BRANCH",
    "COLUMN",
    "CONSTANT",
    "Entry",
    "Member",
    "RowDependentKeysError",
    "Tree",
    "build",
    "compile_tree",
    "layout",
    "merge_deep",
]

# Leaf tags of the compiled call tree.
COLUMN, CONSTANT, BRANCH = 0, 1, 2


class _Base:
    """The key of a branch's whole-object base (a context column with fields beneath it).

    A sentinel rather than a string, so that no column label (not even "")
    can collide with it.
    """

    def __repr__(self) -> str:
        return "BASE"


BASE = _Base()
Tree = dict[Any, tuple[int, Any, bool]]


def compile_tree(sources: tuple[Source, ...], keep_null: bool) -> tuple[Tree, list[Source]]:
    """Compile the plan's sources into a nested tree of (tag, payload, keep_null)."""
    tree: Tree = {}
    columns: list[Source] = []
    for source in sources:
        node = tree
        for key in source.path[:-1]:
            tag, child, _ = node.get(key, (BRANCH, {}, False))
            if tag != BRANCH:
                # A whole-object value (a context column) with fields beneath it:
                # keep it as the branch's base and merge the fields over it.
                child = {BASE: (tag, child, False)}
            node[key] = (BRANCH, child, False)
            node = child
        is_payload = source.kind == "json" and not source.is_constant
        if source.is_constant:
            leaf: tuple[int, Any, bool] = (CONSTANT, source.value, False)
        else:
            leaf = (COLUMN, len(columns), keep_null and is_payload)
            columns.append(source)
        last = source.path[-1]
        if last in node and node[last][0] == BRANCH:
            node[last][1][BASE] = leaf
        else:
            node[last] = leaf
    return tree, columns


def merge_deep(into: dict[str, Any], fields: dict[str, Any]) -> None:
    """Merge fields into a whole-object value (a context column), nested objects key by key.

    The caller's nested dicts are copied, never changed. Validation has
    already refused rows that set a leaf a field sets too.
    """
    for key, value in fields.items():
        old = into.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            nested = dict(old)
            merge_deep(nested, value)
            into[key] = nested
        else:
            into[key] = value


def build(tree: Tree, row: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (tag, payload, keep_null) in tree.items():
        if tag == COLUMN:
            value = row[payload]
            if value is not None or keep_null:
                out[key] = value
        elif tag == CONSTANT:
            out[key] = payload
        else:
            base = payload.get(BASE)
            merged: dict[str, Any] = {}
            if base is not None:
                value = row[base[1]] if base[0] == COLUMN else base[1]
                if isinstance(value, dict):
                    merged.update(value)
            merge_deep(merged, build({k: v for k, v in payload.items() if k is not BASE}, row))
            # A constant object is the operation's own (an event's required
            # "properties"), so it is sent even when no column adds to it.
            if merged or (base is not None and base[0] == CONSTANT):
                out[key] = merged
    return out


@dataclass(frozen=True)
class Entry:
    """One key of an object in the call, compiled for the column-wise path.

    Exactly one of ``column`` (a column leaf), ``text`` (a constant) and
    ``children`` (a nested object) is set. ``prefix`` is the key's JSON text
    and colon; ``fallback`` is written when the entry has no value in a row
    (a constant object's own value under a field that can be missing).
    """

    key: str
    prefix: str
    column: int | None = None
    text: str | None = None
    children: tuple[Entry, ...] | None = None
    forced: bool = False
    fallback: str | None = None
    keep_null: bool = False
    depth: int = 1


class RowDependentKeysError(Exception):
    """The plan's keys depend on the row (a whole-object column); use the reference path."""


def key_prefix(key: str) -> str:
    return orjson.dumps(key).decode() + ":"


def layout(tree: Tree, depth: int) -> tuple[Entry, ...]:
    """Compile a call tree into entries in orjson's sorted key order.

    ``depth`` is the number of containers above the values of this object.
    Raises :class:`RowDependentKeysError` for a column merged in as a whole
    object, and TypeError for a constant orjson cannot encode.
    """
    entries: dict[str, Entry] = {}
    for key, (tag, payload, keep_null) in tree.items():
        if key is BASE:
            continue  # a branch's base, merged in by the parent below
        prefix = key_prefix(key)
        if tag == COLUMN:
            entries[key] = Entry(key, prefix, column=payload, keep_null=keep_null, depth=depth)
        elif tag == CONSTANT:
            entries[key] = Entry(key, prefix, text=prefix + fragments.value_text(payload, depth))
        else:
            base = payload.get(BASE)
            if base is not None and base[0] == COLUMN:
                raise RowDependentKeysError(key)
            children = {e.key: e for e in layout(payload, depth + 1)}
            if base is not None and isinstance(base[1], dict):
                # Fields beneath a constant object override its keys when present.
                for name, value in base[1].items():
                    if not isinstance(name, str):
                        raise RowDependentKeysError(key)
                    text = key_prefix(name) + fragments.value_text(value, depth + 1)
                    child = children.get(name)
                    children[name] = (
                        Entry(name, key_prefix(name), text=text)
                        if child is None
                        else replace(child, fallback=text)
                    )
            entries[key] = Entry(
                key,
                prefix,
                children=tuple(children[k] for k in sorted(children)),
                forced=base is not None,
            )
    # orjson's OPT_SORT_KEYS orders keys by code point, as sorted() does.
    return tuple(entries[k] for k in sorted(entries))


@dataclass
class Member:
    """One key of an object in every row of a slice, ready for concatenation.

    Either ``pieces`` (text every row has) or ``values`` (one text per row
    between ``head`` and ``tail``; null where the row has no value, which
    then writes ``missing``, or nothing when that is None).
    """

    values: Any = None
    head: str = ""
    tail: str = ""
    missing: str | None = None
    pieces: list[Any] | None = None

    @property
    def always(self) -> bool:
        """Whether every row has this member."""
        return self.pieces is not None or self.missing is not None or self.values.null_count == 0

    def place(self, lead: str, trail: str, rows: int) -> list[Any]:
        """The member's pieces with ``lead`` before and ``trail`` after it, where present."""
        if self.pieces is not None:
            return [lead, *self.pieces, trail]
        if self.values.null_count == 0:
            return [lead + self.head, self.values, self.tail + trail]
        joined = fragments.join([lead + self.head, self.values, self.tail + trail], rows)
        missing = "" if self.missing is None else lead + self.missing + trail
        return [pc.fill_null(joined, pa.scalar(missing, fragments.TEXT))]
