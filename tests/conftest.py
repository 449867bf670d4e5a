"""Shared test settings: hypothesis profiles, the reference spec, a Jupyter kernel, a fake.

The ``fake`` fixture (one :class:`~pandas_cio.testing.FakeCio` per module) and
``client`` (a client of it, reset, without retries) serve the modules that
send many small frames; a module that needs other settings defines its own.

The reference-conformance tests compare what the library sends with
Customer.io's public OpenAPI description of the Data Pipelines API. That file
is not part of the repository: CI keeps it beside the checkout, in
``../shared/reference``. Elsewhere those tests skip, all with the one reason
:data:`REFERENCE_SKIP` gives; ``PANDAS_CIO_REFERENCE=DIR`` points them at a
folder holding the files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import pandas_cio
from pandas_cio.testing import FakeCio

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# The reference spec ---------------------------------------------------------

#: The environment variable naming the folder that holds the reference files.
REFERENCE_ENV = "PANDAS_CIO_REFERENCE"
#: Where CI keeps them: ``../shared/reference`` beside the repository.
DEFAULT_REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference"
#: The files the conformance tests read from that folder.
REFERENCE_FILES = ("cio_pipelines_api.json", "semantic_events.json")
REFERENCE_SKIP = (
    "needs ../shared/reference/cio_pipelines_api.json (the public Customer.io spec, "
    f"beside the repository in CI); set {REFERENCE_ENV}=DIR (the folder holding it and "
    "semantic_events.json) to run these"
)


def find_reference(environ: dict[str, str] | os._Environ[str]) -> tuple[Path | None, str]:
    """Return the folder holding the reference files, or None and why not.

    Parameters
    ----------
    environ : mapping
        The environment (``os.environ``); ``PANDAS_CIO_REFERENCE`` wins over
        the default folder beside the repository.

    Returns
    -------
    tuple
        The folder (None when it is missing or lacks a file) and the skip reason.
    """
    given = environ.get(REFERENCE_ENV, "").strip()
    folder = Path(given).expanduser() if given else DEFAULT_REFERENCE_DIR
    if folder.is_file():  # the spec itself was named: its folder holds both
        folder = folder.parent
    missing = [name for name in REFERENCE_FILES if not (folder / name).is_file()]
    if not missing:
        return folder, ""
    if given:
        return None, (
            f"{REFERENCE_ENV}={given} has no {' or '.join(missing)}; point it at the "
            "folder holding cio_pipelines_api.json (the public Customer.io spec) and "
            "semantic_events.json"
        )
    return None, REFERENCE_SKIP


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The folder of the reference spec; skips the test with one reason when absent."""
    folder, reason = find_reference(os.environ)
    if folder is None:
        pytest.skip(reason)
    return folder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Report every reference skip at this file, so ``-ra`` folds them into one line.

    pytest reports a skip raised in a fixture at each test's own line, which
    makes one summary line per test function; the reason is the same for all.
    """
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        _, _, message = report.longrepr
        if message.removeprefix("Skipped: ") == _reference_reason():
            report.longrepr = (str(Path(__file__)), _SKIP_LINE, message)
    return report


def _reference_reason() -> str:
    return find_reference(os.environ)[1]


# The line of the skip in reference_dir, where the folded summary line points.
_SKIP_LINE = next(
    number
    for number, line in enumerate(Path(__file__).read_text(encoding="utf-8").splitlines(), 1)
    if line.strip() == "pytest.skip(reason)"
)


# A Jupyter kernel -----------------------------------------------------------

# Names jupyter_client replaces with the running interpreter (sys.executable).
_SELF_NAMES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info)}


def _runs_this_interpreter(argv: list[str]) -> bool:
    if not argv:
        return False
    return argv[0] in _SELF_NAMES or Path(argv[0]).resolve() == Path(sys.executable).resolve()


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec whose kernel is this interpreter: python3 if it is, else a private one."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        if _runs_this_interpreter(spec.argv):
            yield "python3"
            return
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name="pandas-cio-tests", prefix=str(prefix))
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(prefix / "share" / "jupyter"), previous) if p
    )
    try:
        yield "pandas-cio-tests"
    finally:
        if previous is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = previous


@pytest.fixture(autouse=True)
def _no_base_url_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their own endpoints: a CIO_BASE_URL left in the shell must not redirect them."""
    monkeypatch.delenv("CIO_BASE_URL", raising=False)


# One fake a module, and a client of it ---------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCio]:
    """One fake service for the module; tests reset it (``client`` does)."""
    with FakeCio() as server:
        yield server


@pytest.fixture
def client(fake: FakeCio) -> Iterator[pandas_cio.Client]:
    """A client of the reset fake, without retries so injected faults fail a batch at once."""
    fake.reset()
    fake.clear_faults()
    with pandas_cio.Client(fake.api_key, base_url=fake.url, retry=0) as c:
        yield c
