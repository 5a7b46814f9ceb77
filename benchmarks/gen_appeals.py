"""Build a large appeals database for the benchmarks (escalation sweep, console).

    python benchmarks/gen_appeals.py OUT.db [--appeals 1000000] [--at ISO] [--search]

As of ``--at``: about 70% of the appeals are closed (answered on time), 10% open and not
yet due, and 20% open and past a card threshold that no sweep has applied yet (about 8%
due today -> blue, 8% past the deadline -> blue+yellow, 4% past the supervision order's
due time as well -> blue+yellow+red). The file is a normal console database (schema by
the store's migrations, real calendar), so `taian escalate` and `taian tui` run on it.
Deterministic for a given seed. ``--search`` also fills the bigram search index (slower).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from taian_tui.domain import search, timeutil# noqa: E402
from taian_tui.store import Store  # noqa: E402

CATEGORIES = ["approval", "planning", "land", "energy", "environment", "infrastructure", "other"]
WORDS = ["土地", "环评", "能耗", "规划", "立项", "配套", "供电", "供水", "道路", "审批", "手续", "指标",
         "用地", "排污", "许可", "验收", "消防", "施工", "燃气", "融资"]
DEFAULT_AT = "2026-11-27T07:00:00+08:00"


def _uscc(i: int) -> str:
    return f"91370900MA{i:07d}X"[:18]


def build(path: str, appeals: int = 1_000_000, at: str = DEFAULT_AT, seed: int = 7,
          with_search: bool = False, quiet: bool = False) -> dict:
    rnd = random.Random(seed)
    started = time.perf_counter()
    Path(path).unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    store = Store(path)
    c = store.conn
    now = timeutil.iso(at)
    with open(ROOT / "taian_tui" / "demo" / "data" / "units.csv", encoding="utf-8") as fh:
        units = list(csv.DictReader(fh))
    handling = [u for u in units if u["kind"] in ("county", "zone", "department")]
    counties = [u["name"] for u in units if u["kind"] in ("county", "zone")]
    with store.transaction():
        c.executemany("INSERT INTO units(code, name, kind, head_name, head_mobile) VALUES (?, ?, ?, ?, ?)",
                      [(u["code"], u["name"], u["kind"], u["head_name"], u["head_mobile"]) for u in units])
        users = [("admin", "管理员", "admin", "fgw", "13800000000", "city"),
                 ("ducha1", "督查一", "supervisor", "dcs", "13800000001", "city"),
                 ("jiwei1", "纪委一", "discipline", "jwjw", "13800000002", "city"),
                 ("shizhang", "市长", "leader", None, "13800000003", "city")]
        for k, u in enumerate(handling):
            for j in (1, 2) if k % 3 == 0 else (1,):
                users.append((f"{u['code']}{j}", f"联络员{u['code']}{j}", "liaison", u["code"],
                              f"139{k:04d}{j:04d}", "city"))
        c.executemany("INSERT INTO users(username, name, role, unit_code, mobile, scope) VALUES (?, ?, ?, ?, ?, ?)",
                      users)
        ents = [(_uscc(i), f"泰安{rnd.choice(WORDS)}{i}科技有限公司", rnd.choice(counties), now, now)
                for i in range(5000)]
        c.executemany("INSERT INTO enterprises(uscc, name, county, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                      ents)
        store.audit("system:bench", "bench.generate", "database", path, None, {"appeals": appeals}, at=now)
    cal = store.calendar()
    today = timeutil.local_date(now)

    def back(days: int) -> dt.date:
        """The day whose Day-5 deadline lands ``days`` working days before today."""
        d = today
        n = 0
        while n < days:
            d -= dt.timedelta(days=1)
            if cal.is_workday(d):
                n += 1
        return d

    # arrival days by situation, as working-day offsets before today
    arrival_for = {}

    def arrival(offset_wd: int) -> dt.date:
        if offset_wd not in arrival_for:
            arrival_for[offset_wd] = back(offset_wd)
        return arrival_for[offset_wd]

    deadline_cache: dict[dt.date, tuple[str, str, int]] = {}

    def clock(day: dt.date) -> tuple[str, str, int]:
        if day not in deadline_cache:
            d = cal.deadline(timeutil.start_of_day(day))
            deadline_cache[day] = (d.blue_at, d.deadline, int(d.estimated))
        return deadline_cache[day]

    rows = []
    fts = []
    batch = 50_000
    n_ent = len(ents)
    ucodes = [u["code"] for u in handling]
    counts = {"closed": 0, "open_not_due": 0, "blue": 0, "yellow": 0, "red": 0}

    def flush() -> None:
        with store.transaction():
            c.executemany(
                "INSERT INTO appeals(id, ref, enterprise_uscc, category, county, title, body, state, unit_code, "
                "submitted_at, arrived_at, blue_at, deadline, deadline_estimated, accepted_at, answered_at, reply, "
                "closed_at, rating) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if fts:
                c.executemany("INSERT INTO appeal_search(rowid, grams) VALUES (?, ?)", fts)
        rows.clear()
        fts.clear()

    for i in range(1, appeals + 1):
        r = rnd.random()
        if r < 0.70:
            kind, off = "closed", rnd.randint(6, 400)
        elif r < 0.80:
            kind, off = "open_not_due", rnd.randint(0, 4)
        elif r < 0.88:
            kind, off = "blue", 5          # Day 5 is today
        elif r < 0.96:
            kind, off = "yellow", rnd.randint(6, 10)    # deadline passed, order not yet due
        else:
            kind, off = "red", rnd.randint(12, 40)      # order's due time passed too
        counts[kind] += 1
        day = arrival(off)
        blue_at, deadline, est = clock(day)
        arrived = timeutil.iso(f"{day.isoformat()}T{rnd.randint(8, 17):02d}:{rnd.randint(0, 59):02d}:00+08:00")
        title = f"关于{rnd.choice(WORDS)}{rnd.choice(WORDS)}问题的诉求{i}"
        body = f"项目{rnd.choice(WORDS)}遇到{rnd.choice(WORDS)}困难，请协调解决。"
        ent = ents[rnd.randrange(n_ent)]
        if kind == "closed":
            answered = timeutil.iso(f"{day.isoformat()}T18:00:00+08:00")
            rows.append((i, f"B-{i:07d}", ent[0], rnd.choice(CATEGORIES), ent[2], title, body, "closed",
                         rnd.choice(ucodes), arrived, arrived, blue_at, deadline, est, arrived, answered,
                         "已办理", answered, "满意"))
        else:
            state = "accepted" if rnd.random() < 0.6 else "assigned"
            rows.append((i, f"B-{i:07d}", ent[0], rnd.choice(CATEGORIES), ent[2], title, body, state,
                         rnd.choice(ucodes), arrived, arrived, blue_at, deadline, est,
                         arrived if state == "accepted" else None, None, "", None, None))
        if with_search:
            fts.append((i, search.indexed(title, body, ent[1], rows[-1][7])))
        if len(rows) >= batch:
            flush()
            if not quiet:
                print(f"  {i:,} appeals", file=sys.stderr, flush=True)
    if rows:
        flush()
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.execute("ANALYZE")
    store.close()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--appeals", type=int, default=1_000_000)
    ap.add_argument("--at", default=DEFAULT_AT)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--search", action="store_true")
    args = ap.parse_args()
    print(build(args.out, args.appeals, args.at, args.seed, args.search))


if __name__ == "__main__":
    main()
