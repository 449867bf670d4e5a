"""Turn valid rows into call bytes, each exactly once.

The encoder converts the plan's columns a whole slice at a time
(:mod:`pandas_cio.values`), builds one dict per row, serialises it with orjson
and derives the row's messageId from those bytes. The bytes are then spliced
with the messageId and never encoded again: the same bytes are measured by the
batcher and written into the request body.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd

from .plan import CallPlan, Source
from .values import JSON_OPTIONS, column_values, json_default

__all__ = ["EncodedSlice", "Encoder", "message_id_for"]

# Leaf tags of the compiled call tree.
_COLUMN, _CONSTANT, _BRANCH = 0, 1, 2


@dataclass
class EncodedSlice:
    """What encoding one slice of rows produced.

    Attributes
    ----------
    positions : list of int
        Positions (in the whole frame) of rows that encoded.
    calls : list of bytes
        Each encoded call, aligned with ``positions``.
    message_ids : list of str
        Each call's messageId, aligned with ``positions``.
    invalid : dict of int to str
        Positions of rows that could not be encoded, with the reason.
    """

    positions: list[int] = field(default_factory=list)
    calls: list[bytes] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    invalid: dict[int, str] = field(default_factory=dict)


def message_id_for(operation: str, content: bytes) -> str:
    """Return the deterministic messageId of a call.

    A 128-bit BLAKE2b digest of the operation name and the call's content (its
    sorted-key JSON without the messageId), as 32 hex digits. The same row sent
    by the same operation always gets the same id, so the service can drop
    repeats of a retried or re-run send.
    """
    digest = hashlib.blake2b(operation.encode(), digest_size=16)
    digest.update(b"\x00")
    digest.update(content)
    return digest.hexdigest()


Tree = dict[str, tuple[int, Any, bool]]


def _compile(sources: tuple[Source, ...], keep_null: bool) -> tuple[Tree, list[Source]]:
    """Compile the plan's sources into a nested tree of (tag, payload, keep_null)."""
    tree: Tree = {}
    columns: list[Source] = []
    for source in sources:
        node = tree
        for key in source.path[:-1]:
            tag, child, _ = node.get(key, (_BRANCH, {}, False))
            if tag != _BRANCH:
                # A whole-object value (a context column) with fields beneath it:
                # keep it as the branch's base and merge the fields over it.
                child = {"": (tag, child, False)}
            node[key] = (_BRANCH, child, False)
            node = child
        is_payload = source.kind == "json" and source.column is not None
        if source.column is None:
            leaf: tuple[int, Any, bool] = (_CONSTANT, source.value, False)
        else:
            leaf = (_COLUMN, len(columns), keep_null and is_payload)
            columns.append(source)
        last = source.path[-1]
        if last in node and node[last][0] == _BRANCH:
            node[last][1][""] = leaf
        else:
            node[last] = leaf
    return tree, columns


def _build(tree: Tree, row: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (tag, payload, keep_null) in tree.items():
        if tag == _COLUMN:
            value = row[payload]
            if value is not None or keep_null:
                out[key] = value
        elif tag == _CONSTANT:
            out[key] = payload
        else:
            base = payload.get("")
            merged: dict[str, Any] = {}
            if base is not None:
                value = row[base[1]] if base[0] == _COLUMN else base[1]
                if isinstance(value, dict):
                    merged.update(value)
            merged.update(_build({k: v for k, v in payload.items() if k != ""}, row))
            if merged:
                out[key] = merged
    return out


class Encoder:
    """Encode slices of a frame for one plan.

    Parameters
    ----------
    plan : CallPlan
        The resolved call plan.
    """

    def __init__(self, plan: CallPlan) -> None:
        self.plan = plan
        self._tree, self._sources = _compile(plan.sources, plan.missing == "null")
        self._operation = plan.operation.name

    def _culprit(self, row: tuple[Any, ...]) -> str:
        """Name the first column whose value cannot be encoded (the slow path)."""
        for source, value in zip(self._sources, row, strict=True):
            try:
                orjson.dumps(value, default=json_default, option=JSON_OPTIONS)
            except TypeError as exc:
                return f"{source.column}: {exc.__cause__ or exc}"
        return "the row cannot be encoded as JSON"

    def encode(self, frame: pd.DataFrame, positions: np.ndarray) -> EncodedSlice:
        """Encode the rows of ``frame`` at ``positions``.

        Parameters
        ----------
        frame : pandas.DataFrame
            The whole input frame.
        positions : numpy.ndarray
            Integer positions of the rows to encode (already validated).

        Returns
        -------
        EncodedSlice
        """
        out = EncodedSlice()
        if len(positions) == 0:
            return out
        part = frame.iloc[positions]
        columns: list[list[Any]] = [column_values(part[s.column], s.kind) for s in self._sources]
        ids: list[Any] | None = None
        if self.plan.message_id is not None:
            ids = column_values(part[self.plan.message_id], "id")
        dumps, default, option = orjson.dumps, json_default, JSON_OPTIONS
        build, tree, operation = _build, self._tree, self._operation
        rows = zip(*columns, strict=True) if columns else (() for _ in range(len(positions)))
        for i, (position, row) in enumerate(zip(positions.tolist(), rows, strict=True)):
            try:
                content = dumps(build(tree, row), default=default, option=option)
            except TypeError:
                out.invalid[position] = self._culprit(row)
                continue
            mid = ids[i] if ids is not None else message_id_for(operation, content)
            # Splice the id before the closing brace: one encode per call.
            out.calls.append(content[:-1] + b',"messageId":' + dumps(mid) + b"}")
            out.message_ids.append(mid)
            out.positions.append(position)
        return out
