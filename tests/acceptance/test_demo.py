"""The demo job, run the way the README tells a newcomer to run it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pandas_cio.cli.demo import events_frame, people_frame


@pytest.fixture(scope="module")
def demo_run() -> subprocess.CompletedProcess[str]:
    """One run of `python -m pandas_cio demo`, without any API key in its environment."""
    env = {k: v for k, v in os.environ.items() if k != "CIO_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "pandas_cio", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def assert_ran_clean(done: subprocess.CompletedProcess[str]) -> None:
    """The demo exited 0 without a traceback: a check on its output means nothing otherwise."""
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_python_m_pandas_cio_demo_runs_clean(demo_run: subprocess.CompletedProcess[str]) -> None:
    """`python -m pandas_cio demo` exits 0 and prints both reports and the fake's counts."""
    done = demo_run
    assert_ran_clean(done)
    assert "cio.identify: 2,998 of 3,000 rows sent" in done.stdout
    assert "cio.track: 5,999 of 6,000 rows sent" in done.stdout
    assert "id (user_id=): is missing" in done.stdout
    assert (
        "over 1,000 bytes, which Customer.io Journeys refuses in an attribute value" in done.stdout
    )
    assert "too_large" in done.stdout
    assert "8,997 accepted calls" in done.stdout


def test_demo_output_holds_no_personal_data(demo_run: subprocess.CompletedProcess[str]) -> None:
    """Neither the reports nor the fake's summary print an email address or a user id."""
    done = demo_run
    # A demo that crashed before its reports would print no personal data either.
    assert_ran_clean(done)
    assert "cio.identify:" in done.stdout and "accepted calls" in done.stdout
    assert "@example.com" not in done.stdout + done.stderr
    assert "user-0" not in done.stdout + done.stderr


def test_sample_frames_carry_the_flaws_the_demo_shows() -> None:
    """The people frame has NaN traits, one missing id and one oversized trait."""
    people = people_frame()
    events = events_frame(people)
    assert people["id"].isna().sum() == 1
    assert people["lifetime_value"].isna().any()
    assert people["notes"].dropna().str.len().max() > 32_000
    assert set(events["uid"]) <= set(people["id"].dropna())
    assert events.loc[events["name"] != "Invoice Paid", "amount"].isna().all()
    assert events["filter"].dropna().str.len().max() > 32_000
