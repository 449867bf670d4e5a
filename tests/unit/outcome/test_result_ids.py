"""The result's message_id column is built from the encoder's fixed-width id text.

:class:`pandas_cio.outcome.results.MessageIds` keeps derived ids as ``S26`` bytes and
hands them to Arrow; these tests pin that the column it builds is the very
column the earlier object path built (same values, same ``string`` dtype,
missing where a row has no id), for derived ids, user ids and a mix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_cio.outcome.results import MessageIds, ResultBuilder, Status

ULID = st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26)


def _reference(n: int, assigned: dict[int, str]) -> pd.api.extensions.ExtensionArray:
    objects = np.full(n, None, dtype=object)
    for position, value in assigned.items():
        objects[position] = value
    return pd.array(objects, dtype="string")


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), data=st.data())
def test_fixed_width_ids_build_the_object_paths_column(n: int, data: st.DataObject) -> None:
    ids = MessageIds(n)
    assigned: dict[int, str] = {}
    for _ in range(data.draw(st.integers(0, 3))):
        rows = data.draw(st.lists(st.integers(0, max(n - 1, 0)), unique=True)) if n else []
        values = [data.draw(ULID) for _ in rows]
        ids[np.asarray(rows, dtype=np.int64)] = np.array(values, dtype="S26")
        assigned.update(zip(rows, values, strict=True))
    built = ids.array()
    expected = _reference(n, assigned)
    assert built.dtype == expected.dtype
    pd.testing.assert_extension_array_equal(built, expected)


def test_user_ids_after_derived_ones_switch_to_objects() -> None:
    ids = MessageIds(4)
    ids[np.array([0, 1])] = np.array([b"A" * 26, b"B" * 26], dtype="S26")
    ids[np.array([3])] = ["order-17"]
    expected = _reference(4, {0: "A" * 26, 1: "B" * 26, 3: "order-17"})
    pd.testing.assert_extension_array_equal(ids.array(), expected)


def test_a_result_without_ids_and_with_errors() -> None:
    builder = ResultBuilder(pd.RangeIndex(3), "identify")
    builder.mark(1, Status.INVALID, "user_id: must be a non-empty string")
    frame = builder.build()
    assert frame["message_id"].isna().all()
    assert str(frame["message_id"].dtype) == "string"
    assert frame["error"].tolist()[0] == "not sent"
    assert frame["error"].tolist()[1] == "user_id: must be a non-empty string"


def test_a_dry_runs_ids_are_strings_and_missing_for_invalid_rows() -> None:
    frame = pd.DataFrame({"id": ["a", None, "c", "d"], "plan": ["x", "y", "z", "x"]})
    result = frame.cio.identify(user_id="id", dry_run=True, progress=False)
    ids = result["message_id"]
    assert str(ids.dtype) == "string"
    assert ids.isna().tolist() == [False, True, False, False]
    assert ids.dropna().is_unique
    assert all(len(v) == 26 for v in ids.dropna())
