"""``taian calendar import``: a year's holidays and make-up workdays from the file the State
Council's notice is typed into, read like the other imports.
"""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path


from taian_tui.domain.text import clean_line
from taian_tui.dataio.workbook import EXCEL_EPOCH, SERIAL_YEARS, serial_date, whole_number
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


def _calendar_day(text: str) -> tuple["_dt.date | None", str]:
    """(the day, "") of a date cell, or (None, why not). A date as written (2027-01-01,
    2027/1/1, 2027.1.1, 2027年1月1日), or a whole number: Excel's serial number of a day (a
    date cell that lost its date format, "General": 46388 is 2027-01-01), within the years
    of ``workbook.SERIAL_YEARS``."""
    import datetime as _dt

    m = _CALENDAR_DATE.fullmatch(text)
    if m:
        try:
            return _dt.date(*map(int, m.groups())), ""
        except ValueError:
            pass
    n = whole_number(text)
    if n is not None:
        day = serial_date(n)
        if day is not None:
            return day, ""
        first, last = SERIAL_YEARS
        return None, (f"is a number, not a day of {first}-{last} as Excel numbers days (a date written as a "
                      f"number: {(_dt.date(2027, 1, 1) - EXCEL_EPOCH).days} is 2027-01-01)")
    return None, "is not a date (YYYY-MM-DD, YYYY/M/D, YYYY年M月D日 or an Excel date)"


def read_calendar(path: str | os.PathLike, encoding: str = "auto",
                  sheet: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """The (ISO date, holiday|workday) rows of a calendar file and the problems found, one
    ``file:line: column: reason`` each (a workbook's: ``file:日历!A3: column: reason``).
    A day given twice the same way is one row; given as both kinds, a problem naming both
    lines.
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
    header, header_line, index, names, _ = find_header(header_rows(recs, file), CALENDAR_COLUMNS,
                                                       CALENDAR_ALIASES, file)
    locate = locator(source, header)

    def where(line: int, column: str = "") -> str:
        return locate(line, column) if locate else str(line)

    rows: list[tuple[str, str]] = []
    problems: list[str] = []
    noun = getattr(source, "row_word", "line")
    seen: dict[str, tuple[int, str, str]] = {}      # day -> (line, kind, the kind as written)
    for rec in recs:
        if rec.error:
            problems.append(f"{file}:{where(rec.line)}: {rec.error}")
            continue
        vals = [unneutralise(clean_line(c)) for c in rec.cells]
        if not any(vals):
            continue
        raw_date = vals[index["date"]] if index["date"] < len(vals) else ""
        raw_kind = vals[index["kind"]] if index["kind"] < len(vals) else ""
        day, why = _calendar_day(unicodedata.normalize("NFKC", raw_date).strip())
        if day is None:
            problems.append(f"{file}:{where(rec.line, names['date'])}: {names['date']}: {raw_date!r} {why}")
        kind = _KIND_LOOKUP.get(raw_kind.lower())
        if kind is None:
            problems.append(f"{file}:{where(rec.line, names['kind'])}: {names['kind']}: {raw_kind!r} must be holiday or workday "
                            f"({'/'.join(CALENDAR_KINDS['holiday'][1:])} or "
                            f"{'/'.join(CALENDAR_KINDS['workday'][1:])})")
        if day is not None and kind is not None:
            iso = day.isoformat()
            first = seen.get(iso)
            if first is None:
                seen[iso] = (rec.line, kind, raw_kind)
                rows.append((iso, kind))
            elif first[1] != kind:
                problems.append(f"{file}:{where(rec.line, names['kind'])}: {names['kind']}: {raw_kind!r} on {iso}, "
                                f"but {noun} {first[0]} gives {iso} as {first[2]!r}: a day is either a "
                                "holiday or a workday (conflicting rows)")
            # the same day the same way again: counted once
    if not rows and not problems:
        raise ImportFileError(f"{file}:{where(header_line)}: no rows under the header ({names['date']}, "
                              f"{names['kind']}): no days to import; nothing imported")
    return rows, problems
