"""The profiles of the Journeys model and the index of identifiers that find them.

A person is found by its id, email, anonymous id or ``cio_`` id; merges move
identifiers from one profile to another, deletions forget a profile's own.
:class:`~pandas_cio.testing._journeys_store.Store` builds on :class:`ProfileIndex`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pandas_cio.testing._journeys_types import Event

__all__ = ["Profile", "ProfileIndex"]


@dataclass
class Profile:
    """A person or anonymous profile, mutable inside the model only."""

    key: str
    kind: str
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # Every identifier that finds this profile, so that merges and deletions
    # touch only its own index entries.
    keys: set[tuple[str, str]] = field(default_factory=set)

    @property
    def person(self) -> str | None:
        return None if self.kind == "anonymous_id" else self.key


class ProfileIndex:
    """Profiles keyed by every identifier that finds them."""

    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str], Profile] = {}

    def unique_profiles(self) -> list[Profile]:
        seen: dict[int, Profile] = {}
        for profile in self.profiles.values():
            seen.setdefault(id(profile), profile)
        return list(seen.values())

    def lookup(self, person_id: str) -> Profile | None:
        candidates = [("id", person_id), ("email", person_id), ("anonymous_id", person_id)]
        if person_id.startswith("cio_"):
            candidates.insert(0, ("cio_id", person_id[4:]))
        for key in candidates:
            if key in self.profiles:
                return self.profiles[key]
        return None

    def _profile(self, identifier: tuple[str, str]) -> Profile:
        profile = self.profiles.get(identifier)
        if profile is None:
            kind, value = identifier
            key = "cio_" + value if kind == "cio_id" else value
            profile = Profile(key, kind)
            self._bind(identifier, profile)
        return profile

    def _bind(self, identifier: tuple[str, str], profile: Profile) -> None:
        """Make ``identifier`` find ``profile``, taking it from any profile it found before."""
        previous = self.profiles.get(identifier)
        if previous is not None:
            previous.keys.discard(identifier)
        self.profiles[identifier] = profile
        profile.keys.add(identifier)

    def _index_email(self, profile: Profile) -> None:
        email = profile.attributes.get("email")
        if isinstance(email, str) and email and ("email", email) not in self.profiles:
            self._bind(("email", email), profile)

    def _absorb(self, into: Profile, other: Profile) -> None:
        """Move ``other``'s attributes (where ``into`` has none) and events into ``into``."""
        for name, value in other.attributes.items():
            into.attributes.setdefault(name, value)
        moved = [replace(e, person=into.person) for e in other.events]
        into.events.extend(moved)
        for key in list(other.keys):
            self._bind(key, into)

    def _forget(self, profile: Profile) -> None:
        for key in profile.keys:
            del self.profiles[key]
        profile.keys.clear()
