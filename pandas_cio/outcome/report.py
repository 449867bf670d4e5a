"""A summary of one send that a person can read at a glance.

``result.cio.report()`` returns a :class:`SendReport`: rows per status, the
most common reasons rows were not sent, and the send's counters (calls,
bytes, requests, retries, duration, rows per second). It prints as aligned
text in a terminal and renders as an HTML table in Jupyter.

The report holds counts and the library's own reasons, never a value from the
frame, so it is safe to paste into a ticket, a log or a cron mail.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from .columns import ACTION, ATTEMPTS, BATCH, ERROR, MESSAGE_ID, STATUS
from .results import COUNTERS, Status

__all__ = ["Reason", "SendReport"]

#: Reasons listed by name; the rest are summed on one line.
TOP_REASONS = 5
#: Reasons longer than this are cut: an HTTP error body can be long.
MAX_REASON_CHARS = 120

# Sizes and byte counts (40,154 or 40154) differ from row to row in otherwise
# identical reasons; short numbers such as HTTP statuses and attempts do not,
# and they tell different reasons apart, so they are left alone.
_VARYING_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d{4,}")
_KIB = 1024


@dataclass(frozen=True)
class Reason:
    """One reason rows were not sent, with how many rows it covers.

    Attributes
    ----------
    text : str
        The reason; numbers that differ between the rows it groups read ``N``.
    status : str
        The status of those rows (``invalid``, ``too_large``, ``failed``...).
    rows : int
        How many rows have it.
    """

    text: str
    status: str
    rows: int


def _group_reasons(pairs: pd.Series) -> list[Reason]:
    """Group (status, reason) counts by reason template, most rows first."""
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[list[str], int]]] = defaultdict(list)
    for pair, rows in pairs.items():
        status, text = (str(value) for value in cast(tuple[Any, Any], pair))
        key = (status, tuple(_VARYING_NUMBER.split(text)))
        groups[key].append((_VARYING_NUMBER.findall(text), int(rows)))
    reasons = []
    for (status, parts), members in groups.items():
        slots = list(zip(*(numbers for numbers, _ in members), strict=True))
        shown = [slot[0] if len(set(slot)) == 1 else "N" for slot in slots] + [""]
        text = "".join(part + number for part, number in zip(parts, shown, strict=True))
        if len(text) > MAX_REASON_CHARS:
            text = text[: MAX_REASON_CHARS - 3].rstrip() + "..."
        reasons.append(Reason(text, status, sum(rows for _, rows in members)))
    reasons.sort(key=lambda r: (-r.rows, r.status, r.text))
    return reasons


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class SendReport:
    """Counts per status, the top reasons and the counters of one send.

    Make one with :meth:`from_result` (or ``result.cio.report()``). Counters
    come from ``result.attrs["cio"]`` when it describes this very frame; when
    the attrs were lost or belong to a larger frame (after filtering), the
    counters that the frame itself records are derived from it and the rest
    (bytes, duration, split batches) are None. Derived requests are exact
    unless refused calls were isolated: a row's ``attempts`` then sums every
    request that carried it, and the requests of the intermediate halves
    cannot be told apart in the frame, so they are counted more than once.

    Attributes
    ----------
    operation : str
        The operation, e.g. ``"identify"``; empty when unknown.
    rows : int
        Rows in the result frame.
    statuses : tuple of (str, int)
        Rows per status, every status in :class:`~pandas_cio.Status` order.
    reasons : tuple of Reason
        The most common reasons rows were not sent.
    other_reasons : int
        Rows whose reasons are not among ``reasons``.
    calls, batches, requests, retries : int or None
        Calls encoded for sending, ``/batch`` bodies packed from them, HTTP
        requests made (retries and split batches included) and retries.
    split_batches : int or None
        Extra ``/batch`` bodies sent to isolate calls the service refused
        (see :mod:`pandas_cio.delivery.splitting`); shown only when not 0.
    call_bytes, body_bytes : int or None
        Bytes of the encoded calls, and of the request bodies.
    seconds : float or None
        Duration of the send.
    dry_run : bool
        Nothing was sent.
    derived : bool
        The counters were derived from the frame (see above).
    plan : tuple of (str, Any)
        What a send with a ledger would do or did (``result.attrs["cio"]["plan"]``:
        new, changed, unchanged, and with ``mirror=`` to delete); a dry run's
        report shows it as its first lines.
    mirror : tuple of (str, Any)
        A mirror send's deletions (``result.attrs["cio"]["mirror"]``).

    Examples
    --------
    >>> import pandas as pd, pandas_cio
    >>> people = pd.DataFrame({"id": ["u1", None], "plan": ["pro", "free"]})
    >>> report = people.cio.identify(user_id="id", dry_run=True).cio.report()
    >>> report.counts["dry_run"], report.counts["invalid"]
    (1, 1)
    >>> report.reasons[0].text
    'id (user_id=): is missing'
    """

    operation: str
    rows: int
    statuses: tuple[tuple[str, int], ...]
    reasons: tuple[Reason, ...] = ()
    other_reasons: int = 0
    calls: int | None = None
    call_bytes: int | None = None
    body_bytes: int | None = None
    batches: int | None = None
    requests: int | None = None
    retries: int | None = None
    split_batches: int | None = None
    seconds: float | None = None
    dry_run: bool = False
    derived: bool = False
    plan: tuple[tuple[str, Any], ...] = ()
    mirror: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_result(cls, result: pd.DataFrame, top: int = TOP_REASONS) -> SendReport:
        """Summarise a result frame.

        Parameters
        ----------
        result : pandas.DataFrame
            A frame an operation returned, whole or filtered.
        top : int
            How many reasons to list by name.

        Returns
        -------
        SendReport

        Raises
        ------
        ValueError
            The frame has no ``status`` column, so it is not a result frame.
        """
        if STATUS not in result.columns:
            raise ValueError(
                f"report() summarises a result frame (one with a {STATUS!r} column), such as "
                "the one df.cio.identify() returns; call it on that frame, not on the input"
            )
        found = result[STATUS].astype("object").fillna("missing").value_counts()
        counts = {s.value: 0 for s in Status}
        for status, rows in found.items():
            counts[str(status)] = int(rows)
        reasons: list[Reason] = []
        if ERROR in result.columns:
            failing = result.loc[result[ERROR].notna(), [STATUS, ERROR]]
            reasons = _group_reasons(failing.astype("object").value_counts(dropna=False))
        attrs = result.attrs.get("cio")
        attrs = attrs if isinstance(attrs, Mapping) else {}
        whole = attrs.get("rows") == len(result)
        counters = cls._attr_counters(attrs) if whole else cls._frame_counters(result)
        for name in ("plan", "mirror"):
            part = attrs.get(name) if whole else None
            counters[name] = tuple(part.items()) if isinstance(part, Mapping) else ()
        return cls(
            operation=str(attrs.get("operation") or ""),
            rows=len(result),
            statuses=tuple(counts.items()),
            reasons=tuple(reasons[:top]),
            other_reasons=sum(r.rows for r in reasons[top:]),
            dry_run=bool(attrs.get("dry_run")) or counts[Status.DRY_RUN] > 0,
            **counters,
        )

    @staticmethod
    def _attr_counters(attrs: Mapping[str, Any]) -> dict[str, Any]:
        seconds = attrs.get("seconds")
        counters: dict[str, Any] = {
            name: _count(attrs.get(name)) for name in COUNTERS if name != "rows"
        }
        counters.update(seconds=None if seconds is None else float(seconds), derived=False)
        return counters

    @staticmethod
    def _frame_counters(result: pd.DataFrame) -> dict[str, Any]:
        """Derive what the frame records: every row in a batch was in one call of it."""
        counters: dict[str, Any] = {"derived": True}
        if BATCH not in result.columns:
            return counters
        batched = result.loc[result[BATCH].notna()]
        ids = [BATCH, MESSAGE_ID] if MESSAGE_ID in result.columns else [BATCH]
        counters["calls"] = len(batched) if len(ids) == 1 else len(batched[ids].drop_duplicates())
        counters["batches"] = int(batched[BATCH].nunique())
        if ATTEMPTS in result.columns:
            attempts = batched.groupby(BATCH)[ATTEMPTS].max()
            counters["requests"] = int(attempts.sum())
            counters["retries"] = int((attempts - 1).clip(lower=0).sum())
        return counters

    @property
    def counts(self) -> dict[str, int]:
        """Rows per status."""
        return dict(self.statuses)

    @property
    def ok(self) -> bool:
        """True when every row's status is ok: sent, unchanged or (in a dry run) ready to send.

        ``rejected``, ``failed``, ``invalid`` and ``too_large`` rows make it False
        (see :attr:`pandas_cio.Status.ok`).
        """
        done = sum(self.counts.get(s.value, 0) for s in Status if s.ok)
        return done == self.rows

    @property
    def rows_per_second(self) -> float | None:
        """Rows handled per second of the send, when the duration is known."""
        if not self.seconds:
            return None
        return self.rows / self.seconds

    def headline(self) -> str:
        """One line: the operation and how many rows made it."""
        name = f"cio.{self.operation}" if self.operation else "cio send"
        if ":" in self.operation:  # a semantic event's operation, "semantic:Order Completed"
            family, event = self.operation.split(":", 1)
            name = f'cio.{family}("{event}")'
        counts = self.counts
        if self.dry_run:
            ready = counts[Status.DRY_RUN]
            return f"{name} (dry run): {ready:,} of {self.rows:,} rows ready to send, none sent"
        line = f"{name}: {counts[Status.SENT]:,} of {self.rows:,} rows sent"
        if counts[Status.UNCHANGED]:
            line += f", {counts[Status.UNCHANGED]:,} unchanged"
        if counts[Status.SUPERSEDED]:
            line += f", {counts[Status.SUPERSEDED]:,} superseded by later rows"
        return line

    def plan_lines(self) -> list[str]:
        """The plan of a send with a ledger as lines, or none without one."""
        if not self.plan:
            return []
        plan = dict(self.plan)
        name = f"cio.{plan.get('operation') or self.operation}"
        parts = [f"{plan.get(k, 0):,} {k}" for k in ("new", "changed", "unchanged")]
        if plan.get("delete") is not None:
            parts.append(f"{plan['delete']:,} to delete (mirror={plan.get('mirror')!r})")
        verb = "would send" if self.dry_run else "sent"
        lines = [f"plan of {name}: {', '.join(parts)}"]
        skipped = [
            f"{plan[k]:,} {k}" for k in ("invalid", "too_large", "superseded") if plan.get(k)
        ]
        lines.append(
            f"  {verb} {plan.get('new', 0) + plan.get('changed', 0):,} rows"
            + (f"; not sent: {', '.join(skipped)}" if skipped else "")
        )
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain values (for JSON, logs or metrics).

        Returns
        -------
        dict
        """
        rate = self.rows_per_second
        return {
            "operation": self.operation,
            "rows": self.rows,
            "ok": self.ok,
            "dry_run": self.dry_run,
            STATUS: self.counts,
            "reasons": [{"reason": r.text, STATUS: r.status, "rows": r.rows} for r in self.reasons],
            "other_reasons": self.other_reasons,
            "calls": self.calls,
            "call_bytes": self.call_bytes,
            "body_bytes": self.body_bytes,
            "batches": self.batches,
            "requests": self.requests,
            "retries": self.retries,
            "split_batches": self.split_batches,
            "seconds": self.seconds,
            "rows_per_second": None if rate is None else round(rate, 1),
            "derived": self.derived,
            "plan": dict(self.plan) or None,
            "mirror": dict(self.mirror) or None,
        }

    # Rendering: both renderers walk the same sections, so they cannot disagree.

    def _share(self, rows: int) -> str:
        if not self.rows:
            return "-"
        share = 100.0 * rows / self.rows
        if 0 < share < 0.1:
            return "<0.1%"
        if 99.9 < share < 100:
            return ">99.9%"
        return f"{share:.1f}%"

    def _status_rows(self) -> Iterator[tuple[str, str, str]]:
        for status, rows in self.statuses:
            if rows or (status == Status.SENT and not self.dry_run):
                yield status, f"{rows:,}", self._share(rows)
        yield "total", f"{self.rows:,}", self._share(self.rows)

    def _reason_rows(self) -> Iterator[tuple[str, str, str]]:
        for reason in self.reasons:
            yield reason.text, reason.status, f"{reason.rows:,}"
        if self.other_reasons:
            yield "other reasons", "", f"{self.other_reasons:,}"

    def _counter_rows(self) -> Iterator[tuple[str, str]]:
        def number(value: int | None) -> str:
            return "unknown" if value is None else f"{value:,}"

        def size(value: int | None) -> str:
            if value is None:
                return "unknown"
            return f"{value:,} ({value / _KIB:,.1f} KiB)" if value >= _KIB else f"{value:,}"

        yield "calls", number(self.calls)
        yield "call bytes", size(self.call_bytes)
        yield "body bytes", size(self.body_bytes)
        yield "batches", number(self.batches)
        yield "requests", number(self.requests)
        yield "retries", number(self.retries)
        if self.split_batches:
            yield "split batches", number(self.split_batches)
        if self.mirror:
            mirror = dict(self.mirror)
            done = "planned" if self.dry_run else f"{mirror.get('deleted', 0):,} confirmed"
            yield f"mirror {mirror.get(ACTION)}", f"{mirror.get('rows', 0):,} rows ({done})"
        yield "duration", "unknown" if self.seconds is None else f"{self.seconds:,.2f} s"
        # A dry run sends nothing, so its rows per second measure only the
        # encoding of a few rows and would read as a (tiny) throughput.
        if not self.dry_run:
            rate = self.rows_per_second
            yield "rows/s", "unknown" if rate is None else f"{rate:,.0f}"

    def _note(self) -> str | None:
        if not self.derived:
            return None
        return (
            "counters derived from the frame: its send counters were lost or describe a "
            "larger frame (after filtering)"
        )

    def __str__(self) -> str:
        lines = [*self.plan_lines(), ""] if self.dry_run and self.plan else []
        lines += [self.headline(), ""]
        statuses = list(self._status_rows())
        wide = max(len(STATUS), *(len(s) for s, _, _ in statuses))
        width = max(len("rows"), *(len(n) for _, n, _ in statuses))
        lines.append(f"  {STATUS:<{wide}}  {'rows':>{width}}  {'share':>6}")
        lines += [f"  {s:<{wide}}  {n:>{width}}  {p:>6}" for s, n, p in statuses]
        reasons = list(self._reason_rows())
        if reasons:
            wide = max(len("reason"), *(len(t) for t, _, _ in reasons))
            kind = max(len(STATUS), *(len(s) for _, s, _ in reasons))
            width = max(len("rows"), *(len(n) for _, _, n in reasons))
            lines += ["", f"  {'reason':<{wide}}  {STATUS:<{kind}}  {'rows':>{width}}"]
            lines += [f"  {t:<{wide}}  {s:<{kind}}  {n:>{width}}" for t, s, n in reasons]
        counters = list(self._counter_rows())
        wide = max(len(name) for name, _ in counters)
        lines.append("")
        lines += [f"  {name:<{wide}}  {value}" for name, value in counters]
        note = self._note()
        if note:
            lines += ["", f"  note: {note}"]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """Render as an HTML table, for Jupyter."""
        esc = html.escape
        right = ' style="text-align:right"'
        left = ' style="text-align:left"'

        def section(*titles: str) -> str:
            cells = "".join(
                f"<th{left if i == 0 else right}>{esc(t)}</th>" for i, t in enumerate(titles)
            )
            return f"<tr>{cells}</tr>"

        def row(first: str, *rest: str) -> str:
            cells = "".join(f"<td{right}>{esc(v)}</td>" for v in rest)
            return f"<tr><td{left}>{esc(first)}</td>{cells}</tr>"

        parts = [
            '<table class="pandas-cio-report">',
            # nowrap: the caption is as wide as the table's columns, which would
            # break the headline mid-phrase; the headline is one line.
            f'<caption style="text-align:left;white-space:nowrap">'
            f"<b>{esc(self.headline())}</b></caption>",
        ]
        if self.dry_run and self.plan:
            parts += [
                f'<tr><td colspan="3"{left}>{esc(line.strip())}</td></tr>'
                for line in self.plan_lines()
            ]
        parts.append(section(STATUS, "rows", "share"))
        parts += [row(*cells) for cells in self._status_rows()]
        reasons = list(self._reason_rows())
        if reasons:
            parts.append(section("reason", STATUS, "rows"))
            parts += [row(*cells) for cells in reasons]
        parts.append(section("counter", "value", ""))
        parts += [row(name, value, "") for name, value in self._counter_rows()]
        note = self._note()
        if note:
            parts.append(f'<tr><td colspan="3"{left}><i>{esc(note)}</i></td></tr>')
        parts.append("</table>")
        return "\n".join(parts)
