"""Devices (Device Created or Updated, Device Deleted) over real HTTP."""

from __future__ import annotations

import pandas as pd
import pytest
from frame_cases import recorded

import pandas_cio
from pandas_cio.testing import FakeCio


@pytest.fixture
def phones() -> pd.DataFrame:
    """Three devices: one good, one on an unknown platform, one without a token."""
    return pd.DataFrame(
        {
            "uid": ["u1", "u2", "u3"],
            "push_token": ["tok-1", "tok-2", None],
            "os": ["ios", "windows", "android"],
            "app_version": ["2.1", "2.0", "1.9"],
            "push_enabled": [True, False, True],
        }
    )


def test_register_puts_the_device_in_context_and_attributes_in_properties(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, phones: pd.DataFrame
) -> None:
    """register: token and platform in context.device, the context constant merged in."""
    result = phones.cio.devices.register(
        user_id="uid",
        token="push_token",
        platform="os",
        context={"app": {"name": "Shop"}},
        client=cio_client,
    )
    assert result["status"].tolist() == ["sent", "invalid", "invalid"]
    assert result.loc[1, "error"] == "os (platform=): must be one of android, ios"
    assert result.loc[2, "error"] == "push_token (token=): is missing"
    assert recorded(cio_fake, result) == [
        {
            "type": "track",
            "event": "Device Created or Updated",
            "userId": "u1",
            "context": {"app": {"name": "Shop"}, "device": {"token": "tok-1", "type": "ios"}},
            "properties": {"app_version": "2.1", "push_enabled": True},
        }
    ]


def test_delete_sends_device_deleted(
    cio_fake: FakeCio, cio_client: pandas_cio.Client, phones: pd.DataFrame
) -> None:
    """delete: Device Deleted with a constant platform and no other columns."""
    result = phones.cio.devices.delete(
        user_id="uid", token="push_token", platform="android", properties=[], client=cio_client
    )
    assert result["status"].tolist() == ["sent", "sent", "invalid"]
    assert recorded(cio_fake, result) == [
        {
            "type": "track",
            "event": "Device Deleted",
            "userId": user,
            "context": {"device": {"token": token, "type": "android"}},
        }
        for user, token in (("u1", "tok-1"), ("u2", "tok-2"))
    ]


def test_platform_constant_is_checked(phones: pd.DataFrame) -> None:
    """A platform constant outside ios/android raises before any row is sent."""
    with pytest.raises(pandas_cio.ColumnError, match="platform='web' must be one of ios"):
        phones.cio.devices.register(user_id="uid", token="push_token", platform="web")


def test_devices_need_a_token(phones: pd.DataFrame) -> None:
    """token= is required."""
    with pytest.raises(pandas_cio.ColumnError, match="needs token="):
        phones.cio.devices.register(user_id="uid", dry_run=True)
