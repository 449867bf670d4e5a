"""Mirror deletes: what a ledger says was delivered and today's frame lacks goes away.

A nightly export is the truth. With ``mirror=`` and a ledger, a send also
deletes in Customer.io every person, object, relationship or device that the
ledger holds for the operation (it was delivered before) and that no row of
today's frame names:

==================  ==========  =======================================
operation           mirror=     each missing key becomes
==================  ==========  =======================================
identify            "delete"    ``User Deleted`` (operation ``delete``)
identify            "suppress"  ``User Suppressed`` (``suppress``)
objects.upsert      "delete"    ``Object Deleted`` (``objects.delete``)
objects.relate      "unrelate"  ``Relationship Deleted`` (``objects.unrelate``)
devices.register    "delete"    ``Device Deleted`` (``devices.delete``)
==================  ==========  =======================================

The deletions are calls of those operations, built by the same table and
encoder as any send (ULID messageIds, stamped with the send's start). They
are sent after the frame's own rows, and only when those were sent without
the send stopping early. Their result rows are appended to the result after
the input's rows (see :func:`label`); only a deletion the service confirmed
is forgotten by the ledger, so a failed one is tried again next run.

A key is kept, never deleted, when a row of the frame names it but cannot be
sent (``invalid`` or ``too_large``): a broken row is not a removed one. Keys
the deletion calls cannot name are never deleted: anonymous people
(``User Deleted`` needs a userId), and devices registered without a user.

The guard
---------
An empty or truncated export must not delete everyone. A mirror send stops
before any request, with a :class:`~pandas_cio.errors.MirrorGuardError`
whose ``result`` is the dry-run result, when

- the frame has no row with a key (an empty export) while the ledger holds
  keys: nothing is deleted, whatever ``mirror_max_deletes=`` says; or
- it would delete more than ``mirror_max_deletes`` keys. The default,
  :data:`DEFAULT_MAX_DELETES` (``0.25``), is a quarter of the keys the ledger
  holds for the operation, and never fewer than :data:`MIN_ALLOWED_DELETES`
  (10), so small tables can churn. Daily churn of a customer table is a few
  percent; an export that lost a partition or met a broken filter loses far
  more, so a quarter tells the two apart with room on both sides. An int
  is a count, a float a fraction; ``None`` removes the limit.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..catalogue.operation import Operation
from ..outcome.gates import Limit, check_limit, refusal
from ..prepare.plan import CallPlan
from ..prepare.values import column_values

__all__ = [
    "DEFAULT_MAX_DELETES",
    "EMPTY_ADVICE",
    "GUARD_ADVICE",
    "MIN_ALLOWED_DELETES",
    "MIRRORS",
    "Mirror",
    "label",
    "mirror_for",
]

#: What each operation's ``mirror=`` may be, and the operation each deletion is a call of.
MIRRORS: dict[str, dict[str, str]] = {
    "identify": {"delete": "delete", "suppress": "suppress"},
    "objects.upsert": {"delete": "objects.delete"},
    "objects.relate": {"unrelate": "objects.unrelate"},
    "devices.register": {"delete": "devices.delete"},
}
#: The default ``mirror_max_deletes=``: a quarter of the keys the ledger holds.
DEFAULT_MAX_DELETES: Limit = 0.25
#: A fraction limit always allows this many deletions.
MIN_ALLOWED_DELETES = 10
#: The guard's advice when the frame is empty (it has no Python in it).
EMPTY_ADVICE = (
    "An empty export is taken for a broken one: to delete everyone, send the deletions yourself"
)
#: The guard's advice to a Python caller; the command line gives its own.
GUARD_ADVICE = (
    "Check that the export is whole, or pass a larger mirror_max_deletes= (None for no limit)"
)
# Arguments each deletion operation is given, by the part of the key they come from.
_COLUMNS = ("user_id", "object_id", "object_type_id", "token")
# Where the ids that make a key are in a call: a row that cannot be sent
# protects every key made of its ids.
_ID_PATHS = (("userId",), ("anonymousId",), ("groupId",), ("context", "device", "token"))


def label(index: pd.Index, count: int) -> pd.Index:
    """Index labels for ``count`` deletion rows appended after a result with ``index``.

    ``"mirror:0"``, ``"mirror:1"``... (for a MultiIndex, tuples with that label
    first and empty strings after), so ``result.loc[df.index]`` and
    ``df[result.status == "failed"]`` still work on the input's rows.
    """
    names = [f"mirror:{i}" for i in range(count)]
    if isinstance(index, pd.MultiIndex):
        pad = ("",) * (index.nlevels - 1)
        return pd.MultiIndex.from_tuples([(n, *pad) for n in names], names=index.names)
    return pd.Index(names, dtype=object, name=index.name)


def _ids(key: str) -> dict[str, Any] | None:
    """The deletion call's arguments for one ledger key, or None when none can name it."""
    if key.startswith("user:"):
        return {"user_id": key[len("user:") :]}
    if not key.startswith("["):
        return None  # an anonymous person: the deletion events need a userId
    parts = orjson.loads(key)
    if parts[0] == "device":
        person, token = parts[1], parts[2]
        if not isinstance(person, str) or not person.startswith("user:") or token is None:
            return None
        return {"user_id": person[len("user:") :], "token": token}
    # The deletion events take the type as an integer; the key holds it as sent.
    kind = parts[0]
    found: dict[str, Any] = {
        "object_type_id": int(kind) if kind.isdigit() else kind,
        "object_id": parts[1],
    }
    if len(parts) > 2:
        if not parts[2].startswith("user:"):
            return None
        found["user_id"] = parts[2][len("user:") :]
    return found


@dataclass(frozen=True)
class Mirror:
    """One send's mirror: which operation's keys, what deletes them, how many may go.

    Attributes
    ----------
    action : str
        The ``mirror=`` value, e.g. ``"delete"``.
    target : str
        The operation each deletion is a call of, e.g. ``"delete"``.
    max_deletes : int, float or None
        The guard's limit (see the module docstring).
    """

    action: str
    target: str
    max_deletes: Limit | None

    @property
    def row_action(self) -> str:
        """The ``action`` column's value of a deletion row, e.g. ``"mirror_delete"``."""
        return f"mirror_{self.action}"

    def protected(self, plan: CallPlan, frame: pd.DataFrame, positions: np.ndarray) -> set[str]:
        """The ids in the rows at ``positions`` (rows that cannot be sent): their keys stay."""
        found: set[str] = set()
        if not len(positions):
            return found
        part = frame.iloc[positions]
        for source in plan.sources:
            if source.path not in _ID_PATHS:
                continue
            if source.is_constant:
                found.add(str(source.value))
                continue
            values = column_values(part[source.column], "id")
            found.update(str(v) for v in values if v is not None)
        return found

    def deletions(self, held: Iterable[str], present: set[str], kept: set[str]) -> list[str]:
        """The keys to delete: held by the ledger, absent today, nameable, not protected."""
        doomed = []
        for key in held:
            if key in present:
                continue
            ids = _ids(key)
            if ids is None:
                continue
            named = {str(v) for k, v in ids.items() if k != "object_type_id"}
            if kept and named <= kept:
                continue
            doomed.append(key)
        return sorted(doomed)

    def refused(self, deletions: int, held: int, keyed_rows: int) -> str | None:
        """The guard's reason to refuse, or None (see the module docstring)."""
        if not deletions:
            return None
        if keyed_rows == 0:
            return refusal(
                f"the frame has no row to send, and mirror={self.action!r} would delete all "
                f"{deletions:,} keys the ledger holds",
                EMPTY_ADVICE,
                also="or deleted",
            )
        if self.max_deletes is None:
            return None
        if isinstance(self.max_deletes, int):
            most = self.max_deletes
        else:
            most = max(MIN_ALLOWED_DELETES, math.floor(self.max_deletes * held))
        if deletions <= most:
            return None
        return refusal(
            f"mirror={self.action!r} would delete {deletions:,} of the {held:,} keys the ledger "
            f"holds, more than mirror_max_deletes={self.max_deletes!r} allows ({most:,})",
            GUARD_ADVICE,
            also="or deleted",
        )

    def frame(self, keys: list[str]) -> tuple[pd.DataFrame, dict[str, Hashable]]:
        """The deletion operation's input frame for ``keys`` and its role arguments."""
        rows = [_ids(key) or {} for key in keys]
        columns = [c for c in _COLUMNS if any(c in row for row in rows)]
        frame = pd.DataFrame(
            {c: pd.array([row.get(c) for row in rows], dtype=object) for c in columns},
            index=pd.RangeIndex(len(keys)),
        )
        return frame, {c: c for c in columns}


def mirror_for(
    operation: Operation, mirror: str | None, ledger: object, max_deletes: Limit | None
) -> Mirror | None:
    """Check a send's ``mirror=`` and ``mirror_max_deletes=``; None without mirror.

    Raises
    ------
    ValueError
        ``mirror=`` without ``ledger=``, on an operation that has no mirror,
        or a value the operation does not take.
    TypeError
        The ledger object cannot list or forget keys.
    """
    name = operation.method or operation.name
    if mirror is None:
        return None
    choices = MIRRORS.get(operation.name)
    if choices is None:
        raise ValueError(
            f"{name}() has no mirror=; mirror deletes work for "
            + ", ".join(f"{op}() ({'/'.join(map(repr, c))})" for op, c in MIRRORS.items())
        )
    if mirror not in choices:
        raise ValueError(
            f"{name}(mirror={mirror!r}): mirror= must be one of " + ", ".join(map(repr, choices))
        )
    if ledger is None:
        raise ValueError(
            f"{name}(mirror={mirror!r}) needs ledger=: the ledger is what says which keys "
            "were delivered before"
        )
    if not isinstance(ledger, str) and not hasattr(ledger, "__fspath__"):
        missing = [m for m in ("keys", "forget") if not callable(getattr(ledger, m, None))]
        if missing:
            raise TypeError(
                f"{name}(mirror={mirror!r}): the ledger object has no {' or '.join(missing)}() "
                "method, which mirror deletes need (see pandas_cio.SqliteLedger)"
            )
    limit = check_limit("mirror_max_deletes", max_deletes)
    return Mirror(mirror, choices[mirror], limit)
