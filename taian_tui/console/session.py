"""Who is signed in to the console, and the reference data every screen needs about them,
read once at sign-in (in a worker, like every read): the user, their unit's name, the
screens of their role, and the units and counties their filters and forms offer.

The session holds no connection. A worker resolves the acting user again on its own store
(``actor(store)``), so a user deactivated while signed in is refused from the next read or
action on; the console's own checks of what to offer use ``actor_now`` (no read).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taian_tui.console.modes import modes_of
from taian_tui.domain import actors
from taian_tui.domain.actors import Actor
from taian_tui.domain.models import User
from taian_tui.read import directory
from taian_tui.read import projects as project_reads
from taian_tui.store import Store


#: In an SSH session (``taian session``), what tells whether its key is still registered
#: (``dataio.sshkeys.KeyGuard``); ``None`` otherwise.
KEY_GUARD: list[Any] = [None]


@dataclass(frozen=True)
class Session:
    username: str
    user: User
    unit_name: str                                  # the user's unit ("" without one)
    modes: tuple[str, ...]                          # the screens of the role, home first
    handling_units: tuple[tuple[str, str], ...]     # (code, name): appeals can go to these
    filter_units: tuple[tuple[str, str], ...]       # (code, name): the inbox's unit filter
    project_counties: tuple[str, ...]               # the project board's county filter

    @property
    def role(self) -> str:
        return self.user.role

    def actor(self, store: Store) -> Actor:
        """The signed-in user as the store sees them now (refused if deactivated, and in an SSH
        session when the key it was opened with is no longer registered: ``KEY_GUARD``)."""
        guard = KEY_GUARD[0]
        if guard is not None:
            actors.require_key(guard.listed(), self.username, guard.fingerprint)
        return actors.actor(store, self.username)

    def actor_now(self) -> Actor:
        """The signed-in user as signed in (no read): for deciding what to offer."""
        return Actor(self.username, self.user)


def load_session(store: Store, username: str) -> Session:
    """The session of ``username`` (a user of the console, not a system actor); refused
    with the rule's message for an unknown, deactivated or system user."""
    act = actors.actor(store, username)
    if act.user is None:
        from taian_tui.domain.refusals import PermissionDenied

        raise PermissionDenied.of("unknown_user", user=username)
    user = act.user
    unit_name = actors.unit_name(store, user.unit_code) or ""
    return Session(username=username, user=user, unit_name=unit_name, modes=modes_of(user.role, user.scope),
                   handling_units=tuple(directory.handling_units(store)),
                   filter_units=tuple(directory.visible_units(store, act)),
                   project_counties=tuple(project_reads.project_counties(store, act)))
