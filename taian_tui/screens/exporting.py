"""Export what a list screen shows: one key (``x``) and a palette command on the inbox, the
escalation board, the red cards, the project board and the dashboard's ranking.

The console has no file dialog. The workbook (.xlsx, the lists of ``read.exports``, written
by ``dataio.export.write_listing`` as ``taian export`` writes them) goes to the user's own
folder beside the database, ``exports/USERNAME/`` (mode 0700), named
``诉求-USERNAME-YYYYMMDD-HHMMSS.xlsx`` (mode 0600), at the server's clock: the people on one
server all run as its service account, and their files neither collide nor replace one
another. The export runs in a worker on the store lent to it (``run_in_store``), as the
signed-in user, in their scope; the list is read in one read transaction and streamed, and
the screen's status line says how many rows are written so far (every
``dataio.export.PROGRESS_EVERY``), then the path, which a notification shows as well. A
second press while one runs is answered with a word, not a second export. An export is a
read: like ``taian export`` it writes no audit row.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any, Callable, ClassVar

from textual.worker import Worker, WorkerState

from taian_tui.console.messages import ExportProgressed, ExportWritten, WorkFailed
from taian_tui.console.strings import t
from taian_tui.console.workers import Job
from taian_tui.dataio import export as writing
from taian_tui.domain import timeutil
from taian_tui.domain.actors import Actor
from taian_tui.read import exports
from taian_tui.store import BackupError, Store

TASK = "export"

#: Why a folder or file could not be written, in words (``export.why.*``), by errno.
_WHY = {errno.EACCES: "denied", errno.EPERM: "denied", errno.ENOSPC: "full", errno.EDQUOT: "full",
        errno.EROFS: "readonly", errno.ENOTDIR: "notdir", errno.EEXIST: "exists"}


class _Stopped(Exception):
    """The worker was cancelled (the screen went away): stop writing; nothing is left."""


def _why(exc: OSError) -> str:
    if isinstance(exc, writing.ForeignFolder):
        return t("export.why.owner")
    key = _WHY.get(exc.errno or 0)
    return t(f"export.why.{key}") if key else (exc.strerror or str(exc))


class ExportsList:
    """Mixin of a list screen (before its base class): ``x`` / the palette's command export
    what it shows. The screen says what: ``EXPORT_NAME`` (a key of ``read.exports.FILE_NAMES``),
    ``EXPORT_COMMAND`` (the palette's words), ``export_builder()`` (called on the UI thread:
    captures the filter or month shown, returns the function that builds the table in the
    worker), and redraws its status line (``export_note_changed``) with
    ``with_export_note(text)``."""

    EXPORT_NAME: ClassVar[str] = "appeals"
    EXPORT_COMMAND: ClassVar[str] = "cmd.export.appeals"

    export_note: str = ""
    _export_worker: Worker | None = None

    # -- what each screen says ------------------------------------------------------------------
    def export_builder(self) -> Callable[[Store, Actor], exports.Table]:
        raise NotImplementedError

    def export_command(self) -> str:
        return t(self.EXPORT_COMMAND)

    def export_note_changed(self) -> None:
        """The note changed: redraw the status line (with ``with_export_note``)."""

    def with_export_note(self, text: str) -> str:
        """The status line ``text`` with the export's progress, path or failure after it."""
        return f"{text}  │  {self.export_note}" if self.export_note and text else (text or self.export_note)

    # -- the key and the palette ----------------------------------------------------------------
    @property
    def exporting(self) -> bool:
        worker = self._export_worker
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def export_folder(self) -> Path:
        console = self.console  # type: ignore[attr-defined]
        return writing.personal_folder(console.db_path, console.username or "")

    def export_palette_command(self) -> tuple[str, str, Any]:
        return (self.export_command(), t("cmd.export.help", folder=str(self.export_folder())),
                self.action_export)

    def action_export(self) -> None:
        """Write what the screen shows to a new workbook in the user's export folder."""
        app = self.app  # type: ignore[attr-defined]
        if self.exporting:
            app.notify(t("export.busy"), markup=False)
            return
        build = self.export_builder()
        db_path = self.console.db_path  # type: ignore[attr-defined]
        what = exports.FILE_NAMES[self.EXPORT_NAME]

        def work(job: Job) -> ExportWritten | WorkFailed:
            def progress(rows: int) -> None:
                if not job.post(ExportProgressed(rows)):
                    raise _Stopped()

            target: Path | None = None
            try:
                target = writing.personal_export(db_path, job.username, what, timeutil.iso())
                if not os.access(target.parent, os.W_OK | os.X_OK):
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target.parent))
                table = build(job.store, job.actor)
                rows = writing.write_listing(target, table, "xlsx", progress=progress)
            except OSError as exc:
                where = exc.filename or (target.parent if target else writing.personal_folder(db_path, job.username))
                return WorkFailed(TASK, t("export.err.write", path=str(where), reason=_why(exc)))
            except BackupError as exc:      # the folder refused the temporary file
                where = target.parent if target else db_path
                return WorkFailed(TASK, t("export.err.write", path=str(where), reason=str(exc)))
            return ExportWritten(str(target), rows)

        self._export_worker = self.run_in_store(TASK, work)  # type: ignore[attr-defined]
        self._set_export_note(t("export.started"))

    # -- what the worker posts --------------------------------------------------------------------
    def _set_export_note(self, text: str) -> None:
        self.export_note = text
        self.export_note_changed()

    def on_export_progressed(self, message: ExportProgressed) -> None:
        message.stop()
        self._set_export_note(t("export.progress", n=f"{message.rows:,}"))

    def on_export_written(self, message: ExportWritten) -> None:
        message.stop()
        text = t("export.done", n=f"{message.rows:,}", path=message.path)
        self._set_export_note(text)
        self.app.notify(text, title=t("export.done.title"), markup=False, timeout=20)  # type: ignore[attr-defined]

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.task != TASK:
            return
        message.stop()
        text = t("export.failed", msg=message.text)
        self._set_export_note(text)
        self.app.notify(text, title=t("export.failed.title"), severity="error", markup=False,  # type: ignore[attr-defined]
                        timeout=20)
