"""Full-text search over appeals that finds two-character Chinese words.

SQLite 3.40's FTS5 trigram tokenizer cannot match fewer than three characters, and
two-character words (土地, 环评, 能耗) are the commonest searches. So the index holds
Chinese text as overlapping *bigrams* (``土地证`` -> ``土地 地证``) in a plain unicode61
FTS5 table: a two-character query is one token, a longer one a phrase of consecutive
bigrams, a single character a prefix query. Latin words and numbers are kept whole.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Iterable

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[0-9A-Za-z]+")

#: The word that marks an appeal's state in the index: a private-use character per state,
#: which the index's tokenizer keeps as a word of its own and which neither an appeal's text
#: (``grams``) nor a search (``match_expression``) can ever produce. A search among some
#: states (the inbox's 待办) is then narrowed inside the index, and a city-wide one counted
#: there: on a million appeals, counting the 68,390 of 228,209 appeals matching 环评 that are
#: in the admin's 待办 takes about 15 ms instead of 136. ``index_appeal`` writes the word; a
#: trigger (schema 0016) changes it with the appeal's state. Stored in every index row:
#: never renumber.
STATE_WORDS = {"submitted": "\ue001", "assigned": "\ue002", "accepted": "\ue003", "answered": "\ue004",
               "disputed": "\ue005", "returned": "\ue006", "closed": "\ue007"}


def grams(text: str) -> str:
    """The indexed form of ``text``."""
    out: list[str] = []
    for run in _RUN.findall(text or ""):
        if re.match(rf"[{_CJK}]", run):
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            out.append(run.lower())
    return " ".join(out)


_REF = re.compile(r"\s*(?:([A-Za-z])\s*-?\s*)?(\d{4})\s*-\s*(\d{1,6})\s*")
_NUMBER = re.compile(r"\s*(\d{1,6})\s*")


def ref_candidates(query: str, year: int) -> tuple[list[str], bool]:
    """The appeal refs a search may mean, and whether it is nothing but a ref: ``A-2026-1875``
    (any case, spaces around the dashes; the letter may be left out: ``2026-1875``) is that
    ref alone; a bare number ``1875`` is
    ``A-YYYY-1875`` of the last seven years and the next (besides the words it matches)."""
    m = _REF.fullmatch(query or "")
    if m:
        return [f"{(m.group(1) or 'A').upper()}-{m.group(2)}-{int(m.group(3)):04d}"], True
    m = _NUMBER.fullmatch(query or "")
    if m:
        return [f"A-{y}-{int(m.group(1)):04d}" for y in range(year - 7, year + 2)], False
    return [], False


_PROJECT_REF = re.compile(r"\s*[Pp]\s*-?\s*(\d{1,6})\s*")


def project_ref(query: str | None) -> str | None:
    """The project ref a search names (``P-0190``, ``p-190``, ``P0190``), or ``None``."""
    m = _PROJECT_REF.fullmatch(query or "")
    return f"P-{int(m.group(1)):04d}" if m else None


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression: every word of ``query`` must occur (AND)."""
    parts: list[str] = []
    for run in _RUN.findall(query or ""):
        if re.match(rf"[{_CJK}]", run):
            if len(run) == 1:
                parts.append(f'"{run}" *')
            else:
                parts.append('"' + " ".join(run[i:i + 2] for i in range(len(run) - 1)) + '"')
        else:
            parts.append(f'"{run.lower()}" *')
    return " AND ".join(parts) if parts else None


def indexed(title: str, body: str, enterprise_name: str, state: str) -> str:
    """What the index holds for an appeal: the grams of its title, body and enterprise, and
    the word of its state (``STATE_WORDS``)."""
    text = grams(f"{title}\n{body}\n{enterprise_name}")
    return f"{text} {STATE_WORDS[state]}"


def in_states(expression: str, states: Iterable[str]) -> str:
    """``expression`` (``match_expression``) restricted to appeals in one of ``states``."""
    words = " OR ".join(f'"{STATE_WORDS[s]}"' for s in states)
    return f"{expression} AND ({words})"


def index_appeal(conn: sqlite3.Connection, appeal_id: int, title: str, body: str,
                 enterprise_name: str, state: str) -> None:
    conn.execute("DELETE FROM appeal_search WHERE rowid = ?", (appeal_id,))
    conn.execute("INSERT INTO appeal_search(rowid, grams) VALUES (?, ?)",
                 (appeal_id, indexed(title, body, enterprise_name, state)))


def reindex_enterprise(conn: sqlite3.Connection, uscc: str) -> int:
    """After an enterprise's name changes, re-index its appeals. Returns how many."""
    rows = conn.execute(
        "SELECT a.id, a.title, a.body, e.name, a.state FROM appeals a JOIN enterprises e "
        "ON e.uscc = a.enterprise_uscc WHERE a.enterprise_uscc = ?", (uscc,)).fetchall()
    for r in rows:
        index_appeal(conn, r[0], r[1], r[2], r[3], r[4])
    return len(rows)
