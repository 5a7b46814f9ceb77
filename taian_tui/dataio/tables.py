"""The machinery of the small imports (accounts, units, routing rules): such files have
hundreds of rows, so they are checked in memory, then applied in one transaction through
the domain's operations, one SAVEPOINT a row (a row the operation refuses is rejected, the
others land); a dry run or a strict import with a rejection rolls everything back.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


from taian_tui.domain import timeutil
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError
from taian_tui.domain.text import clean_line
from taian_tui.dataio.reading import fit_row, ImportFileError, ImportResult, LineSource, MAX_SHOWN, Record, WrongEncoding, encoding_name, find_header, header_rows, locator, open_source, rejections as located, shorten, write_report, check_importer, check_report_path, file_sha256, records, unneutralise


# -- small tables: accounts, units, routing rules ------------------------------------------------


Problem = tuple[str, str, str]          # (column key, value, reason)


RowCheck = Callable[[Callable[[str], str], set[str]], tuple[dict, list[Problem]]]


class _Rollback(Exception):
    pass


@dataclass(frozen=True)
class Table:
    """A small CSV import applied row by row through one domain operation. Such files have
    hundreds of rows, so they are checked in memory, then applied in one transaction, one
    SAVEPOINT a row (a row the operation refuses is rejected, the others land); a dry run or
    a strict import with a rejection rolls the whole transaction back."""
    kind: str                                       # ImportResult.kind; audit action import.<kind>
    action: str                                     # its rule (``rules.ACTIONS``)
    columns: tuple[tuple[str, str, bool], ...]
    aliases: dict[str, tuple[str, ...]]
    key: tuple[str, ...]                            # the columns naming a row (a repeat: conflict)
    prepare: Callable[[Store], RowCheck]            # -> check(get cell, present keys) -> (data, problems)
    apply: Callable[[Store, str, dict, set[str], str], str]    # -> inserted | updated | unchanged
    #: the column a refusal of the operation is about (its ``DomainError.key`` -> column key);
    #: any other refusal is reported on the row's key column
    refused_columns: dict[str, str] = field(default_factory=dict)


def import_table(store: Store, who: str, path: str | os.PathLike, table: Table, *, encoding: str,
                  dry_run: bool, strict: bool, report: str | os.PathLike | None,
                  at: str | None, sheet: str | None = None) -> ImportResult:
    started = time.monotonic()
    path = Path(path)
    actor = check_importer(store, who, table.action)
    check_report_path(report)
    if store.in_transaction:
        raise RuntimeError(f"import {table.kind} runs its own transaction")
    at = timeutil.iso(at)
    source, sniffed = open_source(path, encoding, sheet)
    check = table.prepare(store)
    rejections: list[tuple[int, int, str, str, str]] = []
    while True:
        result = ImportResult(table.kind, str(path), dry_run=dry_run, strict=strict)
        rejections.clear()
        try:
            present, col_name, rows, locate = _check_table(source, result, table, check, rejections)
            break
        except WrongEncoding as exc:
            if sniffed and source.encoding == "utf-8":
                source, sniffed = LineSource(path, "gb18030"), False
                continue
            raise ImportFileError(f"{path}: line {exc.line}: the file is not valid "
                                  f"{encoding_name(exc.encoding)} ({exc.detail}); nothing imported") from None
    result.encoding = encoding_name(source.encoding)
    result.sha256 = file_sha256(path)
    if not (strict and result.rejected):
        try:
            with store.transaction():
                conn = store.conn
                for line, data in rows:
                    conn.execute("SAVEPOINT import_row")
                    try:
                        outcome = table.apply(store, actor, data, present, at)
                    except DomainError as exc:
                        conn.execute("ROLLBACK TO import_row")
                        conn.execute("RELEASE import_row")
                        result.rejected += 1
                        column = table.refused_columns.get(exc.key or "", table.key[-1])
                        rejections.append((line, 0, col_name[column], str(data[column]), str(exc)))
                        continue
                    conn.execute("RELEASE import_row")
                    setattr(result, outcome, getattr(result, outcome) + 1)
                if dry_run or (strict and result.rejected):
                    raise _Rollback()
                store.audit(actor, f"import.{table.kind}", "import", path.name, None,
                            {"file": path.name, "path": str(path.resolve()), "sha256": result.sha256,
                             "encoding": result.encoding, **result.counts(),
                             "ignored_columns": result.ignored_columns, "strict": strict}, at=at)
                result.written = True
        except _Rollback:
            pass
    if result.strict and result.rejected:
        result.inserted = result.updated = result.unchanged = 0
    rejections.sort(key=lambda r: (r[0], r[1]))
    if report:
        write_report(report, ((r[0], r[2], r[3], r[4]) for r in rejections), locate)
        result.report = str(report)
    result.rejections = located(((r[0], r[2], r[3], r[4]) for r in rejections[:MAX_SHOWN]), locate)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _check_table(source: LineSource, result: ImportResult, table: Table, check: RowCheck,
                 rejections: list) -> tuple[set[str], dict[str, str], list[tuple[int, dict]], Any]:
    """Every row checked: (present column keys, column names as written, [(line, data)],
    how a rejection is located: ``reading.locator``)."""
    recs = records(source)
    header, _, index, names, extra = find_header(header_rows(recs, result.file), table.columns,
                                                 table.aliases, result.file)
    result.ignored_columns = extra
    present = {k for k, _, _ in table.columns if k in index}
    col_name = {k: names.get(k, zh) for k, zh, _ in table.columns}
    ncols = len(header)
    noun = getattr(source, "row_word", "line")
    seen: dict[tuple, tuple[int, tuple, int]] = {}      # key -> (line, data, position in rows)
    rows: list[tuple[int, dict] | None] = []
    conflicted: set[tuple] = set()

    def reject(rec: Record, key: str, value: str, reason: str) -> None:
        i = index.get(key, -1)
        line = rec.cell_line(i) if i >= 0 else rec.line
        rejections.append((line, i, col_name.get(key, key), shorten(value), reason))

    for rec in recs:
        if rec.error:
            result.rows += 1
            result.rejected += 1
            rejections.append((rec.line, 0, "", "", rec.error))
            continue
        cells = rec.cells if len(rec.cells) == ncols else fit_row(rec.cells, ncols)
        if cells is None:
            continue
        if isinstance(cells, str):
            result.rows += 1
            result.rejected += 1
            rejections.append((rec.line, 0, "", "", cells))
            continue
        vals = [unneutralise(clean_line(c)) for c in cells]
        if not any(vals):
            continue
        result.rows += 1
        data, problems = check(lambda k: vals[index[k]] if k in index else "", present)
        if problems:
            result.rejected += 1
            for key, value, reason in problems:
                reject(rec, key, value, reason)
            continue
        key = tuple(data[k] for k in table.key)
        shown = "/".join(map(str, key))
        if key in seen:
            first_line, first_data, pos = seen[key]
            if tuple(data.values()) == first_data:
                result.duplicates += 1
                continue
            what = " and ".join(col_name[k] for k in table.key)
            if key not in conflicted:          # reject the first one too
                conflicted.add(key)
                rows[pos] = None
                result.rejected += 1
                rejections.append((first_line, index[table.key[-1]], col_name[table.key[-1]], shown,
                                   f"conflict: the same {what} is also on {noun} {rec.line} with "
                                   "different data; conflicting rows are all rejected"))
            result.rejected += 1
            reject(rec, table.key[-1], shown, f"conflict: the same {what} is also on {noun} "
                   f"{first_line} with different data; conflicting rows are all rejected")
            continue
        seen[key] = (rec.line, tuple(data.values()), len(rows))
        rows.append((rec.line, data))
    return present, col_name, [r for r in rows if r is not None], locator(source, header)


def unit_lookup(store: Store, kinds: tuple[str, ...] | None = None) -> dict[str, str]:
    """Unit code or name -> code (of the units of ``kinds``, or of every unit)."""
    units: dict[str, str] = {}
    for u in store.units(kinds):
        units[u.code] = u.code
        units.setdefault(u.name, u.code)
    return units
