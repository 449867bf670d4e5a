"""The demo job: a realistic send against the built-in fake service, no credentials.

``python -m pandas_cio demo`` (or ``pandas-cio demo``) starts
:class:`~pandas_cio.testing.FakeCio` on loopback, builds a people frame and an
events frame with the flaws real data has (missing traits, a row without a
user id, a trait over Customer.io Journeys' 1,000-byte attribute limit, an
event too large for the service), sends ``identify`` and ``track``
through a :class:`~pandas_cio.Client` bound to the fake, and prints the send
report of each and what the fake recorded (counts only, never bodies).
"""

from __future__ import annotations

import sys
from typing import TextIO

import numpy as np
import pandas as pd

from ..delivery.client import Client
from ..testing import FakeCio, Fault

__all__ = ["events_frame", "people_frame", "run_demo"]

PEOPLE = 3_000
EVENTS = 6_000
# One trait over Journeys' 1,000-byte attribute limit (an invalid row), and one
# event over the service's 32 KB call limit (a too_large row).
OVERSIZED_TRAIT_BYTES = 40_000
OVERSIZED_EVENT_BYTES = 40_000
_PLANS = ["free", "starter", "pro", "enterprise"]
_COUNTRIES = ["US", "GB", "DE", "FR", "BR", "IN", "JP", None]
_EVENT_NAMES = ["Signed In", "Report Exported", "Invoice Paid", "Seat Added"]
_START = pd.Timestamp("2024-01-01", tz="UTC")


def people_frame(rows: int = PEOPLE, seed: int = 0) -> pd.DataFrame:
    """Return a sample people frame with the flaws of real exports.

    Some traits are missing (NaN, None, NaT), row 1 has no user id and row 2
    carries a notes trait far over Customer.io Journeys' 1,000-byte limit on
    attribute values (and the service's 32 KB call limit).

    Parameters
    ----------
    rows : int
        Number of people (at least 3).
    seed : int
        Seed of the random generator, so the frame is the same every run.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, email, plan, country, signed_up_at, seats, lifetime_value,
        newsletter, notes``.
    """
    rng = np.random.default_rng(seed)
    ids = [f"user-{i:05d}" for i in range(rows)]
    signed_up = _START + pd.to_timedelta(rng.integers(0, 365 * 24 * 3600, rows), unit="s")
    frame = pd.DataFrame(
        {
            "id": pd.array(ids, dtype="string"),
            "email": [f"person{i}@example.com" for i in range(rows)],
            "plan": rng.choice(_PLANS, rows),
            "country": rng.choice(np.array(_COUNTRIES, dtype=object), rows),
            "signed_up_at": signed_up,
            "seats": pd.array(rng.integers(1, 50, rows), dtype="Int64"),
            "lifetime_value": rng.gamma(2.0, 150.0, rows).round(2),
            "newsletter": rng.random(rows) < 0.4,
            "notes": pd.array([None] * rows, dtype="string"),
        }
    )
    frame.loc[rng.random(rows) < 0.05, "lifetime_value"] = np.nan
    frame.loc[rng.random(rows) < 0.03, "seats"] = pd.NA
    frame.loc[rng.random(rows) < 0.02, "signed_up_at"] = pd.NaT
    frame.loc[1, "id"] = pd.NA
    frame.loc[2, "notes"] = "lorem ipsum " * (OVERSIZED_TRAIT_BYTES // 12)
    return frame


def events_frame(people: pd.DataFrame, rows: int = EVENTS, seed: int = 1) -> pd.DataFrame:
    """Return a sample events frame for the people of :func:`people_frame`.

    Parameters
    ----------
    people : pandas.DataFrame
        The people; events go to those with a user id.
    rows : int
        Number of events.
    seed : int
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``uid, name, ts, amount, seats, filter``; ``amount`` only on
        ``Invoice Paid``, ``seats`` only on ``Seat Added``, ``filter`` only on
        row 3, a ``Report Exported`` whose filter is over the service's 32 KB
        call limit.
    """
    rng = np.random.default_rng(seed)
    users = people["id"].dropna().to_numpy()
    names = rng.choice(_EVENT_NAMES, rows, p=[0.55, 0.25, 0.1, 0.1])
    frame = pd.DataFrame(
        {
            "uid": rng.choice(users, rows),
            "name": names,
            "ts": _START + pd.to_timedelta(rng.integers(0, 365 * 24 * 3600, rows), unit="s"),
            "amount": np.where(
                names == "Invoice Paid", rng.gamma(2.0, 40.0, rows).round(2), np.nan
            ),
            "seats": pd.array(
                np.where(names == "Seat Added", rng.integers(1, 5, rows), 0), dtype="Int64"
            ),
        }
    )
    frame.loc[frame["name"] != "Seat Added", "seats"] = pd.NA
    frame["filter"] = pd.array([None] * rows, dtype="string")
    frame.loc[3, "name"] = "Report Exported"
    frame.loc[3, "filter"] = "country in (...) " * (OVERSIZED_EVENT_BYTES // 17)
    return frame


def _recorded(fake: FakeCio) -> str:
    calls = fake.calls
    by_type = pd.Series([c.get("type") for c in calls], dtype="object").value_counts()
    kinds = ", ".join(f"{name} {count:,}" for name, count in by_type.items())
    refused = sum(1 for r in fake.requests if r.status != 200)
    return (
        f"The fake service recorded {len(fake.requests):,} requests ({refused:,} answered "
        f"with an error and retried), {len(calls):,} accepted calls ({kinds}), "
        f"{fake.dropped_calls:,} dropped calls and {fake.dropped_bodies:,} dropped bodies."
    )


def run_demo(out: TextIO | None = None) -> int:
    """Run the demo job and print what happened.

    Parameters
    ----------
    out : text stream, optional
        Where to print; standard output by default.

    Returns
    -------
    int
        The exit status: 0 when the demo ran as designed.
    """
    out = out or sys.stdout
    people = people_frame()
    events = events_frame(people)
    print(
        f"pandas_cio demo: {len(people):,} people and {len(events):,} events, sent to a local "
        "fake of the Customer.io Data Pipelines API (no credentials, nothing leaves this "
        "machine).\n",
        file=out,
    )
    with FakeCio() as fake, Client(fake.api_key, base_url=fake.url) as client:
        # One transient 503, to show a retry that recovers on its own.
        fake.inject(Fault(status=503, count=1))
        people_result = people.cio.identify(user_id="id", client=client, progress=False)
        print(people_result.cio.report(), end="\n\n", file=out)
        events_result = events.cio.track(
            user_id="uid", event="name", timestamp="ts", client=client, progress=False
        )
        print(events_result.cio.report(), end="\n\n", file=out)
        print(_recorded(fake), file=out)
    print(
        "\nRows that were not sent keep their reason in the result frame: "
        'people[result["status"] != "sent"] is what to fix and send again.',
        file=out,
    )
    return 0
