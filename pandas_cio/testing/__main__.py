"""``python -m pandas_cio.testing``: run the local fake, as ``pandas-cio fake`` does."""

from __future__ import annotations

from pandas_cio.testing._announce import main

if __name__ == "__main__":
    raise SystemExit(main())
