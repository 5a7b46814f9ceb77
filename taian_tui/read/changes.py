"""What changed in the database file since a console last looked, and so what it must
read again.

``PRAGMA data_version`` says whether any other connection committed (a look costs no page
read). The audit trail says what: every business write of the store leaves an audit row in
the same transaction, naming its entity (``appeal``, ``sweep``, ``project``, ``content``...)
and, for an appeal, its ref; so the rows written since the last look (a range of the
audit's rowid, read only when the version moved) tell each view whether it is concerned:
by the kinds of entity, and for appeals by the units they belong to now or were taken
from (an assignment's ``before``). A commit that wrote no audit row (an SMS claim, a
session's bookkeeping) concerns no view. A view names the kinds it reads in one of the
sets below (``None``: every kind) and, when its reader sees only some units' appeals
(``actors.appeal_scope_units``), those units.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from taian_tui.store import Store

#: The appeal lists and counts: appeals and their cards, and the names and calendar they show.
APPEALS = frozenset({"appeal", "sweep", "calendar", "unit", "enterprise", "import"})
#: The project board: projects, their appeals and cards, enterprises and units.
PROJECTS = frozenset({"project", "appeal", "sweep", "enterprise", "import", "unit"})
#: The content list and the daily pick.
CONTENT = frozenset({"content", "daily_listen"})


@dataclass(frozen=True)
class Change:
    """What was committed: the kinds of entity audited, and the units whose appeals changed
    (``None``: any unit may be concerned: a sweep, an import, a calendar...). ``ANYTHING``
    is a change that cannot be told apart (the audit trail was cut back, or a form's own
    write)."""

    kinds: frozenset[str]
    units: frozenset[str] | None = None     # of the changed appeals (kind "appeal")

    def __bool__(self) -> bool:
        return bool(self.kinds)

    def merge(self, other: "Change") -> "Change":
        """This change and ``other``, as one."""
        units = None if self.units is None or other.units is None else self.units | other.units
        return Change(self.kinds | other.kinds, units)

    def concerns(self, reads: frozenset[str] | None, units: frozenset[str] | None = None) -> bool:
        """Whether this change concerns a view that reads ``reads`` (``None``: everything)
        of the appeals of ``units`` (``None``: of every unit)."""
        if "*" in self.kinds:
            return True
        relevant = self.kinds if reads is None else self.kinds & reads
        if not relevant:
            return False
        if relevant - {"appeal"}:       # a kind not told apart by unit (a sweep, a project...)
            return True
        return self.units is None or units is None or bool(self.units & units)


ANYTHING = Change(frozenset({"*"}))


class ChangeWatch:
    """Looks at one file for other connections' commits, on a store of its own (any
    thread, one at a time). ``look()`` returns ``None`` when nothing was committed since the
    last look, else the ``Change`` (empty: only unaudited writes)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self.version: int | None = None
        self.audit_id = 0
        self.rebase()

    def _version(self) -> int:
        return self.store.conn.execute("PRAGMA data_version").fetchone()[0]

    def _last_audit(self) -> int:
        return self.store.scalar("SELECT COALESCE(MAX(last_id), 0) FROM audit_head")

    def rebase(self) -> None:
        """From now on, report only what is committed after this point (what is on screen is
        as of now: a form's own write, or a sign-in)."""
        with self._lock:
            self.version, self.audit_id = self._version(), self._last_audit()

    def look(self) -> Change | None:
        with self._lock:
            version = self._version()
            if version == self.version:
                return None
            self.version = version
            first, last = self.audit_id, self._last_audit()
            self.audit_id = last
            if last == first:
                return Change(frozenset())
            if last < first:
                return ANYTHING
            kinds = frozenset(r[0] for r in self.store.conn.execute(
                "SELECT DISTINCT entity FROM audit WHERE id > ? AND id <= ?", (first, last)))
            units = None
            if "appeal" in kinds:
                # the changed appeals' units now, and those an assignment took them from
                units = frozenset(r[0] for r in self.store.conn.execute(
                    "SELECT a.unit_code FROM audit l JOIN appeals a ON a.ref = l.entity_id "
                    "WHERE l.id > ? AND l.id <= ? AND l.entity = 'appeal' AND a.unit_code IS NOT NULL "
                    "UNION SELECT json_extract(l.before, '$.unit_code') FROM audit l "
                    "WHERE l.id > ? AND l.id <= ? AND l.entity = 'appeal' "
                    "AND json_extract(l.before, '$.unit_code') IS NOT NULL",
                    (first, last, first, last)))
            return Change(kinds, units)
