"""The enterprise registry back out (``taian export enterprises``): the import's columns with
Chinese headers, formula-like cells neutralised, so an export re-imports unchanged.
"""
from __future__ import annotations

import csv
import json
from typing import TextIO


from taian_tui.store import Store
from taian_tui.domain.refusals import ValidationError
from taian_tui.dataio.reading import neutralise
from taian_tui.dataio.registry import ENTERPRISE_COLUMNS


# -- enterprise export ------------------------------------------------------------------------------
EXPORT_FORMATS = ("csv", "json")


def export_enterprises(store: Store, out: TextIO, fmt: str = "csv") -> int:
    """Write every enterprise to ``out``: CSV with the Chinese headers of the import
    (cells neutralised against spreadsheet formulas; open ``out`` with ``utf-8-sig`` so
    Excel reads it), or a JSON array with the English keys. Streams; returns the count."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"--format must be csv or json, not {fmt!r}")
    keys = [k for k, _, _ in ENTERPRISE_COLUMNS]
    cols = ", ".join("uscc" if k == "uscc" else k for k in keys)
    cur = store.conn.execute(f"SELECT {cols} FROM enterprises ORDER BY rowid")
    n = 0
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow([zh for _, zh, _ in ENTERPRISE_COLUMNS])
        for row in cur:
            w.writerow([neutralise(v if v is not None else "") for v in row])
            n += 1
        return n
    out.write("[")
    for row in cur:
        out.write(",\n" if n else "\n")
        out.write(json.dumps(dict(zip(keys, row)), ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n
