"""Turn valid rows into call bytes, each exactly once.

The encoder writes the JSON text of each of the plan's columns a whole slice
at a time (:mod:`pandas_cio.prepare.fragments`) and joins the fragments of each row in
sorted key order, which gives exactly the bytes of one ``orjson.dumps`` of the
row's dict with :data:`~pandas_cio.prepare.values.JSON_OPTIONS` (the reference path,
kept for plans whose keys depend on the row and for rows with a value orjson
refuses). It derives the row's messageId from those bytes (a ULID, see
:mod:`pandas_cio.prepare.message_ids`), splices it in, and never encodes the call
again: the same bytes are measured by the batcher and written into the
request body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..catalogue.kinds import KINDS
from . import fragments
from .batching import Calls
from .call_fields import field_values
from .call_tree import Entry, Member, RowDependentKeysError, build, compile_tree, layout
from .dates import DateOrder, date_order
from .message_ids import (
    RepeatCounter,
    as_strings,
    digests,
    message_id_for,
    message_ids,
    random_part,
    time_parts,
)
from .plan import CallPlan
from .ulid import RANDOM_BYTES
from .values import JSON_OPTIONS, column_values, json_default

__all__ = ["EncodedSlice", "Encoder", "message_id_for"]

# Characters of a ULID, the width of every derived messageId.
_ULID_CHARS = 26


@dataclass
class EncodedSlice:
    """What encoding one slice of rows produced.

    Attributes
    ----------
    positions : list of int
        Positions (in the whole frame) of rows that encoded.
    calls : sequence of bytes
        Each encoded call, aligned with ``positions``: a list, or a
        :class:`~pandas_cio.prepare.batching.Calls` buffer from the column-wise path.
    ids : numpy.ndarray or list
        Each call's messageId, aligned with ``positions``: derived ids of the
        column-wise path as a fixed-width ``S26`` array (their ULID text, no
        Python string per row; :class:`~pandas_cio.outcome.results.MessageIds` keeps
        them so), other ids as a list of str (or the user's values).
    message_ids : list
        The same ids as Python values (str for derived ids), made on demand.
    invalid : dict of int to str
        Positions of rows that could not be encoded, with the reason.
    fields : dict of path to numpy.ndarray
        For each path the encoder was asked for (its ``fields``), the value
        each call holds there, aligned with ``positions``: an object array of
        JSON values, None where the call holds none. A ledger builds its keys
        from these instead of decoding the calls.
    """

    positions: list[int] = field(default_factory=list)
    calls: Sequence[bytes] = field(default_factory=list)
    ids: np.ndarray | list[Any] = field(default_factory=list)
    invalid: dict[int, str] = field(default_factory=dict)
    fields: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)

    @property
    def message_ids(self) -> list[Any]:
        if isinstance(self.ids, np.ndarray):
            return list(self.ids.astype("U").tolist())
        return list(self.ids)


class Encoder:
    """Encode slices of a frame for one plan.

    One encoder serves one send: it numbers repeats of identical content
    across every slice it encodes (see :mod:`pandas_cio.prepare.message_ids`), so
    feed it the slices in input order.

    Parameters
    ----------
    plan : CallPlan
        The resolved call plan.
    columnwise : bool
        Use the column-wise path where the plan allows it.
        False always uses the reference path, one dict and one
        ``orjson.dumps`` per row, which gives the same bytes more slowly.
    untimed_ms : int
        The messageId time part of rows whose call has no timestamp
        (milliseconds since the Unix epoch); 0 by default.
    fields : sequence of tuple of str
        Paths of the call whose values each slice hands on beside the bytes
        (:attr:`EncodedSlice.fields`), read from the plan's columns.
    """

    def __init__(
        self,
        plan: CallPlan,
        *,
        columnwise: bool = True,
        untimed_ms: int = 0,
        fields: Sequence[tuple[str, ...]] = (),
    ) -> None:
        self.plan = plan
        self.fields = tuple(fields)
        self._tree, self._sources = compile_tree(plan.sources, plan.missing == "null")
        self._operation = plan.operation.name
        self._prefix = self._operation.encode() + b"\x00"
        self._untimed = untimed_ms
        self._timestamp = next((s for s in plan.sources if s.path == ("timestamp",)), None)
        self._repeats = RepeatCounter()
        self._layout: tuple[Entry, ...] | None = None
        # The day/month order of each timestamp column of strings, decided
        # from the whole frame's column (as validation did), not per slice.
        self._orders: dict[int, DateOrder] = {}
        self._orders_of: int | None = None
        if columnwise:
            try:
                self._layout = layout(self._tree, 1)
            except (RowDependentKeysError, TypeError):
                self._layout = None

    @property
    def columnwise(self) -> bool:
        """Whether this plan is encoded column-wise (else one dict per row)."""
        return self._layout is not None

    def _culprit(self, row: tuple[Any, ...]) -> str:
        """Name the first column whose value cannot be encoded (the slow path)."""
        for source, value in zip(self._sources, row, strict=True):
            try:
                orjson.dumps(value, default=json_default, option=JSON_OPTIONS)
            except TypeError as exc:
                return source.reason(str(exc.__cause__ or exc))
        return "the row cannot be encoded as JSON"

    def encode(self, frame: pd.DataFrame, positions: np.ndarray) -> EncodedSlice:
        """Encode the rows of ``frame`` at ``positions``.

        Parameters
        ----------
        frame : pandas.DataFrame
            The whole input frame.
        positions : numpy.ndarray
            Integer positions of the rows to encode (already validated), in
            input order; successive calls continue the send.

        Returns
        -------
        EncodedSlice
        """
        if len(positions) == 0:
            return EncodedSlice()
        positions = np.asarray(positions, dtype=np.int64)
        if self._orders_of != id(frame):
            # The kinds written as UTC date-times are the ones whose text is parsed.
            self._orders = {
                i: date_order(frame[s.column])
                for i, s in enumerate(self._sources)
                if KINDS[s.kind].wire == "iso-utc"
            }
            self._orders_of = id(frame)
        part = _rows(frame, positions, self.plan.columns)
        if self._layout is None:
            out = self._encode_rows(part, positions)
        else:
            out = self._encode_columns(part, positions, self._layout)
        if self.fields:
            rows = pd.Index(positions).get_indexer(out.positions)
            whole = len(rows) == len(part) and bool((rows == np.arange(len(rows))).all())
            encoded = part if whole else part.iloc[rows]
            orders = {self._sources[i].column: order for i, order in self._orders.items()}
            out.fields = {p: field_values(self.plan, encoded, p, orders) for p in self.fields}
        return out

    def _message_ids(self, part: pd.DataFrame) -> list[Any] | None:
        if self.plan.message_id is None:
            return None
        return column_values(part[self.plan.message_id], "id")

    def _times(self, part: pd.DataFrame) -> np.ndarray:
        """Each row's messageId time part (its timestamp, in milliseconds)."""
        source = self._timestamp
        if source is None:
            return time_parts(None, len(part), self._untimed)
        if source.is_constant:
            return time_parts(str(source.value), len(part), self._untimed)
        return time_parts(part[source.column], len(part), self._untimed)

    def _derive(
        self, rows: np.ndarray, randomness: np.ndarray, part: pd.DataFrame, content: Any
    ) -> np.ndarray:
        """Final messageIds (``uint8`` text) of the slice's ``rows`` from their repeat-0 digests.

        ``content(i)`` gives the ``i``-th of those rows' bytes, operation
        prefix included, for the rare rows whose content repeats.
        """
        operation = self._operation
        prefix = len(self._prefix)

        def rehash(i: int, repeat: int) -> bytes:
            return random_part(operation, bytes(content(i))[prefix:], repeat)

        return message_ids(randomness, self._times(part)[rows], self._repeats, rehash)

    def _contents(
        self, part: pd.DataFrame, rows: np.ndarray
    ) -> tuple[list[int], list[bytes], dict[int, str]]:
        """The reference encoding of the slice's ``rows``: one dict and one dumps per row.

        Returns the rows that encoded, their content (without messageId) and
        the reason of each row that did not, all by row of the slice.
        """
        columns = [
            column_values(part[s.column].iloc[rows], s.kind, self._orders.get(i))
            for i, s in enumerate(self._sources)
        ]
        dumps, default, option = orjson.dumps, json_default, JSON_OPTIONS
        make, tree = build, self._tree
        values = zip(*columns, strict=True) if columns else (() for _ in range(len(rows)))
        done: list[int] = []
        contents: list[bytes] = []
        invalid: dict[int, str] = {}
        for row, value in zip(rows.tolist(), values, strict=True):
            try:
                contents.append(dumps(make(tree, value), default=default, option=option))
            except TypeError:
                invalid[row] = self._culprit(value)
                continue
            done.append(row)
        return done, contents, invalid

    def _reference_ids(
        self, part: pd.DataFrame, done: list[int], contents: list[bytes]
    ) -> list[str]:
        """messageIds of reference-encoded rows (slice rows ``done``, in order)."""
        given = self._message_ids(part)
        if given is not None:
            return [given[row] for row in done]
        prefix = self._prefix
        joined = [prefix + c for c in contents]
        bounds = np.cumsum([0, *map(len, joined)], dtype=np.int64)
        randomness = digests(memoryview(b"".join(joined)), bounds)
        rows = np.asarray(done, dtype=np.int64)
        return as_strings(self._derive(rows, randomness, part, joined.__getitem__))

    def _encode_rows(self, part: pd.DataFrame, positions: np.ndarray) -> EncodedSlice:
        """The reference path: one dict and one ``orjson.dumps`` per row."""
        done, contents, invalid = self._contents(part, np.arange(len(part)))
        ids = self._reference_ids(part, done, contents)
        dumps = orjson.dumps
        # Splice the id before the closing brace: one encode per call.
        calls = [
            c[:-1] + b',"messageId":' + dumps(m) + b"}" for c, m in zip(contents, ids, strict=True)
        ]
        return EncodedSlice(
            positions[done].tolist(),
            calls,
            ids,
            {int(positions[r]): why for r, why in invalid.items()},
        )

    def _member(self, entry: Entry, part: pd.DataFrame, bad: set[int]) -> Member:
        """One key of an object, for every row of the slice."""
        if entry.text is not None:
            return Member(pieces=[entry.text])
        if entry.column is not None:
            source = self._sources[entry.column]
            values = fragments.column_json(
                part[source.column], source.kind, entry.depth, bad, self._orders.get(entry.column)
            )
            missing = entry.prefix + "null" if entry.keep_null else entry.fallback
            return Member(values.array, entry.prefix + values.head, values.tail, missing)
        assert entry.children is not None
        pieces, always = self._object(entry.children, part, bad)
        if always or entry.forced:
            return Member(pieces=[entry.prefix + "{", *pieces, "}"])
        (members,) = pieces
        present = pc.if_else(pc.equal(members, ""), pa.scalar(None, fragments.TEXT), members)
        return Member(present, entry.prefix + "{", "}", entry.fallback)

    def _object(
        self, entries: tuple[Entry, ...], part: pd.DataFrame, bad: set[int]
    ) -> tuple[list[fragments.Piece], bool]:
        """The pieces of one object's members, joined by commas, row by row.

        Returns the pieces and whether every row has a member. Commas go on
        the side of a member that every row has (the anchor), so nothing needs
        trimming; without an anchor the members are joined with trailing
        commas and the last one is cut, and the one piece returned can be "".
        """
        rows = len(part)
        members = [self._member(entry, part, bad) for entry in entries]
        anchor = next((i for i, m in enumerate(members) if m.always), None)
        if anchor is None:
            pieces = [p for m in members for p in m.place("", ",", rows)]
            joined = fragments.join(pieces, rows)
            return [pc.utf8_slice_codeunits(joined, 0, -1)], False
        placed: list[fragments.Piece] = []
        for i, member in enumerate(members):
            placed.extend(member.place("," if i > anchor else "", "," if i < anchor else "", rows))
        return placed, True

    def _encode_columns(
        self, part: pd.DataFrame, positions: np.ndarray, layout: tuple[Entry, ...]
    ) -> EncodedSlice:
        """The column-wise path: per-column JSON text concatenated per row by Arrow."""
        rows = len(part)
        bad: set[int] = set()
        members, _ = self._object(layout, part, bad)
        keep = None
        redo: tuple[list[int], list[bytes], dict[int, str]] = ([], [], {})
        if bad:
            keep = np.ones(rows, dtype=bool)
            keep[sorted(bad)] = False
            # Suspect rows go the reference way, which names the culprit; the
            # ones that encode after all are numbered in input order with the rest.
            redo = self._contents(part, np.asarray(sorted(bad), dtype=np.int64))
        kept_rows = np.arange(rows) if keep is None else np.flatnonzero(keep)
        given = self._message_ids(part)
        if given is None:
            text = self._column_ids(part, members, keep, kept_rows, redo)
            # Fixed-width text: the Arrow array is the numpy buffer with offsets.
            offsets = np.arange(0, (rows + 1) * _ULID_CHARS, _ULID_CHARS, dtype=np.int64)
            array = pa.Array.from_buffers(
                fragments.TEXT, rows, [None, pa.py_buffer(offsets), pa.py_buffer(text)]
            )
            id_pieces: list[fragments.Piece] = ['"', array, '"']
            ids: np.ndarray | list[Any] = text.view(f"S{_ULID_CHARS}").ravel()
        else:
            ids = given
            texts = fragments.list_texts(given, 1, set())
            id_pieces = Member(texts.array, texts.head, texts.tail, "null").place("", "", rows)
        # Each call followed by a comma, back to back: what Calls stores.
        calls = fragments.join(["{", *members, ',"messageId":', *id_pieces, "},"], rows)
        if keep is not None:
            calls = calls.filter(keep)
        data, bounds = fragments.buffer(calls)
        if keep is None:
            kept_ids = ids
        elif isinstance(ids, np.ndarray):
            kept_ids = ids[kept_rows]
        else:
            kept_ids = [ids[r] for r in kept_rows.tolist()]
        out = EncodedSlice(positions[kept_rows].tolist(), Calls(data, bounds), kept_ids)
        if bad:
            self._merge_redone(positions, out, redo, ids)
        # Hand the slice's temporaries back to the system: Arrow's allocator
        # keeps freed pages otherwise, and a long send would hold the peak.
        pa.default_memory_pool().release_unused()
        return out

    def _column_ids(
        self,
        part: pd.DataFrame,
        members: list[Any],
        keep: np.ndarray | None,
        kept_rows: np.ndarray,
        redo: tuple[list[int], list[bytes], dict[int, str]],
    ) -> np.ndarray:
        """Derived messageIds of every row of the slice, as ``uint8`` text of shape (rows, 26).

        Rows that did not encode get a placeholder; their calls are dropped.
        """
        rows = len(part)
        # Hash each row's bytes straight from the Arrow buffer, the operation
        # in front (one digest over the concatenation, as random_part's updates).
        content = fragments.join([self._operation + "\x00{", *members, "}"], rows)
        if keep is not None:
            content = content.filter(keep)
        data, bounds = fragments.buffer(content)
        randomness = np.zeros((rows, RANDOM_BYTES), dtype=np.uint8)
        randomness[kept_rows] = digests(data, bounds)
        done, contents, _ = redo
        texts: dict[int, bytes] = {}
        for row, text in zip(done, contents, strict=True):
            texts[row] = self._prefix + text
            randomness[row] = np.frombuffer(random_part(self._operation, text), dtype=np.uint8)
        encoded = np.sort(np.concatenate([kept_rows, np.asarray(done, dtype=np.int64)]))

        def content_of(i: int) -> Any:
            row = int(encoded[i])
            if row in texts:
                return texts[row]
            at = int(np.searchsorted(kept_rows, row))
            return data[int(bounds[at]) : int(bounds[at + 1])]

        derived = self._derive(encoded, randomness[encoded], part, content_of)
        if len(encoded) == rows:
            return derived
        placeholder = np.full((rows, _ULID_CHARS), ord("0"), dtype=np.uint8)
        placeholder[encoded] = derived
        return placeholder

    def _merge_redone(
        self,
        positions: np.ndarray,
        out: EncodedSlice,
        redo: tuple[list[int], list[bytes], dict[int, str]],
        ids: np.ndarray | list[Any],
    ) -> None:
        """Merge the suspect rows that encoded after all back in, in frame order."""
        done, contents, invalid = redo
        out.invalid.update({int(positions[r]): why for r, why in invalid.items()})
        if not done:
            return
        dumps = orjson.dumps

        def text(m: Any) -> bytes:
            # A derived id is ULID text (letters and digits): quoting is all it needs.
            return b'"' + m + b'"' if isinstance(m, bytes) else dumps(m)

        again = [
            (int(positions[r]), c[:-1] + b',"messageId":' + text(ids[r]) + b"}", ids[r])
            for r, c in zip(done, contents, strict=True)
        ]
        merged = sorted(
            [*zip(out.positions, out.calls, out.ids, strict=True), *again],
            key=lambda item: item[0],
        )
        out.positions = [p for p, _, _ in merged]
        out.calls = Calls.of(c for _, c, _ in merged)
        merged_ids = [m for _, _, m in merged]
        out.ids = (
            np.array(merged_ids, dtype=ids.dtype) if isinstance(ids, np.ndarray) else merged_ids
        )


def _rows(frame: pd.DataFrame, positions: np.ndarray, columns: list[Any]) -> pd.DataFrame:
    """The plan's columns at ``positions``; a contiguous run is a slice, not a copy."""
    view = frame[columns] if columns else frame.iloc[:, :0]
    first, last = int(positions[0]), int(positions[-1])
    if last - first + 1 == len(positions) and bool(np.all(np.diff(positions) == 1)):
        return view.iloc[first : last + 1]
    return view.iloc[positions]
