"""``python -m pandas_cio.testing``: run the local fake, as ``pandas-cio fake`` does."""

from __future__ import annotations

from pandas_cio.cli_fake import main

if __name__ == "__main__":
    raise SystemExit(main())
