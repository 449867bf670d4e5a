"""``df.cio.semantic``: the semantic events of the Data Pipelines API, by category.

One method per category of the event catalogue
(:data:`pandas_cio.catalogue.events.CATEGORY_KEYS`). The methods differ only
by the arguments their events' operations take, so they are made from the
operations table (:func:`category_method`): a category the catalogue gains
is a method, with its signature, its docstring and its command. Only
``ecommerce`` is written out, for its grouping of line items into orders.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import Any, Protocol, Unpack

import pandas as pd

from ..catalogue.events import CATEGORY_KEYS, EVENTS, events_in, lookup
from ..catalogue.operation import COMMON, Role
from ..catalogue.operations import OPERATIONS, operation_for_event
from .base import Columns, Namespace, call_arguments, sending
from .options import METHOD_ARGUMENTS, CallOptions, parameter_entry

__all__ = ["CATEGORIES", "SemanticNamespace", "category_method"]


class _CategoryMethod(Protocol):
    """A generated category method, as mypy sees it (its real signature is in ``help()``)."""

    def __call__(self, event: str, user_id: Any = None, **arguments: Any) -> pd.DataFrame: ...


CATEGORIES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "ab_test": ("an A/B test", ""),
        "customerio": (
            "a Customer.io",
            "The same operation as the event's own method, where it has one "
            "(``suppress``, ``devices.register``, ``objects.delete``...); each event "
            "takes only the arguments its method takes.",
        ),
        "ecommerce": ("an ecommerce", ""),
        "email": (
            "an email",
            "The recipient's address and where they acted from are sent in "
            "``context.traits`` (``ip`` and ``user_agent`` only for events of a "
            "recipient's action, such as ``Email Opened``); every email event needs "
            "the property ``email_id``.",
        ),
        "live_chat": ("a live chat", ""),
        "mobile": (
            "a mobile app lifecycle",
            'The device\'s push token and platform (``"ios"`` or ``"android"``) are '
            "sent as ``context.device.token`` / ``.type``. Customer.io Journeys turns "
            "``Application Installed`` and ``Application Opened`` into a device update "
            "of the person ``user_id`` (it needs all three) and ``Application "
            "Uninstalled`` into a device deletion (user and token). With "
            "``journeys=True`` (the default) these events take ``user_id=``, not "
            "``anonymous_id=``, and rows without those values are ``invalid``.",
        ),
        "video": ("a video", ""),
    }
)
"""Per category: how its events are named in a sentence, and a note for its docstring."""

if set(CATEGORIES) != set(CATEGORY_KEYS):
    raise AssertionError(f"CATEGORIES must name every category of {CATEGORY_KEYS}")

_EXAMPLES: Mapping[str, str] = MappingProxyType(
    {
        "mobile": """\
>>> import pandas as pd, pandas_cio
>>> opens = pd.DataFrame({"uid": ["u1"], "push": ["tok-1"], "os": ["ios"]})
>>> opens.cio.semantic.mobile("Application Opened", user_id="uid", token="push",
...     platform="os", dry_run=True)["status"].tolist()
['dry_run']""",
    }
)
"""Doctest examples of generated methods, by category."""

_COMMON = tuple(role.arg for role in COMMON)
_PERSON_DOC = "The person (each row needs one of them)."
_COLUMNS = "list of columns or {column: key} mapping"
_PROPERTIES_DOC = "Event properties; default every column no other argument uses."


def category_roles(category: str) -> list[Role]:
    """The roles of a category's operations beyond the person and the common ones.

    In the order they first appear in the table, so a category's signature
    reads as its events do (``token`` before ``platform``).
    """
    found: dict[str, Role] = {}
    for op in OPERATIONS.values():
        if op.event is None or EVENTS[op.event].category != category:
            continue
        for role in op.roles:
            if role.arg not in ("user_id", "anonymous_id", *_COMMON):
                found.setdefault(role.arg, role)
    return list(found.values())


def _role_type(role: Role) -> str:
    return "column or str, optional" if role.constant else "column, optional"


def _docstring(category: str, roles: list[Role]) -> str:
    article, note = CATEGORIES[category]
    names = sorted(events_in(category))
    more = "..." if len(names) > 2 else ""
    listed = ", ".join(f'``"{name}"``' for name in names)
    entries = [
        parameter_entry("event", "str", f"The event name, exactly as the API spells it: {listed}."),
        parameter_entry("user_id, anonymous_id", "column", _PERSON_DOC),
        *(parameter_entry(r.arg, _role_type(r), r.description) for r in roles),
        parameter_entry("properties", f"{_COLUMNS}, optional", _PROPERTIES_DOC),
    ]
    head = f"Send {article} event ({', '.join(f'``{n}``' for n in names[:2])}{more}) per row."
    return "\n\n".join(
        [
            head,
            *([textwrap.fill(note, width=79)] if note else []),
            "Parameters\n----------\n" + "\n".join(entries),
            "Returns\n-------\npandas.DataFrame\n    The result frame.",
            *([f"Examples\n--------\n{_EXAMPLES[category]}"] if category in _EXAMPLES else []),
        ]
    )


def category_method(category: str) -> Callable[..., pd.DataFrame]:
    """Make the ``df.cio.semantic`` method of one category from the operations table.

    Its signature is the event name, ``user_id``, then keyword-only
    ``anonymous_id``, the roles of the category's operations, ``properties``
    and ``**options`` (to which :func:`~pandas_cio.accessor.base.sending` adds
    the common roles); its docstring says the same.
    """
    roles = category_roles(category)

    def method(self: SemanticNamespace, event: str, user_id: Any = None, **arguments: Any) -> Any:
        return self._event(category, event, {"user_id": user_id, **arguments})

    keyword = inspect.Parameter.KEYWORD_ONLY
    later = ["anonymous_id", *(r.arg for r in roles)]
    parameters = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("event", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str"),
        inspect.Parameter(
            "user_id", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation="Any"
        ),
        *(inspect.Parameter(name, keyword, default=None, annotation="Any") for name in later),
        inspect.Parameter("properties", keyword, default=None, annotation="Columns"),
        inspect.Parameter(
            "options", inspect.Parameter.VAR_KEYWORD, annotation="Unpack[CallOptions]"
        ),
    ]
    method.__name__ = category
    method.__qualname__ = f"SemanticNamespace.{category}"
    method.__module__ = __name__
    method.__doc__ = _docstring(category, roles)
    method.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation="pd.DataFrame"
    )
    return sending(method)


class SemanticNamespace(Namespace):
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

    # Made by category_method below, one per category but ecommerce.
    ab_test: _CategoryMethod
    customerio: _CategoryMethod
    email: _CategoryMethod
    live_chat: _CategoryMethod
    mobile: _CategoryMethod
    video: _CategoryMethod

    def _event(self, category: str, event: str, arguments: Mapping[str, Any]) -> pd.DataFrame:
        """Send ``event`` of ``category`` with a method's arguments (see :meth:`_send`)."""
        operation = operation_for_event(lookup(category, event).name)
        return self._send(operation.name, arguments)

    def ecommerce(
        self,
        event: str,
        user_id: Any = None,
        *,
        anonymous_id: Any = None,
        properties: Columns = None,
        group_by: Hashable | None = None,
        products: Columns = None,
        **options: Unpack[CallOptions],
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
        {grouping}

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
        local = locals()
        arguments = {k: v for k, v in local.items() if k not in ("event", "group_by", "products")}
        if group_by is None and products is None:
            return self._event("ecommerce", event, arguments)
        from ..pipeline.grouping import send_grouped

        operation = operation_for_event(lookup("ecommerce", event).name)
        roles, payload, send = call_arguments(operation, arguments)
        return send_grouped(
            self._frame,
            operation.name,
            roles,
            payload,
            group_by=group_by,
            products=products,
            **send,
        )

    # The grouping arguments' text is declared once, for this docstring and the command.
    ecommerce.__doc__ = (ecommerce.__doc__ or "").replace(
        "{grouping}",
        "\n".join(
            parameter_entry(a.name, a.type, a.doc) for a in METHOD_ARGUMENTS["semantic.ecommerce"]
        ).replace("\n", "\n        "),
    )


for _category in CATEGORY_KEYS:
    if _category != "ecommerce":
        setattr(SemanticNamespace, _category, category_method(_category))
del _category
