"""``df.cio.objects`` and ``df.cio.devices``: objects, relationships and devices.

As thin as the accessor: each method names an operation of
:mod:`pandas_cio.catalogue.operations` and passes its arguments on.
"""

from __future__ import annotations

from typing import Any, Unpack

import pandas as pd

from .base import Columns, Namespace
from .options import CallOptions

__all__ = ["DevicesNamespace", "ObjectsNamespace"]


class ObjectsNamespace(Namespace):
    """``df.cio.objects``: objects (companies, accounts...) and relationships to people.

    Objects are ``group`` calls; deleting an object or a relationship is a
    Customer.io semantic event (``Object Deleted``, ``Relationship Deleted``).
    ``object_type_id=`` takes a column or one value; the service assumes 1
    when it is left out.
    """

    _prefix = "df.cio.objects."

    def upsert(
        self,
        object_id: Any = None,
        object_type_id: Any = None,
        *,
        traits: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Create or update one object per row.

        Parameters
        ----------
        object_id : column
            The object's id (sent as ``groupId``).
        object_type_id : column or int, optional
            The object type, sent as the string ``traits.object_type_id``.
        traits : list of columns or {column: attribute} mapping, optional
            Object attributes; default every column no other argument uses.

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> accounts = pd.DataFrame({"account": ["acme"], "plan": ["enterprise"]})
        >>> accounts.cio.objects.upsert(
        ...     object_id="account", object_type_id=1, dry_run=True
        ... )["status"].tolist()
        ['dry_run']
        """
        return self._send("objects.upsert", locals())

    def relate(
        self,
        user_id: Any = None,
        object_id: Any = None,
        object_type_id: Any = None,
        *,
        anonymous_id: Any = None,
        relationship_traits: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Relate one person to one object per row.

        Parameters
        ----------
        user_id, anonymous_id : column
            The person (each row needs one of them).
        object_id : column
            The object's id.
        object_type_id : column or int, optional
            The object type.
        relationship_traits : list of columns or {column: attribute} mapping, optional
            Attributes of the relationship (a role, a start date), sent as
            ``traits.relationshipAttributes``; default every column no other
            argument uses.

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> members = pd.DataFrame({"uid": ["u1"], "account": ["acme"], "role": ["admin"]})
        >>> members.cio.objects.relate(
        ...     user_id="uid", object_id="account", object_type_id=1, dry_run=True
        ... )["status"].tolist()
        ['dry_run']
        """
        return self._send("objects.relate", locals())

    def unrelate(
        self,
        user_id: Any = None,
        object_id: Any = None,
        object_type_id: Any = None,
        *,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Remove the relationship of one person and one object per row (``Relationship Deleted``).

        Parameters
        ----------
        user_id : column
            The person's id or email address.
        object_id : column
            The object's id (sent as ``properties.objectId``).
        object_type_id : column or int, optional
            The object type, an integer (``properties.objectTypeId``).
        properties : list of columns or {column: key} mapping, optional
            Further event properties; default every column no other argument uses.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        return self._send("objects.unrelate", locals())

    def delete(
        self,
        object_id: Any = None,
        object_type_id: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Delete one object per row (``Object Deleted``).

        Parameters
        ----------
        object_id : column
            The object's id (sent as ``properties.objectId``).
        object_type_id : column or int, optional
            The object type, an integer (``properties.objectTypeId``).
        anonymous_id : column or str, optional
            The service requires an ``anonymousId`` but ignores it; default
            ``"pandas_cio"``.
        properties : list of columns or {column: key} mapping, optional
            Further event properties; default every column no other argument uses.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        return self._send("objects.delete", locals())


class DevicesNamespace(Namespace):
    """``df.cio.devices``: people's devices, by push token."""

    _prefix = "df.cio.devices."

    def register(
        self,
        user_id: Any = None,
        token: Any = None,
        platform: Any = None,
        *,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Add or update one device per row (``Device Created or Updated``).

        Parameters
        ----------
        user_id : column
            The device's owner.
        token : column
            The push token (sent as ``context.device.token``).
        platform : column or str
            ``"ios"`` or ``"android"`` (sent as ``context.device.type``).
            Customer.io Journeys drops devices without one, so it is needed
            and rows without it are ``invalid``, unless ``journeys=False``.
        properties : list of columns or {column: attribute} mapping, optional
            Device attributes (app version, push enabled...), sent as the
            event's properties; default every column no other argument uses.

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> phones = pd.DataFrame({"uid": ["u1"], "push_token": ["abc123"], "os": ["ios"]})
        >>> phones.cio.devices.register(
        ...     user_id="uid", token="push_token", platform="os", dry_run=True
        ... )["status"].tolist()
        ['dry_run']
        """
        return self._send("devices.register", locals())

    def delete(
        self,
        user_id: Any = None,
        token: Any = None,
        platform: Any = None,
        *,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Remove one device per row (``Device Deleted``); arguments as for :meth:`register`.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        return self._send("devices.delete", locals())
