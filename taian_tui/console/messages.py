"""The console's messages: small dataclasses named for what happened (past tense). Workers
post them to the screen, form or app that started them (``workers.run_in_store``); the
handler is ``on_<name>`` (``PageLoaded`` -> ``on_page_loaded``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from taian_tui.read.changes import Change


# -- any work ------------------------------------------------------------------------------------
@dataclass
class WorkFailed(Message):
    """A read or an action failed; ``text`` says why in the console's language (``refused``:
    the store refused it by a rule)."""

    task: str
    text: str
    refused: bool = False


# -- the app -------------------------------------------------------------------------------------
@dataclass
class SessionLoaded(Message):
    """The signed-in user and their reference data were read."""

    session: Any


@dataclass
class UsersListed(Message):
    """The users a demo database offers to sign in as were read."""

    users: list
    error: str | None = None


@dataclass
class CountsLoaded(Message):
    """Today's header counts were read."""

    counts: Any


@dataclass
class FileChanged(Message):
    """Another connection committed to the database file: what it changed, as far as the
    audit trail tells (``read.changes.ChangeWatch``)."""

    change: Change


@dataclass
class DayChanged(Message):
    """The date in Shanghai changed while the console was open."""

    day: str


# -- lists -----------------------------------------------------------------------------------------
@dataclass
class PageLoaded(Message):
    """A page of a list's rows was read, with the detail of the row the cursor lands on
    (``detail_key``; None when the detail pane is hidden or the read failed)."""

    request: Any
    rows: list
    detail_key: str | None = None
    detail: Any = None


@dataclass
class TotalCounted(Message):
    """The rows matching a list's filter were counted (with the figures that go with them)."""

    request: Any
    total: int
    extra: Any = None


@dataclass
class DetailLoaded(Message):
    """One row's detail was read (``detail`` is a message when the read failed)."""

    key: str
    detail: Any


@dataclass
class BoardLoaded(Message):
    """The escalation board's columns and lists were read."""

    data: Any


@dataclass
class RedCardsLoaded(Message):
    """A page of red-card leads was read."""

    generation: int
    rows: list
    total: int


@dataclass
class FiguresLoaded(Message):
    """The dashboard's figures for a month were read."""

    generation: int
    figures: Any
    months: list = field(default_factory=list)


@dataclass
class RecipientsFound(Message):
    """The people an instruction may be written to, matching what was typed."""

    generation: int
    matches: list


# -- forms -----------------------------------------------------------------------------------------
@dataclass
class ActionSaved(Message):
    """A form's action was stored."""


@dataclass
class ContentSaved(Message):
    """The policy editor's item was saved (and published, when asked). ``error``: it was
    saved, but publishing it was refused (why)."""

    item: dict
    published: bool
    error: str = ""


@dataclass
class ContentLoaded(Message):
    """A content item (and the day's 每日一听) was read for the editor or the list."""

    purpose: str
    item: Any


@dataclass
class Autosaved(Message):
    """What was typed into the policy editor was kept (or the write failed: ``error``)."""

    seq: int
    values: dict | None
    at: str
    error: str = ""


@dataclass
class AutosaveFound(Message):
    """An autosave of the item being opened was found (or ``None``)."""

    found: Any


# -- exports ---------------------------------------------------------------------------------------
@dataclass
class ExportProgressed(Message):
    """An export running in a worker has written ``rows`` rows so far."""

    rows: int


@dataclass
class FormFactsRead(Message):
    """What a form shows for the decision, read when it opened (``ActionForm.facts``)."""

    text: Any


@dataclass
class DraftFound(Message):
    """A form's draft was looked for: ``(fields, saved_at)``, or ``None``."""

    found: Any


@dataclass
class OrderRangeRead(Message):
    """The latest due time a supervision order may have today (``operations.order_due_range``),
    and whether the working days to it were counted Monday-Friday (a year without holiday data)."""

    latest: str
    estimated: bool = False


@dataclass
class ListenProgressed(Message):
    """A 每日一听 being built in a worker has read ``done`` of its ``total`` sentences."""

    done: int
    total: int


@dataclass
class ExportWritten(Message):
    """An export's file was written: ``path`` (absolute), with ``rows`` rows."""

    path: str
    rows: int
