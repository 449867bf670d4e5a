"""Near-miss suggestions for names the caller typed: keywords, columns, options.

One rule for every place that says "did you mean ...?": names are compared
case-insensitively, a transposition of two neighbouring letters counts as one
edit (``nmae`` is one edit from ``name``), and how many edits a near miss may
have grows with the name's length, so that short names (``id``, ``os``) get
suggestions too without every two-letter name being "close" to every other.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "KEY_POINTER",
    "close_names",
    "edit_distance",
    "is_near_miss",
    "unknown_keywords_message",
]


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps.

    Parameters
    ----------
    a, b : str
        The two strings.

    Returns
    -------
    int
        The number of edits, where swapping two neighbouring characters is one.

    Examples
    --------
    >>> edit_distance("nmae", "name")
    1
    """
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _allowed_edits(length: int, loose: bool) -> int:
    # Two- and three-letter names differ from their neighbours by one letter
    # ("id"/"ip", "os"/"ts"), so only case and swaps count as near misses there;
    # the allowance then grows by one edit for every four letters.
    if length <= 3:
        return 1 if loose else 0
    return max(1, length // 4) + (1 if loose and length >= 6 else 0)


def _is_swap(a: str, b: str) -> bool:
    """Whether b is a with two neighbouring characters swapped."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]


def is_near_miss(typed: str, name: str, *, loose: bool = False) -> bool:
    """Whether ``typed`` is probably a misspelling of ``name`` (or ``name`` itself).

    Parameters
    ----------
    typed : str
        What the caller typed.
    name : str
        A valid name.
    loose : bool
        Allow a little more: for suggestions in an error that is raised
        anyway (an unknown keyword), where a far-fetched suggestion costs
        nothing; strict where a near miss changes what is sent.

    Returns
    -------
    bool
    """
    a, b = typed.casefold(), name.casefold()
    # Folding can change a length (German sharp s), so swaps are also read unfolded.
    if a == b or _is_swap(a, b) or _is_swap(typed, name):
        return True
    shorter = min(len(a), len(b))
    if edit_distance(a, b) <= _allowed_edits(shorter, loose):
        return True
    # difflib catches long names with a run of extra letters (evnt_name_col).
    cutoff = 0.75 if loose else 0.8
    return shorter >= 6 and difflib.SequenceMatcher(None, a, b).ratio() >= cutoff


def close_names(typed: str, names: Iterable[str], *, n: int = 3, loose: bool = False) -> list[str]:
    """The valid names closest to ``typed``, best first, at most ``n``.

    Parameters
    ----------
    typed : str
        What the caller typed.
    names : iterable of str
        The valid names.
    n : int
        How many to return at most.
    loose : bool
        As for :func:`is_near_miss`.

    Returns
    -------
    list of str
        Near misses, ordered by edits (case differences first), then by name.

    Examples
    --------
    >>> close_names("userid", ["user_id", "anonymous_id", "traits"])
    ['user_id']
    """
    folded = typed.casefold()
    unique = list(dict.fromkeys(names))
    hits = [name for name in unique if is_near_miss(typed, name, loose=loose)]
    hits.sort(key=lambda name: (edit_distance(folded, name.casefold()), name != typed))
    return hits[:n]


# Keywords people reach for to pass a key, which the accessor takes as a client.
_KEY_WORDS = frozenset({"api_key", "apikey", "key", "cio_api_key", "write_key", "secret"})
KEY_POINTER = "pass the key as client=pandas_cio.Client(key), or set CIO_API_KEY"
"""How an error tells someone who passed a key where the accessor wants it."""


def unknown_keywords_message(method: str, unknown: Iterable[str], valid: Iterable[str]) -> str:
    """The message for keywords a method does not take, with the closest valid names.

    Parameters
    ----------
    method : str
        The method as the caller wrote it, e.g. ``"df.cio.identify()"``.
    unknown : iterable of str
        The keywords it was given and does not take.
    valid : iterable of str
        Every keyword it takes.

    Returns
    -------
    str

    Examples
    --------
    >>> unknown_keywords_message("df.cio.identify()", ["userid"], ["user_id", "traits"])
    "df.cio.identify() got an unexpected keyword argument 'userid'; did you mean user_id=?"
    """
    names = sorted(dict.fromkeys(unknown))
    valid = list(valid)
    parts = []
    for name in names:
        if name.casefold() in _KEY_WORDS:
            parts.append(f"{name}=: {KEY_POINTER}")
            continue
        close = close_names(name, valid, loose=True)
        if close:
            parts.append(f"{name}=: did you mean {' or '.join(c + '=' for c in close)}?")
    plural = "s" if len(names) > 1 else ""
    head = f"{method} got an unexpected keyword argument{plural} " + ", ".join(map(repr, names))
    if len(names) == 1 and parts:
        return f"{head}; {parts[0].split(': ', 1)[1]}"
    if parts:
        return f"{head}; " + "; ".join(parts)
    return f"{head}; it takes {', '.join(sorted(valid))}"
