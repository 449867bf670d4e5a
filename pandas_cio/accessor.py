"""The ``DataFrame.cio`` accessor: thin methods that hand a request to the pipeline.

pandas caches one accessor object per frame, so the accessor holds nothing but
the frame; every setting travels with the call.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Unpack

import pandas as pd

from .pipeline import SendOptions, run
from .plan import PayloadSpec

__all__ = ["CioAccessor"]

Columns = Sequence[Hashable] | Mapping[Hashable, str] | None


@pd.api.extensions.register_dataframe_accessor("cio")
class CioAccessor:
    """Send a frame's rows to Customer.io: ``df.cio.identify(user_id="id")``.

    Every method returns a result frame with the input's index and one row
    per input row (see :mod:`pandas_cio.results`). Shared keyword arguments:

    client : Client, optional
        Where to send; when None a client is made from ``CIO_API_KEY`` and
        ``CIO_REGION`` and closed afterwards.
    dry_run : bool
        Validate, encode and batch, but send nothing (status ``dry_run``).
    errors : {"mark", "raise"}
        Mark invalid rows ``invalid`` (default) or raise before sending.
    missing : {"omit", "null"}
        Leave missing values out of the call (default) or send them as null.
    progress : bool, optional
        Progress bar: None shows one for large sends in a terminal or notebook.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def _run(
        self,
        operation: str,
        args: Mapping[str, Any],
        payload: PayloadSpec,
        options: SendOptions,
    ) -> pd.DataFrame:
        return run(self._frame, operation, args, payload, **options)

    def report(self) -> Any:
        """Summarise a result frame for a person: counts, top errors, throughput.

        Call it on the frame an operation returned: ``result.cio.report()``.
        It renders as an HTML table in Jupyter and as aligned text in a terminal.
        """
        from .report import SendReport

        return SendReport.from_result(self._frame)

    def identify(
        self,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        traits: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        timestamp : column, optional
            When the data was true (for backfills); ISO 8601, naive read as UTC.
        message_id : column, optional
            Your own messageIds; default a hash of the row's content.
        context, integrations : column or dict, optional
            Passed through as the call's ``context`` / ``integrations``.

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
        args = dict(
            user_id=user_id,
            anonymous_id=anonymous_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("identify", args, traits, options)

    def track(
        self,
        user_id: Any = None,
        event: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        anonymous_id : column, optional
            An anonymous id, for rows without a user id.
        properties : list of columns or {column: key} mapping, optional
            Event properties; default every column no other argument uses.
        timestamp : column, optional
            When the event happened; naive date-times are read as UTC.
        message_id, context, integrations : optional
            As for :meth:`identify`.

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
        args = dict(
            user_id=user_id,
            anonymous_id=anonymous_id,
            event=event,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("track", args, properties, options)
