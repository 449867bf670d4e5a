"""Tests of ``python -m pandas_cio.testing._serve``: a FakeCio in its own process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading

import pandas as pd

import pandas_cio
from pandas_cio.testing import _serve

KEY = "serve-test-key"


def test_child_process_serves_and_answers_commands() -> None:
    """The child prints its URL, accepts a send, reports counters, resets and quits."""
    child = subprocess.Popen(
        [sys.executable, "-m", "pandas_cio.testing._serve", "--latency", "0", "--api-key", KEY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        started = json.loads(child.stdout.readline())
        assert set(started) == {"url"}  # the key is never echoed
        frame = pd.DataFrame({"id": ["u1", "u2", "u3"], "plan": ["a", "b", "c"]})
        with pandas_cio.Client(KEY, base_url=started["url"]) as client:
            result = frame.cio.identify(user_id="id", client=client)
        child.stdin.write("stats\n")
        child.stdin.flush()
        stats = json.loads(child.stdout.readline())
        assert stats["accepted_calls"] == stats["unique_message_ids"] == 3
        assert stats["requests"] == stats["max_requests_in_3s"] == 1
        assert (result["status"] == "sent").all()
        child.stdin.write("reset\nstats\nquit\n")
        child.stdin.flush()
        assert json.loads(child.stdout.readline()) == {"ok": True}
        assert json.loads(child.stdout.readline())["requests"] == 0
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_unknown_command_is_answered_not_fatal() -> None:
    """A mistyped command gets an error line and the fake keeps serving until input ends."""
    commands = io.StringIO("statz\nstats\n")
    out = io.StringIO()
    runner = threading.Thread(
        target=_serve.main, args=(["--latency", "0"],), kwargs={"stdin": commands, "out": out}
    )
    runner.start()
    runner.join(timeout=10)
    assert not runner.is_alive()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["url"].startswith("http://127.0.0.1:")
    assert lines[1] == {"error": "unknown command 'statz'"}
    assert lines[2]["requests"] == 0


def test_running_the_child_module_does_not_warn() -> None:
    """``python -m pandas_cio.testing._serve`` starts without runpy's double-import warning."""
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "pandas_cio.testing._serve", "-h"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "found in sys.modules" not in done.stderr
