"""The ``DataFrame.cio`` accessor: thin methods that hand a request to the pipeline.

pandas caches one accessor object per frame, so the accessor holds nothing but
the frame; every setting travels with the call. Object, device and semantic
event methods live in namespaces (``df.cio.objects.upsert(...)``,
``df.cio.devices.register(...)``, ``df.cio.semantic.ecommerce(...)``) that are
as thin: each method names an operation of :mod:`pandas_cio.catalogue.operations` and
passes its arguments on (:mod:`pandas_cio.accessor.namespaces`,
:mod:`pandas_cio.accessor.semantic`). What every method shares, the send
options and their documentation, is :mod:`pandas_cio.accessor.base` and
:mod:`pandas_cio.accessor.options`.
"""

from __future__ import annotations

from typing import Any, Unpack

import pandas as pd

from ..outcome.report import SendReport
from ..outcome.results import merge_retry
from .base import Columns, Namespace
from .namespaces import DevicesNamespace, ObjectsNamespace
from .options import CallOptions
from .semantic import SemanticNamespace

__all__ = [
    "CioAccessor",
    "DevicesNamespace",
    "ObjectsNamespace",
    "SemanticNamespace",
    "SeriesCioAccessor",
]


@pd.api.extensions.register_dataframe_accessor("cio")
class CioAccessor(Namespace):
    """Send a frame's rows to Customer.io: ``df.cio.identify(user_id="id")``.

    Every method returns a result frame with the input's index and one row
    per input row (see :mod:`pandas_cio.outcome.results`). Every sending
    method also takes the send options (``client=``, ``dry_run=``,
    ``ledger=``, ``journeys=``...; see
    :data:`pandas_cio.accessor.options.SEND_OPTIONS`), listed under its
    Other Parameters.

    Column arguments such as ``user_id=`` name columns; arguments such as
    ``event=``, ``name=`` or ``object_type_id=`` take a column or one constant
    for every row (see :mod:`pandas_cio.prepare.roles`). Every method also takes
    the roles every operation has, ``timestamp=``, ``message_id=``,
    ``context=`` and ``integrations=`` (see
    :data:`pandas_cio.accessor.options.COMMON_ARGUMENTS`), listed first under
    its Other Parameters.
    """

    @property
    def objects(self) -> ObjectsNamespace:
        """Objects (``group`` calls) and their relationships to people."""
        return ObjectsNamespace(self._frame)

    @property
    def devices(self) -> DevicesNamespace:
        """People's mobile devices (push tokens)."""
        return DevicesNamespace(self._frame)

    @property
    def semantic(self) -> SemanticNamespace:
        """The semantic events of the Data Pipelines API, by category."""
        return SemanticNamespace(self._frame)

    def report(self) -> SendReport:
        """Summarise a result frame for a person: counts, top errors, throughput.

        Call it on the frame an operation returned: ``result.cio.report()``.
        It renders as an HTML table in Jupyter and as aligned text in a terminal.
        """
        return SendReport.from_result(self._frame)

    def merge_retry(self, retry: pd.DataFrame) -> pd.DataFrame:
        """Fold the result of a re-send into this result frame.

        Call it on the first result: rows the re-send covered take its
        outcome, every other row keeps its own.

        Parameters
        ----------
        retry : pandas.DataFrame
            The result of re-sending some rows, e.g. of
            ``df[result.status == "failed"].cio.identify(...)``.

        Returns
        -------
        pandas.DataFrame
            A new result frame with this frame's index.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> people = pd.DataFrame({"id": ["u1", None]})
        >>> first = people.cio.identify(user_id="id", dry_run=True)
        >>> fixed = people.fillna({"id": "u2"})
        >>> again = fixed[first.status == "invalid"].cio.identify(user_id="id", dry_run=True)
        >>> first.cio.merge_retry(again)["status"].tolist()
        ['dry_run', 'dry_run']
        """
        return merge_retry(self._frame, retry)

    def identify(
        self,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        traits: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Create or update one person per row.

        Parameters
        ----------
        user_id : column
            The person's id (strings or integers; sent as strings).
        anonymous_id : column, optional
            An anonymous id, for rows without a user id.
        traits : list of columns or {column: trait} mapping, optional
            Columns sent as traits; default every column no other argument uses.
            Customer.io Journeys takes at most 300 attributes per call, names
            of at most 150 bytes and values of at most 1,000 bytes; rows
            over a limit are ``invalid`` (unless ``journeys=False``).

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> people = pd.DataFrame({"id": ["u1", "u2"], "plan": ["pro", None]})
        >>> people.cio.identify(user_id="id", dry_run=True)["status"].tolist()
        ['dry_run', 'dry_run']
        """
        return self._send("identify", locals())

    def track(
        self,
        user_id: Any = None,
        event: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Record one event per row.

        Parameters
        ----------
        user_id : column
            The person's id.
        event : column or str
            A column of event names, or one name for every row. A string is
            a column when the frame has that column, else the event name;
            use :func:`pandas_cio.lit` / :func:`pandas_cio.col` to be explicit.
            Names Customer.io Journeys routes to another action (``User
            Deleted``, ``Device Deleted``, ``Application Installed``...; see
            :data:`pandas_cio.prepare.plan.RESERVED_EVENTS`) are refused, as a
            constant with an error and in a column as ``invalid`` rows, each
            naming the method that sends them on purpose; names over 100
            bytes are refused too (unless ``journeys=False``).
        anonymous_id : column, optional
            An anonymous id, for rows without a user id.
        properties : list of columns or {column: key} mapping, optional
            Event properties; default every column no other argument uses.

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> events = pd.DataFrame({"uid": ["u1"], "plan": ["pro"]})
        >>> events.cio.track(user_id="uid", event="Signed Up", dry_run=True)["status"].tolist()
        ['dry_run']
        """
        return self._send("track", locals())

    def page(
        self,
        user_id: Any = None,
        name: Any = None,
        *,
        anonymous_id: Any = None,
        url: Any = None,
        category: Any = None,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Record one page view per row.

        Parameters
        ----------
        user_id, anonymous_id : column
            The person (each row needs one of them).
        name, category : column or str, optional
            The page's name (sent as ``name``) and category (sent as
            ``properties.category``, where the API documents it).
        url : column or str, optional
            The page's address, sent as ``properties.url``; Customer.io
            Journeys names the page view by it and drops page views without
            one. Without ``url=``, a property column called ``url`` serves;
            rows with no url are ``invalid`` unless ``journeys=False``.
        properties : list of columns or {column: key} mapping, optional
            Page properties (``title``, ``path``...); default every column no
            other argument uses.

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> views = pd.DataFrame({"uid": ["u1"], "url": ["https://example.com/pricing"]})
        >>> views.cio.page(user_id="uid", name="Pricing", dry_run=True)["status"].tolist()
        ['dry_run']
        """
        return self._send("page", locals())

    def screen(
        self,
        user_id: Any = None,
        name: Any = None,
        *,
        anonymous_id: Any = None,
        category: Any = None,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Record one app screen view per row; arguments as for :meth:`page`, without ``url``.

        Customer.io Journeys drops screen views without a name, so ``name=``
        is needed and rows without one are ``invalid`` (unless ``journeys=False``).

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> views = pd.DataFrame({"uid": ["u1"], "screen": ["Settings"]})
        >>> views.cio.screen(user_id="uid", name="screen", dry_run=True)["status"].tolist()
        ['dry_run']
        """
        return self._send("screen", locals())

    def alias(
        self,
        user_id: Any = None,
        previous_id: Any = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Merge the person ``previous_id`` into the person ``user_id``, one pair per row.

        Parameters
        ----------
        user_id : column
            The id to keep.
        previous_id : column
            The id whose profile is merged into it. Other columns are not sent.

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> merges = pd.DataFrame({"new": ["u1"], "old": ["anon-7"]})
        >>> merges.cio.alias(user_id="new", previous_id="old", dry_run=True)["status"].tolist()
        ['dry_run']
        """
        return self._send("alias", locals())

    def suppress(
        self,
        user_id: Any = None,
        *,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Delete people and block their ids from coming back (``User Suppressed``).

        Send this only for compliance (a right-to-be-forgotten request).

        Parameters
        ----------
        user_id : column
            The person's id or email address.
        properties : list of columns or {column: key} mapping, optional
            Event properties (for analytics destinations); default every
            column no other argument uses.

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> gone = pd.DataFrame({"id": ["u1", "u2"]})
        >>> gone.cio.suppress(user_id="id", dry_run=True)["status"].tolist()
        ['dry_run', 'dry_run']
        """
        return self._send("suppress", locals())

    def unsuppress(
        self,
        user_id: Any = None,
        *,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Let suppressed ids be added again (``User Unsuppressed``); as :meth:`suppress`.

        No data comes back: the person can only be created anew.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        return self._send("unsuppress", locals())

    def delete(
        self,
        user_id: Any = None,
        *,
        properties: Columns = None,
        **options: Unpack[CallOptions],
    ) -> pd.DataFrame:
        """Delete people from the workspace (``User Deleted``); as :meth:`suppress`.

        Unlike :meth:`suppress`, the same id may be added again later.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        return self._send("delete", locals())


@pd.api.extensions.register_series_accessor("cio")
class SeriesCioAccessor:
    """``Series.cio``: only there to say that the accessor works on frames.

    A column picked with ``df["id"]`` is a Series, and a bare AttributeError
    would not say why ``.cio`` is missing; every attribute of this object
    raises one that says what to do instead.
    """

    def __init__(self, series: pd.Series) -> None:
        self._name = series.name

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):  # copy, pickle and our own _name: no advice
            raise AttributeError(attribute)
        raise AttributeError(
            f".cio.{attribute} works on a DataFrame, not a Series (column {self._name!r}): "
            f"call df.cio.{attribute}(...) on the frame and name the column in an argument "
            f"(such as user_id={self._name!r}), or make the Series a frame with s.to_frame()"
        )

    def __repr__(self) -> str:
        return "<.cio works on a DataFrame, not a Series: call df.cio on the frame>"
