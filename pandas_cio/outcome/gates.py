"""Quality gates: stop a send before any request when too many rows cannot be sent.

A nightly job that suddenly finds 30% of its rows invalid (a renamed column,
a broken upstream join) should not send the other 70% and exit quietly:
``max_invalid=`` and ``max_too_large=`` stop it before the first request with
a :class:`~pandas_cio.errors.QualityGateError` whose ``result`` is the
send's dry-run result, so the rows and their reasons can be inspected.

A limit is a count (an ``int``: at most that many rows) or a fraction of the
frame's rows (a ``float`` from 0.0 to 1.0: ``0.01`` allows 1%, rounded down).
The send stops when *more* rows than the limit have the status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .results import ResultBuilder, Status

__all__ = ["GATE_ADVICE", "NOTHING_SENT", "Gates", "Limit", "check_limit", "refusal", "split"]

Limit = int | float

#: What every gate and guard message says between its finding and its advice.
NOTHING_SENT = "nothing was sent"
#: A gate's advice to a Python caller; the command line gives its own (``--out``).
GATE_ADVICE = (
    "The exception's .result is the dry-run result: fix the rows it lists or raise the limit"
)


def refusal(finding: str, advice: str, *, also: str = "") -> str:
    """Compose a gate's or the mirror guard's message: what was found, then what to do.

    Parameters
    ----------
    finding : str
        What the gate found (``1 of 3 rows are invalid, ...``).
    advice : str
        What the caller can do, a sentence.
    also : str
        What else did not happen (``"or deleted"``).

    Examples
    --------
    >>> refusal("2 of 9 rows are invalid", "Fix them.")
    '2 of 9 rows are invalid; nothing was sent. Fix them.'
    """
    done = f"{NOTHING_SENT} {also}" if also else NOTHING_SENT
    return f"{finding}; {done}. {advice}"


def split(message: str) -> tuple[str, str, str]:
    """Take a :func:`refusal` message apart: finding, what did not happen, advice.

    The command line says the finding in its words and gives its own advice.

    Examples
    --------
    >>> split("2 of 9 rows are invalid; nothing was sent or deleted. Fix them.")
    ('2 of 9 rows are invalid', 'nothing was sent or deleted', 'Fix them.')
    """
    finding, _, rest = message.partition(f"; {NOTHING_SENT}")
    also, _, advice = rest.partition(". ")
    return finding, NOTHING_SENT + also, advice


def check_limit(name: str, value: Limit | None) -> Limit | None:
    """Return ``value`` when it is a valid limit for argument ``name``; raise otherwise.

    Raises
    ------
    TypeError
        Not an int, a float or None (a bool is refused: ``True`` is not a count).
    ValueError
        A negative count, or a fraction outside 0.0 to 1.0.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{name}= takes a count of rows (an int) or a fraction of the frame's rows "
            f"(a float from 0.0 to 1.0), not {type(value).__name__}"
        )
    if isinstance(value, int) and value < 0:
        raise ValueError(f"{name}={value} must be 0 or more rows")
    if isinstance(value, float) and not 0.0 <= value <= 1.0:
        raise ValueError(
            f"{name}={value} is a fraction of the frame's rows and must be from 0.0 to 1.0; "
            "pass an int for a count of rows"
        )
    return value


def allowed(limit: Limit, rows: int) -> int:
    """The most rows a limit allows in a frame of ``rows`` rows."""
    return limit if isinstance(limit, int) else math.floor(limit * rows)


@dataclass(frozen=True)
class Gates:
    """The gates of one send: ``max_invalid=`` and ``max_too_large=`` (None: no gate)."""

    max_invalid: Limit | None = None
    max_too_large: Limit | None = None

    @classmethod
    def of(cls, max_invalid: Limit | None, max_too_large: Limit | None) -> Gates:
        """Check both limits and return the gates."""
        return cls(
            check_limit("max_invalid", max_invalid), check_limit("max_too_large", max_too_large)
        )

    @property
    def active(self) -> bool:
        """Whether any gate is set."""
        return self.max_invalid is not None or self.max_too_large is not None

    def failed(self, builder: ResultBuilder) -> str | None:
        """The reason the send must stop, or None; call once every row is validated and encoded."""
        rows = builder.stats.rows
        for name, status, limit in (
            ("max_invalid", Status.INVALID, self.max_invalid),
            ("max_too_large", Status.TOO_LARGE, self.max_too_large),
        ):
            if limit is None:
                continue
            found, most = builder.count(status), allowed(limit, rows)
            if found > most:
                return refusal(
                    f"{found:,} of {rows:,} rows are {status.value}, more than "
                    f"{name}={limit!r} allows ({most:,})",
                    GATE_ADVICE,
                )
        return None
