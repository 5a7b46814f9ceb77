"""``taian calendar import``: a year's holidays and make-up workdays from the file the State
Council's notice is typed into, read like the other imports.
"""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path


from taian_tui.domain.text import clean_line
from taian_tui.dataio.reading import ImportFileError, LineSource, WrongEncoding, encoding_name, find_header, header_rows, locator, open_source, records, unneutralise


# -- calendar import ---------------------------------------------------------------------------------
CALENDAR_COLUMNS: tuple[tuple[str, str, bool], ...] = (("date", "日期", True), ("kind", "类型", True))


CALENDAR_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("日期", "date", "day"),
    "kind": ("类型", "种类", "安排", "kind", "type"),
}


#: What a calendar file may say for each kind (Chinese as the State Council notice words it).
CALENDAR_KINDS = {
    "holiday": ("holiday", "节假日", "假日", "放假", "休", "休息", "休息日"),
    "workday": ("workday", "工作日", "补班", "上班", "班", "调休上班", "调休上班日"),
}


_KIND_LOOKUP = {w: kind for kind, words in CALENDAR_KINDS.items() for w in words}


# 2027-01-01, 2027/1/1 (how Excel on a Chinese PC writes a date cell to CSV), 2027.1.1,
# 2027年1月1日
_CALENDAR_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def read_calendar(path: str | os.PathLike, encoding: str = "auto",
                  sheet: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """The (ISO date, holiday|workday) rows of a calendar file and the problems found, one
    ``file:line: column: reason`` each (a workbook's: ``file:日历!A3: column: reason``).
    Same reading as the other imports: UTF-8 (BOM or not) or GBK/GB18030, or an Excel
    workbook (its first visible sheet, or ``sheet``; date cells are dates), Chinese or
    English headers (date/日期, kind/类型). Raises ImportFileError when the file as a whole
    is unusable."""
    path = Path(path)
    source, sniffed = open_source(path, encoding, sheet)
    while True:
        try:
            return _read_calendar(source, str(path))
        except WrongEncoding as exc:
            if sniffed and source.encoding == "utf-8":
                source, sniffed = LineSource(path, "gb18030"), False
                continue
            raise ImportFileError(f"{path}: line {exc.line}: the file is not valid "
                                  f"{encoding_name(exc.encoding)} ({exc.detail}); nothing imported") from None


def _read_calendar(source: LineSource, file: str) -> tuple[list[tuple[str, str]], list[str]]:
    import datetime as _dt

    recs = records(source)
    header, _, index, names, _ = find_header(header_rows(recs, file), CALENDAR_COLUMNS, CALENDAR_ALIASES, file)
    locate = locator(source, header)

    def where(line: int, column: str = "") -> str:
        return locate(line, column) if locate else str(line)

    rows: list[tuple[str, str]] = []
    problems: list[str] = []
    for rec in recs:
        if rec.error:
            problems.append(f"{file}:{where(rec.line)}: {rec.error}")
            continue
        vals = [unneutralise(clean_line(c)) for c in rec.cells]
        if not any(vals):
            continue
        raw_date = vals[index["date"]] if index["date"] < len(vals) else ""
        raw_kind = vals[index["kind"]] if index["kind"] < len(vals) else ""
        m = _CALENDAR_DATE.fullmatch(unicodedata.normalize("NFKC", raw_date))
        day = None
        if m:
            try:
                day = _dt.date(*map(int, m.groups()))
            except ValueError:
                pass
        if day is None:
            problems.append(f"{file}:{where(rec.line, names['date'])}: {names['date']}: {raw_date!r} is not a date "
                            "(YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)")
        kind = _KIND_LOOKUP.get(raw_kind.lower())
        if kind is None:
            problems.append(f"{file}:{where(rec.line, names['kind'])}: {names['kind']}: {raw_kind!r} must be holiday or workday "
                            f"({'/'.join(CALENDAR_KINDS['holiday'][1:])} or "
                            f"{'/'.join(CALENDAR_KINDS['workday'][1:])})")
        if day is not None and kind is not None:
            rows.append((day.isoformat(), kind))
    return rows, problems
