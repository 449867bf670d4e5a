"""One round trip against the real service; skipped unless CIO_API_KEY is set."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import pandas_cio

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("CIO_API_KEY"), reason="CIO_API_KEY is not set"),
]

PREFIX = "pandas-cio-live-test-"


def test_identify_and_delete_on_the_real_service() -> None:
    """Two demo people are accepted by the real API, then deleted again."""
    people = pd.DataFrame({"id": [PREFIX + "a", PREFIX + "b"], "plan": ["pro", None]})
    with pandas_cio.Client() as client:
        sent = people.cio.identify(user_id="id", client=client, progress=False)
        assert sent["status"].tolist() == ["sent", "sent"]
        deleted = people[["id"]].cio.delete(user_id="id", client=client, progress=False)
        assert deleted["status"].tolist() == ["sent", "sent"]
