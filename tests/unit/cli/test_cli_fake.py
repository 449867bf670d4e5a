"""``pandas-cio fake`` and ``python -m pandas_cio.testing``: the local fake for tools (issue 13, 8).

Before, a newcomer had to find the private ``python -m pandas_cio.testing._serve``,
which printed no key. The command prints the URL, the key and the two lines to
paste, serves what a client sends, and stops cleanly on Ctrl-C (SIGINT) or
SIGTERM. Each subprocess gets a bounded time.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading

import pandas as pd
import pytest
from paths import REPO

import pandas_cio
from pandas_cio.cli import main as cli
from pandas_cio.testing import serve
from pandas_cio.testing._serve import banner

ROOT = REPO
WAIT = 60  # seconds a child may take to start or to stop, on a loaded machine


class Child:
    """A subprocess whose stdout lines arrive on a queue, so reads can time out."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        env.pop("CIO_API_KEY", None)
        self.process = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def read_until(self, pattern: str) -> list[str]:
        seen: list[str] = []
        while not seen or not re.search(pattern, seen[-1]):
            seen.append(self.lines.get(timeout=WAIT))
        return seen

    def finish(self, signum: int) -> tuple[int, str, str]:
        """Send ``signum``; return the exit status, the rest of stdout, and stderr."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=WAIT)
        self._pump.join(timeout=WAIT)
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get_nowait())
        assert self.process.stderr is not None
        return code, "".join(rest), self.process.stderr.read()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _exports(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*export (CIO_\w+)=(.+?)\s*", line)
        if match:
            (value,) = shlex.split(match.group(2))
            found[match.group(1)] = value
    return found


def test_pandas_cio_fake_prints_what_to_paste_serves_and_stops_on_ctrl_c() -> None:
    """URL, key, the two export lines; a send lands; SIGINT ends it with status 0."""
    child = Child("-m", "pandas_cio", "fake")
    try:
        lines = child.read_until(r"Press Ctrl-C to stop")
        text = "".join(lines)
        exports = _exports(lines)
        assert set(exports) == {"CIO_API_KEY", "CIO_BASE_URL"}, text
        url, key = exports["CIO_BASE_URL"], exports["CIO_API_KEY"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", url)
        assert f"url  {url}" in text and f"key  {key}" in text
        frame = pd.DataFrame({"id": ["u1", "u2", "u3"], "plan": ["a", "b", "c"]})
        with pandas_cio.Client(key, base_url=url) as client:
            result = frame.cio.identify(user_id="id", client=client)
        assert (result["status"] == "sent").all()
        code, rest, errors = child.finish(signal.SIGINT)
        assert code == 0
        assert "stopped: 1 request, 3 calls accepted" in rest
        assert "Traceback" not in errors
    finally:
        child.kill()


def test_python_m_pandas_cio_testing_json_for_tools_and_sigterm() -> None:
    """--json prints one line a tool can read, with the key asked for; SIGTERM stops it."""
    child = Child("-m", "pandas_cio.testing", "--json", "--api-key", "tool-key")
    try:
        (line,) = child.read_until(r"^\{")
        started = json.loads(line)
        assert started["api_key"] == "tool-key"
        with pandas_cio.Client("tool-key", base_url=started["url"]) as client:
            result = pd.DataFrame({"id": ["u1"]}).cio.identify(user_id="id", client=client)
        assert result["status"].tolist() == ["sent"]
        code, rest, errors = child.finish(signal.SIGTERM)
        assert code == 0 and rest == "" and "Traceback" not in errors
    finally:
        child.kill()


def test_serve_in_a_thread_stops_when_told() -> None:
    """The Python entry point: serve(stop=event) prints the banner and returns the counters."""
    out, stop = io.StringIO(), threading.Event()
    counters: dict[str, object] = {}
    runner = threading.Thread(
        target=lambda: counters.update(serve("k", fail_rate=1.0, out=out, stop=stop))
    )
    runner.start()
    try:
        for _ in range(WAIT * 10):
            if "Press Ctrl-C" in out.getvalue():
                break
            stop.wait(0.1)
        url = _exports(out.getvalue().splitlines())["CIO_BASE_URL"]
        with pandas_cio.Client("k", base_url=url, retry=0) as client:
            result = pd.DataFrame({"id": ["u1"]}).cio.identify(user_id="id", client=client)
        assert result["status"].tolist() == ["failed"]  # --fail-rate 1: every /batch is a 503
    finally:
        stop.set()
        runner.join(timeout=WAIT)
    assert not runner.is_alive()
    assert counters["requests"] == 1 and counters["accepted_calls"] == 0
    assert "stopped: 1 request, 0 calls accepted" in out.getvalue()


def test_the_banner_quotes_keys_for_the_shell() -> None:
    """A key with shell characters is pasted back exactly."""
    text = banner("http://127.0.0.1:1/v1", "a b$c")
    assert _exports(text.splitlines())["CIO_API_KEY"] == "a b$c"


def test_fake_is_a_listed_command_and_checks_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``pandas-cio --help`` lists it; a share outside 0..1 is a usage error naming the option."""
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert re.search(r"^\s+fake\s+run a local fake", capsys.readouterr().out, re.M)
    with pytest.raises(SystemExit) as info:
        cli.main(["fake", "--fail-rate", "2"])
    assert info.value.code == 2
    assert "--fail-rate 2: give a share between 0 and 1" in capsys.readouterr().err


def test_a_taken_port_is_a_usage_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--port of a port in use exits 2 and says what to do; a port out of range too."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["fake", "--port", str(port)]) == 2
    message = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in message and "pick another --port" in message
    with pytest.raises(SystemExit) as info:
        cli.main(["fake", "--port", "70000"])
    assert info.value.code == 2
    assert "--port 70000: give a port number from 1 to 65535" in capsys.readouterr().err


def test_the_pasted_lines_point_a_plain_client_at_the_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two export lines the banner prints are all a Client() needs to reach the fake."""
    import pandas_cio

    with pandas_cio.testing.FakeCio() as fake:
        exported = _exports(banner(fake.url, fake.api_key).splitlines())
        for name, value in exported.items():
            monkeypatch.setenv(name, value)
        with pandas_cio.Client() as client:
            assert client.base_url.rstrip("/") == fake.url.rstrip("/")
