"""``pandas-cio fake``: run the local fake of the service for the command line and other tools.

It starts :class:`pandas_cio.testing.FakeCio` on 127.0.0.1, prints its URL, its
key and the two ``export`` lines to paste into another shell, and serves until
Ctrl-C (see :func:`pandas_cio.testing.serve`). ``python -m pandas_cio.testing``
runs the same command.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["add_fake_parser", "configure", "main", "run"]

_DESCRIPTION = """\
Start a local fake of Customer.io's Data Pipelines API (the one the demo and
the tests use), print its URL, its key and the environment lines that point
pandas_cio and pandas-cio at it, and serve until Ctrl-C. Nothing leaves this
machine.
"""

_EPILOG = """\
example:
  pandas-cio fake --port 8765
  # in another shell, paste the two export lines it prints, then:
  pandas-cio identify people.csv --user-id id
"""


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"--fail-rate {text}: give a share between 0 and 1")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"--port {text}: give a port number from 1 to 65535, or 0 for any free port"
        )
    return value


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the fake's options to ``parser`` and return it."""
    from pandas_cio.testing._serve import DEFAULT_KEY

    parser.add_argument(
        "--port", type=_port, default=0, help="port on 127.0.0.1 (default: any free port)"
    )
    parser.add_argument(
        "--api-key",
        default=DEFAULT_KEY,
        metavar="KEY",
        help=f"the key the fake accepts (default: {DEFAULT_KEY}; it is a fake's key)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, metavar="SECONDS", help="wait before each answer"
    )
    parser.add_argument(
        "--fail-rate",
        type=_share,
        default=0.0,
        metavar="SHARE",
        help="answer this share of /batch requests with HTTP 503, e.g. 0.2 (the client retries)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON line {"url": ..., "api_key": ...} instead of the text, for tools',
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    parser.set_defaults(command=None, run=run)
    return parser


def add_fake_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``fake`` among the ``pandas-cio`` commands."""
    configure(
        commands.add_parser(
            "fake",
            help="run a local fake of the service to try commands against (no credentials)",
            description=_DESCRIPTION,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM; return the exit status (0, or 2 when it cannot listen)."""
    import sys

    from pandas_cio.testing._serve import serve

    try:
        serve(
            args.api_key,
            port=args.port,
            latency=args.latency,
            fail_rate=args.fail_rate,
            json_line=args.json,
        )
    except OSError as exc:  # the port is taken, or not ours to use
        print(
            f"pandas-cio fake: cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc}); "
            "pick another --port, or leave it out for any free port",
            file=sys.stderr,
        )
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pandas_cio.testing``: the same as ``pandas-cio fake``."""
    import logging
    import sys

    parser = configure(
        argparse.ArgumentParser(
            prog="python -m pandas_cio.testing",
            description=_DESCRIPTION,
            epilog=_EPILOG.replace("pandas-cio fake", "python -m pandas_cio.testing"),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run(args)
