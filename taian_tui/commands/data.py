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

from taian_tui.commands.common import shown, AsOpt, DbOpt, EncodingOpt, Fail, JsonOpt, emit_json, open_store

DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check and count everything; write nothing.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Write nothing at all if any row is rejected.")]
ReportOpt = Annotated[Optional[Path], typer.Option("--report", help="Write the rejected rows (line, column, value, reason) to this CSV.", show_default=False)]


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
        typer.echo(shown(f"{name}:{r.line}:{col} {r.reason}{value}"), err=True)
    if result.rejected and not result.report and result.rejected > len(result.rejections) \
            and len(result.rejections) >= MAX_SHOWN:
        typer.echo(f"{name}: ... more rejected rows not shown; use --report PATH for the full list", err=True)
    typer.echo(result.summary())


def _run_import(kind: str, file: Path, db, encoding, dry_run, strict, report, as_user, as_json) -> None:
    from taian_tui.dataio import accounts, reading, registry, routing, units

    if not file.exists():
        raise Fail(f"{file}: no such file", 2)
    if file.is_dir():
        raise Fail(f"{file}: is a directory", 2)
    store = open_store(db)
    try:
        who = _actor(as_user, reading.IMPORT_ACTOR)
        fn = {"enterprises": registry.import_enterprises, "users": accounts.import_users,
              "units": units.import_units, "routing": routing.import_routing}[kind]
        kwargs = dict(encoding=encoding, dry_run=dry_run, strict=strict, report=report)
        if kind == "enterprises":
            kwargs["progress"] = reading.Progress(sys.stderr)
        try:
            result = fn(store, who, file, **kwargs)
        except reading.ImportFileError as exc:
            raise Fail(str(exc), 2) from None
        except OSError as exc:
            raise Fail(f"{exc.filename or file}: {exc.strerror or exc}", 2) from None
        _print_import(result, as_json)
    finally:
        store.close()
    if result.exit_code:
        raise typer.Exit(result.exit_code)


#: (kind, the file's columns, what the command does): ``taian import KIND FILE``.
IMPORTS = (
    ("enterprises", "CSV: 企业名称, 统一社会信用代码, 所属县市区 (required), 行业, 企业标签, 联系人, 联系电话, "
                    "注册地址 — or name, uscc, county, industry, tags, contact, phone, address.",
     "Import (upsert by credit code) the enterprise registry."),
    ("users", "CSV: 用户名, 姓名, 角色 (required), 单位, 手机号, 范围 — or username, name, role, unit, mobile, "
              "scope. Role by code or label (管理员 联络员 领导 督查 纪委 编辑); unit by code or name.",
     "Create or update accounts from a CSV."),
    ("units", "CSV: 代码, 单位名称, 类型 (required), 负责人, 负责人手机 — or code, name, kind, head_name, "
              "head_mobile. Kind by code or label (县市区 功能区 市直部门 督查室 纪委监委 平台). The 58 units "
              "of Tai'an are in taian_tui/demo/data/units.csv.",
     "Create or update units (by code) from a CSV."),
    ("routing", "CSV: 类别, 县市区, 承办单位 — or category, county, unit. Category as code or label (land or "
                "土地); unit by code or name. A default set is in taian_tui/demo/data/routing_rules.csv.",
     "Set the routing rules (category x county -> unit) from a CSV."),
)


def _import_command(kind: str, columns: str, doc: str):
    def command(file: Path,
                db: DbOpt = None, encoding: EncodingOpt = "auto", dry_run: DryRunOpt = False,
                strict: StrictOpt = False, report: ReportOpt = None, as_user: AsOpt = None,
                as_json: JsonOpt = False) -> None:
        _run_import(kind, file, db, encoding, dry_run, strict, report, as_user, as_json)
    # (set here: this module's annotations are strings, evaluated where ``columns`` is unknown)
    command.__annotations__["file"] = Annotated[Path, typer.Argument(help=columns)]
    command.__doc__ = doc
    command.__name__ = f"import_{kind}"
    return command


def register(app: typer.Typer) -> None:
    """Add the data commands to ``app``."""
    import_app = typer.Typer(help="Bulk imports (CSV): the enterprise registry, accounts, units, routing rules.",
                             no_args_is_help=True, rich_markup_mode=None)
    export_app = typer.Typer(help="Export data for spreadsheets and scripts.", no_args_is_help=True,
                             rich_markup_mode=None)
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")

    exits = " Exit 0: nothing rejected; 1: rows rejected; 2: file unusable."
    for kind, columns, doc in IMPORTS:
        import_app.command(kind)(_import_command(kind, columns, doc + exits))

    @export_app.command("enterprises", short_help="Export the enterprise registry.")
    def export_enterprises(
            db: DbOpt = None,
            fmt: Annotated[str, typer.Option("--format", help="csv (Chinese headers, UTF-8 with BOM, for Excel) or json.")] = "csv",
            output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here (else stdout).", show_default=False)] = None) -> None:
        """Export the enterprise registry (the import's columns; re-imports unchanged)."""
        from taian_tui.dataio import export

        if fmt not in export.EXPORT_FORMATS:
            raise Fail("--format must be csv or json", 2)
        store = open_store(db, read_only=True)
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        try:
            if output is None:
                import io

                binary = getattr(sys.stdout, "buffer", None)   # None: a text-only stream
                if binary is None:
                    buf = io.StringIO()
                    n = export.export_enterprises(store, buf, fmt)
                    sys.stdout.write(("\ufeff" if fmt == "csv" else "") + buf.getvalue())
                else:
                    out = io.TextIOWrapper(binary, encoding=encoding, newline="")
                    try:
                        n = export.export_enterprises(store, out, fmt)
                    finally:
                        out.flush()
                        out.detach()
                typer.echo(f"exported {n} enterprises", err=True)
                return
            tmp = output.with_name(output.name + ".tmp")
            try:
                with open(tmp, "w", encoding=encoding, newline="") as fh:
                    n = export.export_enterprises(store, fh, fmt)
                os.replace(tmp, output)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise Fail(f"{output}: cannot write: {exc.strerror or exc}") from None
            typer.echo(f"exported {n} enterprises to {output}")
        finally:
            store.close()

    @app.command("intake", short_help="Apply the enterprise app's events.")
    def intake(
            file: Annotated[str, typer.Argument(help="JSON-lines file of app events, or - for stdin.")],
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
