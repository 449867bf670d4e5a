"""The ``DataFrame.cio`` accessor: thin methods that hand a request to the pipeline.

pandas caches one accessor object per frame, so the accessor holds nothing but
the frame; every setting travels with the call. Object, device and semantic
event methods live in namespaces (``df.cio.objects.upsert(...)``,
``df.cio.devices.register(...)``, ``df.cio.semantic.ecommerce(...)``) that are
as thin: each method names an operation of :mod:`pandas_cio.catalogue.operations` and
passes its arguments on.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar, Unpack, cast

import pandas as pd

from ..catalogue.events import lookup
from ..catalogue.operations import operation_for_event
from ..errors import UnknownArgumentError
from ..outcome.report import SendReport
from ..outcome.results import merge_retry
from ..pipeline.send import SendOptions, run
from ..prepare.plan import PayloadSpec
from ..suggest import unknown_keywords_message

__all__ = [
    "CioAccessor",
    "DevicesNamespace",
    "ObjectsNamespace",
    "SemanticNamespace",
    "SeriesCioAccessor",
]

Columns = Sequence[Hashable] | Mapping[Hashable, str] | None


def _given(**args: Any) -> dict[str, Any]:
    """Keep the arguments the caller gave; None means "not given" for every role."""
    return {name: value for name, value in args.items() if value is not None}


_OPTIONS: tuple[str, ...] = tuple(sorted(SendOptions.__optional_keys__))
_Method = TypeVar("_Method", bound=Callable[..., Any])


def _check_keywords(method: _Method) -> _Method:
    """Refuse keywords the method does not take, naming it as the caller wrote it.

    Without this an unknown keyword falls into ``**options`` and Python's own
    error names :func:`pandas_cio.pipeline.send.run`, which the caller never called.
    """
    parameters = inspect.signature(method).parameters
    accepted = [
        name
        for name, p in parameters.items()
        if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    known = frozenset(accepted) | frozenset(_OPTIONS)

    @functools.wraps(method)
    def checked(self: _Namespace, *args: Any, **kwargs: Any) -> Any:
        unknown = [name for name in kwargs if name not in known]
        if unknown:
            where = f"{self._prefix}{method.__name__}()"
            raise UnknownArgumentError(
                unknown_keywords_message(where, unknown, [*accepted, *_OPTIONS])
            )
        return method(self, *args, **kwargs)

    return cast(_Method, checked)


class _Namespace:
    """Base of the accessor and its namespaces: holds the frame, runs operations."""

    _prefix = "df.cio."
    """How the caller reaches this namespace's methods, for messages."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every public method that takes the send options checks its keywords.
        for name, member in list(vars(cls).items()):
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            kinds = [p.kind for p in inspect.signature(member).parameters.values()]
            if inspect.Parameter.VAR_KEYWORD in kinds:
                setattr(cls, name, _check_keywords(member))

    def _run(
        self,
        operation: str,
        args: Mapping[str, Any],
        payload: PayloadSpec,
        options: SendOptions,
    ) -> pd.DataFrame:
        return run(self._frame, operation, _given(**args), payload, **options)


@pd.api.extensions.register_dataframe_accessor("cio")
class CioAccessor(_Namespace):
    """Send a frame's rows to Customer.io: ``df.cio.identify(user_id="id")``.

    Every method returns a result frame with the input's index and one row
    per input row (see :mod:`pandas_cio.outcome.results`). Shared keyword arguments:

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
    ledger : str, os.PathLike or Ledger, optional
        Skip rows already delivered (status ``unchanged``) and record each
        confirmed batch, so re-runs send only what changed and a killed run
        resumes (see :mod:`pandas_cio.ledger.store`).
    full_refresh : bool
        With a ledger: send every row anyway, and record it.
    chunk_rows : int
        Rows encoded per slice (memory versus per-slice overhead).
    max_split_requests : int
        Extra requests a send may make to isolate calls the service refuses
        (status ``rejected``; see :mod:`pandas_cio.delivery.splitting`); 0 turns it off.
    journeys : bool
        Check what Customer.io Journeys needs (default True): a page's url,
        a screen's name, a device's platform, the user and device of app
        install/open/uninstall events, Journeys' limits on ids, attributes
        and event names, and no event name in ``track()`` that Journeys
        routes to another action. Rows that would be dropped after the API
        answered 200 become ``invalid`` saying why. Pass False when the
        workspace sends to other destinations only.
    mirror : str, optional
        With a ledger: also delete what the ledger holds and the frame lacks
        (``"delete"``/``"suppress"`` for identify, ``"delete"`` for
        objects.upsert and devices.register, ``"unrelate"`` for
        objects.relate); one result row per deletion after the input's rows
        (see :mod:`pandas_cio.ledger.mirror`). ``mirror_max_deletes=`` is the guard's
        limit (default a quarter of the ledger's keys, at least 10).
    max_invalid, max_too_large : int or float, optional
        Stop before any request when more rows than this count or fraction
        are ``invalid`` / ``too_large`` (see :mod:`pandas_cio.outcome.gates`).

    Column arguments such as ``user_id=`` name columns; arguments such as
    ``event=``, ``name=`` or ``object_type_id=`` take a column or one constant
    for every row (see :mod:`pandas_cio.prepare.roles`). Every method also takes
    ``timestamp=`` (a column, ``"now"`` or one date-time; events without one
    are stamped with the send's start, see :mod:`pandas_cio.prepare.stamping`),
    ``message_id=`` (a column of your own ids), and ``context=`` /
    ``integrations=`` (a column or one dict).
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
            Customer.io Journeys takes at most 300 attributes per call, names
            of at most 150 bytes and values of at most 1,000 bytes; rows
            over a limit are ``invalid`` (unless ``journeys=False``).
        timestamp : column, optional
            When the data was true (for backfills); ISO 8601, naive read as UTC.
        message_id : column, optional
            Your own messageIds, sent as given; default a ULID of the call's
            timestamp and content (see :mod:`pandas_cio.prepare.message_ids`).
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
        timestamp : column, "now" or date-time, optional
            When the event happened; naive date-times are read as UTC.
            Without it every event is stamped with the send's start time
            (and with ``ledger=`` it is required).
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

    def page(
        self,
        user_id: Any = None,
        name: Any = None,
        *,
        anonymous_id: Any = None,
        url: Any = None,
        category: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        timestamp, message_id, context, integrations : optional
            As for :meth:`identify`.

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
        args = dict(
            user_id=user_id,
            anonymous_id=anonymous_id,
            name=name,
            url=url,
            category=category,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("page", args, properties, options)

    def screen(
        self,
        user_id: Any = None,
        name: Any = None,
        *,
        anonymous_id: Any = None,
        category: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        args = dict(
            user_id=user_id,
            anonymous_id=anonymous_id,
            name=name,
            category=category,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("screen", args, properties, options)

    def alias(
        self,
        user_id: Any = None,
        previous_id: Any = None,
        *,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Merge the person ``previous_id`` into the person ``user_id``, one pair per row.

        Parameters
        ----------
        user_id : column
            The id to keep.
        previous_id : column
            The id whose profile is merged into it.
        timestamp, message_id, context, integrations : optional
            As for :meth:`identify`. Other columns are not sent.

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
        args = dict(
            user_id=user_id,
            previous_id=previous_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("alias", args, None, options)

    def suppress(
        self,
        user_id: Any = None,
        *,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        timestamp, message_id, context, integrations : optional
            As for :meth:`identify`.

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
        args = dict(
            user_id=user_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("suppress", args, properties, options)

    def unsuppress(
        self,
        user_id: Any = None,
        *,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Let suppressed ids be added again (``User Unsuppressed``); as :meth:`suppress`.

        No data comes back: the person can only be created anew.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        args = dict(
            user_id=user_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("unsuppress", args, properties, options)

    def delete(
        self,
        user_id: Any = None,
        *,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Delete people from the workspace (``User Deleted``); as :meth:`suppress`.

        Unlike :meth:`suppress`, the same id may be added again later.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        args = dict(
            user_id=user_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("delete", args, properties, options)


class ObjectsNamespace(_Namespace):
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
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        timestamp, message_id, context, integrations : optional
            As for :meth:`CioAccessor.identify`.

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
        args = dict(
            object_id=object_id,
            object_type_id=object_type_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("objects.upsert", args, traits, options)

    def relate(
        self,
        user_id: Any = None,
        object_id: Any = None,
        object_type_id: Any = None,
        *,
        anonymous_id: Any = None,
        relationship_traits: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        timestamp, message_id, context, integrations : optional
            As for :meth:`CioAccessor.identify`.

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
        args = dict(
            user_id=user_id,
            anonymous_id=anonymous_id,
            object_id=object_id,
            object_type_id=object_type_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("objects.relate", args, relationship_traits, options)

    def unrelate(
        self,
        user_id: Any = None,
        object_id: Any = None,
        object_type_id: Any = None,
        *,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        timestamp, message_id, context, integrations : optional
            As for :meth:`CioAccessor.identify`.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        args = dict(
            user_id=user_id,
            object_id=object_id,
            object_type_id=object_type_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("objects.unrelate", args, properties, options)

    def delete(
        self,
        object_id: Any = None,
        object_type_id: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        properties, timestamp, message_id, context, integrations : optional
            As for :meth:`unrelate`.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        args = dict(
            anonymous_id=anonymous_id,
            object_id=object_id,
            object_type_id=object_type_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("objects.delete", args, properties, options)


class DevicesNamespace(_Namespace):
    """``df.cio.devices``: people's devices, by push token."""

    _prefix = "df.cio.devices."

    def register(
        self,
        user_id: Any = None,
        token: Any = None,
        platform: Any = None,
        *,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
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
        timestamp, message_id, context, integrations : optional
            As for :meth:`CioAccessor.identify`; a ``context`` dict is merged
            deeply with the device fields (``{"device": {"model": ...}}``
            keeps the token and platform); giving the same field twice raises.

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
        args = dict(
            user_id=user_id,
            token=token,
            platform=platform,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("devices.register", args, properties, options)

    def delete(
        self,
        user_id: Any = None,
        token: Any = None,
        platform: Any = None,
        *,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Remove one device per row (``Device Deleted``); arguments as for :meth:`register`.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        args = dict(
            user_id=user_id,
            token=token,
            platform=platform,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._run("devices.delete", args, properties, options)


class SemanticNamespace(_Namespace):
    """``df.cio.semantic``: the semantic events of the Data Pipelines API.

    One method per category takes the event name first, exactly as the API
    spells it (``"Order Completed"``, ``"Video Playback interrupted"``); an
    unknown name raises :class:`~pandas_cio.UnknownEventError` listing the
    category's names. Documented properties are type-checked; other columns
    are sent as further properties. The Customer.io events also have methods
    of their own (:meth:`CioAccessor.suppress`, ``objects.delete``,
    ``devices.register``...), which send the very same calls.
    """

    _prefix = "df.cio.semantic."

    def _event(
        self,
        category: str,
        event: str,
        args: Mapping[str, Any],
        payload: PayloadSpec,
        options: SendOptions,
    ) -> pd.DataFrame:
        operation = operation_for_event(lookup(category, event).name)
        return self._run(operation.name, args, payload, options)

    def ecommerce(
        self,
        event: str,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        group_by: Hashable | None = None,
        products: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Send an ecommerce event (``Order Completed``, ``Product Viewed``...) per row.

        Parameters
        ----------
        event : str
            The event name, e.g. ``"Order Completed"``.
        user_id, anonymous_id : column
            The person (each row needs one of them).
        properties : list of columns or {column: key} mapping, optional
            Event properties; default every column no other argument uses.
        group_by : column, optional
            With one row per line item: the order column. Lines are sent as
            one event per order, whose ``products`` array holds one object
            per line; every line gets its order's status and messageId.
        products : list of columns or {column: key} mapping, optional
            With ``group_by``: the line-item columns that make each
            ``products`` element (``product_id``, ``sku``, ``price``...).
        timestamp, message_id, context, integrations : optional
            As for :meth:`CioAccessor.identify`.

        Returns
        -------
        pandas.DataFrame
            The result frame (one row per input row, also with ``group_by``).

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> lines = pd.DataFrame({"customer": ["c1", "c1"], "order_id": ["o1", "o1"],
        ...                       "sku": ["a", "b"], "price": [9.5, 20.0], "revenue": [29.5, 29.5]})
        >>> lines.cio.semantic.ecommerce("Order Completed", user_id="customer",
        ...     group_by="order_id", products=["sku", "price"], dry_run=True)["status"].tolist()
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
        if group_by is None and products is None:
            return self._event("ecommerce", event, args, properties, options)
        from ..pipeline.grouping import send_grouped

        operation = operation_for_event(lookup("ecommerce", event).name)
        return send_grouped(
            self._frame,
            operation.name,
            _given(**args),
            properties,
            group_by=group_by,
            products=products,
            **options,
        )

    def email(
        self,
        event: str,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        email: Any = None,
        ip: Any = None,
        user_agent: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Send an email event (``Email Opened``, ``Email Bounced``...) per row.

        Parameters
        ----------
        event : str
            The event name.
        user_id, anonymous_id : column
            The person.
        email, ip, user_agent : column, optional
            The recipient's address and where they acted from, sent in
            ``context.traits`` (``ip`` and ``user_agent`` only for events of
            a recipient's action, such as ``Email Opened``).
        properties : list of columns or {column: key} mapping, optional
            Event properties; every email event needs ``email_id``.
        timestamp, message_id, context, integrations : optional
            As for :meth:`CioAccessor.identify`.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        args = dict(
            user_id=user_id,
            anonymous_id=anonymous_id,
            email=email,
            ip=ip,
            user_agent=user_agent,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._event("email", event, args, properties, options)

    def _simple(
        self,
        category: str,
        event: str,
        user_id: Any,
        anonymous_id: Any,
        properties: Columns,
        common: Mapping[str, Any],
        options: SendOptions,
    ) -> pd.DataFrame:
        args = dict(user_id=user_id, anonymous_id=anonymous_id, **common)
        return self._event(category, event, args, properties, options)

    def mobile(
        self,
        event: str,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        token: Any = None,
        platform: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Send a mobile app lifecycle event (``Application Opened``...) per row.

        Arguments as for :meth:`ecommerce`, without grouping, and:

        token, platform : column (platform: or str), optional
            The device's push token and platform (``"ios"`` or
            ``"android"``), sent as ``context.device.token`` / ``.type``.
            Customer.io Journeys turns ``Application Installed`` and
            ``Application Opened`` into a device update of the person
            ``user_id`` (it needs all three) and ``Application Uninstalled``
            into a device deletion (user and token). With ``journeys=True``
            (the default) these events take ``user_id=``, not
            ``anonymous_id=``, and rows without those values are ``invalid``.

        Returns
        -------
        pandas.DataFrame
            The result frame.

        Examples
        --------
        >>> import pandas as pd, pandas_cio
        >>> opens = pd.DataFrame({"uid": ["u1"], "push": ["tok-1"], "os": ["ios"]})
        >>> opens.cio.semantic.mobile("Application Opened", user_id="uid", token="push",
        ...     platform="os", dry_run=True)["status"].tolist()
        ['dry_run']
        """
        common = dict(
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
            token=token,
            platform=platform,
        )
        return self._simple("mobile", event, user_id, anonymous_id, properties, common, options)

    def video(
        self,
        event: str,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Send a video event (``Video Playback Started``...) per row; as :meth:`mobile`.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        common = dict(
            timestamp=timestamp, message_id=message_id, context=context, integrations=integrations
        )
        return self._simple("video", event, user_id, anonymous_id, properties, common, options)

    def live_chat(
        self,
        event: str,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Send a live chat event (``Live Chat Message Sent``...) per row; as :meth:`mobile`.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        common = dict(
            timestamp=timestamp, message_id=message_id, context=context, integrations=integrations
        )
        return self._simple("live_chat", event, user_id, anonymous_id, properties, common, options)

    def ab_test(
        self,
        event: str,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Send an A/B test event (``Experiment Viewed``) per row; as :meth:`mobile`.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        common = dict(
            timestamp=timestamp, message_id=message_id, context=context, integrations=integrations
        )
        return self._simple("ab_test", event, user_id, anonymous_id, properties, common, options)

    def customerio(
        self,
        event: str,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        token: Any = None,
        platform: Any = None,
        object_id: Any = None,
        object_type_id: Any = None,
        properties: Columns = None,
        timestamp: Any = None,
        message_id: Any = None,
        context: Any = None,
        integrations: Any = None,
        **options: Unpack[SendOptions],
    ) -> pd.DataFrame:
        """Send a Customer.io event (``User Suppressed``, ``Report Delivery Event``...) per row.

        The same operation as the event's own method, where it has one
        (``suppress``, ``devices.register``, ``objects.delete``...); each
        event takes only the arguments its method takes.

        Returns
        -------
        pandas.DataFrame
            The result frame.
        """
        args = dict(
            user_id=user_id,
            anonymous_id=anonymous_id,
            token=token,
            platform=platform,
            object_id=object_id,
            object_type_id=object_type_id,
            timestamp=timestamp,
            message_id=message_id,
            context=context,
            integrations=integrations,
        )
        return self._event("customerio", event, args, properties, options)


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
