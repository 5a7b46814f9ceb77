"""Data-in and data-out commands (imports, export, intake), registered on the ``taian`` app.

Plain text on stdout (a summary line) and stderr (rejected rows), no colour: cron-safe.
Exit status: 0 when nothing was rejected, 1 when some row or line was, 2 when the file as
a whole cannot be used (missing column, unreadable, wrong encoding) or the action is
refused; nothing is written in that case.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import (shown, STDOUT, AsOpt, CardOpt, CategoryOpt, DbOpt, EncodingOpt, Fail, JsonOpt, SearchOpt,
                                       SheetOpt, StateOpt, UnitOpt, appeal_filter, check_output, emit_json, is_stdout,
                                       open_store, plural)

DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check and count everything; write nothing.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Write nothing at all if any row is rejected.")]
ReportOpt = Annotated[Optional[Path], typer.Option("--report", help="Write the rejected rows (line, column, value, reason; for a workbook cell, column, value, reason) to this CSV.", show_default=False)]


def _actor(as_user: str | None, default: str) -> str:
    return as_user or os.environ.get("TAIAN_USER") or default


def _print_import(result, as_json: bool) -> None:
    from taian_tui.dataio.reading import MAX_SHOWN

    if as_json:
        emit_json(result.as_dict())
        return
    name = Path(result.file).name
    for r in result.rejections:
        col = f" {r.column}:" if r.column else ""
        value = f" (value {r.value!r})" if r.value else ""
        typer.echo(shown(f"{name}:{r.where}:{col} {r.reason}{value}"), err=True)
    if result.rejected and not result.report and result.rejected > len(result.rejections) \
            and len(result.rejections) >= MAX_SHOWN:
        typer.echo(f"{name}: ... more rejected rows not shown; use --report PATH for the full list", err=True)
    typer.echo(result.summary())


def _run_import(kind: str, file: Path, db, encoding, dry_run, strict, report, as_user, as_json,
                sheet: str | None = None) -> None:
    from taian_tui.dataio import accounts, reading, registry, routing, units

    if not file.exists():
        raise Fail(f"{file}: no such file", 2)
    if file.is_dir():
        raise Fail(f"{file}: is a directory", 2)
    if is_stdout(report):
        raise Fail(f"--report {STDOUT} (standard output): the report is a file; give its path, such as rejected.csv", 2)
    # the report replaces what is at its path: never the file being imported (an office's only
    # copy was replaced by its rejections; a database is refused by the import itself)
    if report is not None and report.exists() and report.resolve() == file.resolve():
        raise Fail(f"--report {report} is the file being imported: give the report another name, "
                   "such as rejected.csv; nothing imported", 2)
    store = open_store(db)
    try:
        who = _actor(as_user, reading.IMPORT_ACTOR)
        fn = {"enterprises": registry.import_enterprises, "users": accounts.import_users,
              "units": units.import_units, "routing": routing.import_routing}[kind]
        kwargs = dict(encoding=encoding, dry_run=dry_run, strict=strict, report=report, sheet=sheet)
        if kind == "enterprises":
            class Written(reading.Progress):
                """The progress bar, counting the rows of the batches committed (the writing
                stage is reported after each batch's commit)."""

                written = 0

                def update(self, label, done, total, detail="", *, force=False) -> None:
                    if label == "writing":
                        self.written = int(done)
                    super().update(label, done, total, detail, force=force)

            kwargs["progress"] = Written(sys.stderr)
        try:
            result = fn(store, who, file, **kwargs)
        except KeyboardInterrupt:
            # Ctrl-C (SIGINT) between the batches of a large import: say what landed
            if kind != "enterprises":
                raise
            kwargs["progress"].close()
            landed = ("nothing written (dry run)" if dry_run else
                      f"{plural(kwargs['progress'].written, 'row')} committed; the file can be imported again: "
                      "rows already in are unchanged")
            typer.echo(f"interrupted: {landed}", err=True)
            raise typer.Exit(130) from None
        except reading.ImportFileError as exc:
            raise Fail(str(exc), 2) from None
        except OSError as exc:
            raise Fail(f"{exc.filename or file}: {exc.strerror or exc}", 2) from None
        _print_import(result, as_json)
    finally:
        store.close()
    if result.exit_code:
        raise typer.Exit(result.exit_code)


ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the -o file if it exists.")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="The file to write (.xlsx or .csv; - for CSV on standard output); an existing one only with --force.", show_default=False)]
FormatOpt = Annotated[Optional[str], typer.Option("--format", help="xlsx (a workbook with a title row, frozen headers, real dates) or csv (UTF-8 with BOM, header row first). Default: as the -o name ends (.xlsx, .csv; no suffix: xlsx; -o -: csv); a name that says another format is refused.", show_default=False)]


def _month_opt(what: str):
    """``--month`` of one export: ``what`` says what the month selects."""
    return Annotated[Optional[str], typer.Option(
        "--month", help=f"YYYY-MM, as `taian stats --month`: {what}.", show_default=False)]


#: What --month selects, per export.
MONTHS = {"appeals": "the appeals submitted in that month",
          "orders": "the supervision orders opened in that month",
          "red-cards": "the red cards whose threshold passed in that month",
          "rates": "the month of the 三率 ranking (default: the current month)"}


#: What a file's name says it holds (its suffix): the formats of ``taian export``, and others
#: a name may claim, which an export refuses to write under that name.
_SUFFIX_FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".json": "json", ".xls": "xls", ".xlsm": "xlsm",
                   ".xlsb": "xlsb", ".ods": "ods", ".tsv": "tsv", ".pdf": "pdf", ".html": "html", ".htm": "html"}


def _export_format(fmt: str | None, output: Path | None, allowed: tuple[str, ...], default: str) -> str:
    """The format of an export, decided before anything is read or written: ``--format``,
    else what the -o name ends with (``.xlsx``, ``.csv``; ``.json`` where allowed); no -o, or
    a name without a suffix, takes ``default``. Refused (exit 2, nothing written): a --format
    not in ``allowed``; a name whose suffix says another format than --format (``--format
    csv -o x.xlsx``); without --format, a name whose suffix says a format this export does
    not write (``-o x.json``) or says none (``-o x.dat``). With --format, a suffix that says
    no format (``.dat``, ``.txt``) is the person's choice."""
    choices = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
    endings = f"{', '.join('.' + a for a in allowed[:-1])} or .{allowed[-1]}"
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in allowed:
            raise Fail(f"--format must be {choices}", 2)
    suffix = output.suffix.lower() if output is not None else ""
    named = _SUFFIX_FORMATS.get(suffix)
    name = shown(str(output))
    if fmt is not None:
        if named is not None and named != fmt:
            other = f", or give --format {named}" if named in allowed else ""
            raise Fail(f"--format {fmt} but -o {name} ends in {suffix}: name the file "
                       f"{shown(output.stem)}.{fmt}{other}; nothing written", 2)
        return fmt
    if not suffix:
        return default
    if named in allowed:
        return named
    said = f"not {named}" if named else f"and {shown(suffix)} does not say which"
    raise Fail(f"-o {name}: this export writes {choices}, {said}: end the name in {endings}"
               f"{'' if named else ', or give --format'}; nothing written", 2)


NO_WORKBOOK_ON_STDOUT = "--format xlsx writes a workbook: give the file with -o FILE.xlsx"


def _to_stdout(write, encoding: str) -> int:
    """``write(stream)`` onto standard output in ``encoding`` (``utf-8-sig``: with a BOM, for
    Excel), its newlines as written (CSV's CRLF); returns what ``write`` returns."""
    import io

    binary = getattr(sys.stdout, "buffer", None)   # None: a text-only stream
    if binary is None:
        buf = io.StringIO()
        n = write(buf)
        sys.stdout.write(("\ufeff" if encoding == "utf-8-sig" else "") + buf.getvalue())
        return n
    sys.stdout.flush()
    out = io.TextIOWrapper(binary, encoding=encoding, newline="")
    try:
        try:
            return write(out)
        finally:
            out.flush()
            out.detach()
    except BrokenPipeError:
        # what read it went away (`| head`): stop quietly, as other tools do (128 + SIGPIPE)
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        raise typer.Exit(141) from None


def _writing(output: Path, write) -> int:
    """``write()``, its failures to write the file as one line (exit 1; nothing is left at
    ``output``)."""
    from taian_tui.store import BackupError

    try:
        return write()
    except OSError as exc:
        raise Fail(f"{output}: cannot write: {exc.strerror or exc}; nothing written") from None
    except BackupError as exc:
        raise Fail(str(exc)) from None


#: ``taian export KIND``: the lists a supervisor prints (``read.exports``): kind, short help, help.
EXPORT_LISTS = (
    ("appeals", "Export appeals (诉求清单).", "Export appeals (诉求清单) with the filters of `taian appeal list`, in the --as user's scope. "
                "--month: submitted in that month."),
    ("orders", "Export supervision orders (督办单).", "Export supervision orders (督办单) of the appeals the filters select, in the --as user's "
               "scope. --month: opened in that month."),
    ("red-cards", "Export red cards (红牌).", "Export the appeals that took a red card (红牌), not yet taken up first, in the --as user's "
                  "scope. --month: the red threshold passed in that month."),
    ("rates", "Export the units' 三率 ranking.", "Export the units' 三率 ranking for --month (default: the current month), worst first, as the "
              "dashboard and `taian stats` rank them."),
)


def _export_list(kind: str, output: Path, db, fmt, force, month, as_user=None, state=None, card=None,
                 unit=None, category=None, search=None) -> None:
    from taian_tui.dataio import export
    from taian_tui.domain import actors, timeutil
    from taian_tui.domain.refusals import ValidationError
    from taian_tui.read import exports, stats

    to_stdout = is_stdout(output)
    if to_stdout:
        fmt = _export_format(fmt, None, export.TABLE_FORMATS, "csv")
        if fmt == "xlsx":
            raise Fail(NO_WORKBOOK_ON_STDOUT, 2)
    else:
        check_output(output, force, db=db)
        fmt = _export_format(fmt, output, export.TABLE_FORMATS, "xlsx")
    at = timeutil.iso()
    try:
        period = stats.period(month, at) if month is not None or kind == "rates" else None
    except ValidationError as exc:
        raise Fail(f"--month: {exc}", 2) from None
    store = open_store(db, read_only=True)
    try:
        if kind == "rates":
            table = exports.rates_table(store, period)
        else:
            # whose scope: exactly as `taian appeal list` (--as, else TAIAN_USER, else everything)
            act = actors.actor(store, as_user or os.environ.get("TAIAN_USER") or actors.OPERATOR)
            f = appeal_filter(state, card, unit, category, search)
            build = {"appeals": exports.appeals_table, "orders": exports.orders_table,
                     "red-cards": exports.red_cards_table}[kind]
            table = build(store, act, f, month=period, at=at)
        if to_stdout:
            try:
                n = _to_stdout(lambda out: export.write_csv(out, table.columns, table.rows), "utf-8-sig")
            finally:
                close = getattr(table.rows, "close", None)
                if close is not None:
                    close()
        else:
            n = _writing(output, lambda: export.write_listing(output, table, fmt, force=force))
    finally:
        store.close()
    what = plural(n, {"appeals": "appeal", "orders": "supervision order", "red-cards": "red card",
                      "rates": "unit"}[kind])
    if to_stdout:
        typer.echo(f"exported {what}", err=True)
    else:
        typer.echo(f"exported {what} to {output} ({fmt})")
    typer.echo(shown(table.title), err=True)


def _export_list_command(kind: str, doc: str):
    month_opt = _month_opt(MONTHS[kind])
    if kind == "rates":
        def command(output: OutputOpt, db: DbOpt = None, fmt: FormatOpt = None, force: ForceOpt = False,
                    month: month_opt = None) -> None:
            _export_list(kind, output, db, fmt, force, month)
    else:
        def command(output: OutputOpt, db: DbOpt = None, fmt: FormatOpt = None, force: ForceOpt = False,
                    month: month_opt = None, as_user: AsOpt = None, state: StateOpt = None, card: CardOpt = None,
                    unit: UnitOpt = None, category: CategoryOpt = None, search: SearchOpt = None) -> None:
            _export_list(kind, output, db, fmt, force, month, as_user, state, card, unit, category, search)
    # (set here: this module's annotations are strings, evaluated where ``month_opt`` is unknown)
    command.__annotations__["month"] = month_opt
    command.__doc__ = doc
    command.__name__ = f"export_{kind.replace('-', '_')}"
    return command


#: (kind, the file's columns, what the command does, that in short): ``taian import KIND FILE``.
IMPORTS = (
    ("enterprises", "CSV or Excel workbook: 企业名称, 统一社会信用代码, 所属县市区 (required), 行业, 企业标签, 联系人, 联系电话, "
                    "注册地址 — or name, uscc, county, industry, tags, contact, phone, address.",
     "Import (upsert by credit code) the enterprise registry.", "Import the enterprise registry."),
    ("users", "CSV or Excel workbook: 用户名, 姓名, 角色 (required), 单位, 手机号, 范围 — or username, name, role, unit, mobile, "
              "scope. Role by code or label (管理员 联络员 领导 督查 纪委 编辑); unit by code or name.",
     "Create or update accounts from a CSV file or an Excel workbook.", "Create or update accounts."),
    ("units", "CSV or Excel workbook: 代码, 单位名称, 类型 (required), 负责人, 负责人手机 — or code, name, kind, head_name, "
              "head_mobile. Kind by code or label (县市区 功能区 市直部门 督查室 纪委监委 平台). The 58 units "
              "of Tai'an are in taian_tui/demo/data/units.csv.",
     "Create or update units (by code) from a CSV file or an Excel workbook.", "Create or update units."),
    ("routing", "CSV or Excel workbook: 类别, 县市区, 承办单位 — or category, county, unit. Category as code or label (land or "
                "土地); unit by code or name. A default set is in taian_tui/demo/data/routing_rules.csv.",
     "Set the routing rules (category x county -> unit) from a CSV file or an Excel workbook.",
     "Set the routing rules."),
)


def _import_command(kind: str, columns: str, doc: str):
    def command(file: Path,
                db: DbOpt = None, encoding: EncodingOpt = "auto", dry_run: DryRunOpt = False,
                strict: StrictOpt = False, report: ReportOpt = None, as_user: AsOpt = None,
                as_json: JsonOpt = False, sheet: SheetOpt = None) -> None:
        _run_import(kind, file, db, encoding, dry_run, strict, report, as_user, as_json, sheet)
    # (set here: this module's annotations are strings, evaluated where ``columns`` is unknown)
    command.__annotations__["file"] = Annotated[Path, typer.Argument(metavar="FILE", help=columns)]
    command.__doc__ = doc
    command.__name__ = f"import_{kind}"
    return command


def register(app: typer.Typer) -> None:
    """Add the data commands to ``app``."""
    import_app = typer.Typer(help="Bulk imports (CSV or Excel .xlsx/.xls; title rows above the header skipped): the enterprise registry, accounts, units, routing rules.",
                             short_help="Bulk imports from CSV or Excel files.",
                             no_args_is_help=True, rich_markup_mode=None)
    export_app = typer.Typer(help="Export lists for spreadsheets and scripts (.xlsx or .csv; the registry also as JSON).",
                             short_help="Export lists for spreadsheets and scripts.", no_args_is_help=True,
                             rich_markup_mode=None)
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")

    exits = " Exit 0: nothing rejected; 1: rows rejected; 2: file unusable."
    for kind, columns, doc, short in IMPORTS:
        import_app.command(kind, short_help=short)(_import_command(kind, columns, doc + exits))

    @export_app.command("enterprises", short_help="Export the enterprise registry.")
    def export_enterprises(
            db: DbOpt = None,
            fmt: Annotated[Optional[str], typer.Option("--format", help="csv (Chinese headers, UTF-8 with BOM, for Excel), json, or xlsx (a workbook; needs -o). Default: as the -o name ends (.csv, .json, .xlsx; no -o or no suffix: csv); a name that says another format is refused.", show_default=False)] = None,
            output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here (- or none: standard output).", show_default=False)] = None,
            force: ForceOpt = False) -> None:
        """Export the enterprise registry (the import's columns; re-imports unchanged, the workbook too)."""
        from taian_tui.dataio import export
        from taian_tui.read.exports import shown_time
        from taian_tui.domain import timeutil

        if is_stdout(output):
            output = None
        if output is not None:
            check_output(output, force, db=db)
        fmt = _export_format(fmt, output, ("csv", "json", "xlsx"), "csv")
        if output is None and fmt == "xlsx":
            raise Fail(NO_WORKBOOK_ON_STDOUT, 2)
        store = open_store(db, read_only=True)
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        try:
            if output is None:
                n = _to_stdout(lambda out: export.export_enterprises(store, out, fmt), encoding)
                typer.echo(f"exported {plural(n, 'enterprise')}", err=True)
                return

            def write() -> int:
                if fmt == "xlsx":
                    return export.write_table(
                        output, fmt, export.ENTERPRISE_TABLE_COLUMNS, export.enterprise_rows(store),
                        sheet="企业名录", title=f"企业名录 · 数据截至 {shown_time(timeutil.iso())}", force=force)
                with export.private_output(output, force=force) as partial:
                    with open(partial, "w", encoding=encoding, newline="") as fh:
                        return export.export_enterprises(store, fh, fmt)

            n = _writing(output, write)
            typer.echo(f"exported {plural(n, 'enterprise')} to {output} ({fmt})")
        finally:
            store.close()

    for kind, short, doc in EXPORT_LISTS:
        export_app.command(kind, short_help=short)(_export_list_command(kind, doc))

    @app.command("intake", short_help="Apply the enterprise app's events.")
    def intake(
            file: Annotated[str, typer.Argument(metavar="FILE", help="JSON-lines file of app events, or - for stdin.")],
            db: DbOpt = None, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
        """Apply the enterprise app's events (appeal.submitted, appeal.evaluated, project.applied, project.progress); a repeated event_id is a no-op. Exit 1 if any line was rejected."""
        from taian_tui.dataio import intake as intake_mod

        who = _actor(as_user, intake_mod.INTAKE_ACTOR)
        if file != "-":
            path = Path(file)
            if not path.is_file():
                raise Fail(f"{file}: no such file", 2)
        store = open_store(db)

        def show(err) -> None:
            if not as_json:
                eid = f" [{err.event_id}]" if err.event_id else ""
                typer.echo(shown(f"{'stdin' if file == '-' else file}:{err.line}:{eid} {err.reason}"), err=True)

        try:
            if file == "-":
                stdin = getattr(sys.stdin, "buffer", None)
                if stdin is None:               # stdin replaced by a text-only stream
                    import io

                    stdin = io.BytesIO(sys.stdin.read().encode("utf-8"))
                result = intake_mod.run_intake(store, stdin, who=who, source="stdin", on_error=show)
            else:
                with open(file, "rb") as fh:
                    result = intake_mod.run_intake(store, fh, who=who, source=file, on_error=show)
        finally:
            store.close()
        if as_json:
            emit_json(result.as_dict())
        else:
            typer.echo(result.summary())
        if result.exit_code:
            raise typer.Exit(result.exit_code)


app = typer.Typer()
register(app)
