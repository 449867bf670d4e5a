"""How the tests read Customer.io's reference files, written once.

Three test files check the library against a JSON Schema document: the public
spec (``tests/acceptance/test_reference_conformance.py``,
``tests/unit/catalogue/test_events_catalogue.py``) and the project's own
OpenAPI document (``tests/unit/catalogue/test_openapi.py``).
"""

from __future__ import annotations

from datetime import datetime

import jsonschema

#: Where the public spec is registered for ``$ref`` resolution.
REFERENCE_URI = "urn:cio-pipelines-reference"

#: The reference's category labels, as semantic_events.json and the spec's
#: introduction spell them, mapped to the catalogue's keys.
CATEGORY_OF_LABEL = {
    "Customer.io semantic events": "customerio",
    "A/B Test": "ab_test",
    "Ecommerce": "ecommerce",
    "Email": "email",
    "Live Chat": "live_chat",
    "Mobile App": "mobile",
    "Video": "video",
}

#: The introduction lists "Group Deleted" beside "Object Deleted", but the one
#: schema both use only enumerates "Object Deleted" as the event name.
EVENT_NAME_ALIASES = {"Group Deleted": "Object Deleted"}


def date_time_checker() -> jsonschema.FormatChecker:
    """A format checker that checks ``date-time`` strings (ISO 8601, as Python reads them).

    jsonschema checks date-time only with an optional extra installed, so
    without this a wrong timestamp would validate.
    """
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _is_date_time(value: object) -> bool:
        if isinstance(value, str):
            datetime.fromisoformat(value)
        return True

    return checker
