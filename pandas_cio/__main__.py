"""``python -m pandas_cio``: the same command line as ``pandas-cio``."""

from __future__ import annotations

from .cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
