"""Benchmark: a hundred consoles open on one server beside a writer, as real processes.

    python benchmarks/consoles.py [DB] [--consoles 100] [--seconds 120] [--baseline-seconds 120]

DB defaults to /tmp/taian_bench_1m.db (benchmarks/gen_appeals.py, 1,000,000 appeals). Each
console is a separate process running the console headless (120x36) with its live refresh
on, signed in as a user of the mix below; a writer process commits once a second what a
working day commits: a liaison accepts or answers an appeal of their unit (through the
domain's operations, audited like any action), at the server's clock.

Two phases, in the same run:
  1. baseline: one city-wide console (admin: its views concern every unit, the costliest
     kind) beside the writer for --baseline-seconds: its CPU (user + system, from /proc)
     per second of wall time, and its memory (RSS) at the start and the end;
  2. fleet: --consoles consoles (the mix: every liaison of the file's units in turn, and
     one console in eight city-wide: admin, the supervision office, the mayor, the
     discipline commission) beside the writer for --seconds: their total CPU in cores,
     against the baseline console's, and their memory growth.
Consoles start in batches and are measured only once all have painted their home screen.
Targets (issue 16): the fleet under one core in total; a console's RSS growth < 5 MB over
ten minutes beside the writer (run with --baseline-seconds 600).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "/tmp/taian_bench_1m.db"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

CONSOLE = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[3])
from taian_tui.console.app import TaianApp

app = TaianApp(sys.argv[1], username=sys.argv[2])

async def pilot_fn(pilot):
    # ready: signed in, home screen shown, and no worker busy twice 0.3 s apart
    quiet = 0
    while quiet < 2:
        await asyncio.sleep(0.3)
        busy = app.session is None or any(w.is_running and w.group != "data-version" for w in app.workers)
        quiet = 0 if busy else quiet + 1
    print("ready", flush=True)
    while True:
        await asyncio.sleep(3600)

app.run(headless=True, size=(120, 36), auto_pilot=pilot_fn)
"""

WRITER = r"""
import random, sys, time
sys.path.insert(0, sys.argv[2])
from taian_tui.store import Store
from taian_tui.domain import operations as wf

store = Store(sys.argv[1], migrate=False)
liaison = {}
for username, unit in store.conn.execute(
        "SELECT username, unit_code FROM users WHERE role = 'liaison' AND active = 1 ORDER BY username"):
    liaison.setdefault(unit, username)
rnd = random.Random(16)
ids = [r[0] for r in store.conn.execute(
    "SELECT id FROM appeals WHERE state IN ('assigned','accepted') AND unit_code IN (%s)"
    % ",".join("?" * len(liaison)), list(liaison))]
rnd.shuffle(ids)
print("writer ready", flush=True)
n, next_at = 0, time.monotonic()
for appeal_id in ids:
    ref, state, unit = store.conn.execute(
        "SELECT ref, state, unit_code FROM appeals WHERE id = ?", (appeal_id,)).fetchone()
    if state == "assigned":
        wf.accept_appeal(store, liaison[unit], ref)
    elif state == "accepted":
        wf.reply_appeal(store, liaison[unit], ref, "已办理，详见答复函。")
    else:
        continue
    n += 1
    next_at += 1.0
    time.sleep(max(0.0, next_at - time.monotonic()))
"""


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK      # utime + stime


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def start_consoles(db: str, users: list[str], batch: int) -> list[subprocess.Popen]:
    procs: list[subprocess.Popen] = []
    for i in range(0, len(users), batch):
        group = [subprocess.Popen([sys.executable, "-c", CONSOLE, db, user, str(ROOT)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  env={**os.environ, "TERM": "xterm-256color"})
                 for user in users[i:i + batch]]
        for p in group:
            if p.stdout.readline().strip() != "ready":
                raise SystemExit(f"a console did not start (exit {p.wait()})")
        procs += group
        print(f"  {len(procs)} consoles ready", flush=True)
    return procs


def measure(procs: list[subprocess.Popen], seconds: float) -> tuple[float, list[float], list[float]]:
    """(cores used in total, RSS at start per process, RSS at end per process)."""
    pids = [p.pid for p in procs]
    rss0 = [rss_mb(pid) for pid in pids]
    cpu0 = sum(cpu_seconds(pid) for pid in pids)
    t0 = time.monotonic()
    time.sleep(seconds)
    cpu1 = sum(cpu_seconds(pid) for pid in pids)
    wall = time.monotonic() - t0
    rss1 = [rss_mb(pid) for pid in pids]
    return (cpu1 - cpu0) / wall, rss0, rss1


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", nargs="?", default=DEFAULT_DB)
    ap.add_argument("--consoles", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--baseline-seconds", type=float, default=120)
    ap.add_argument("--batch", type=int, default=6)
    args = ap.parse_args()
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} is missing: python benchmarks/gen_appeals.py {args.db} --search")
    work = Path(tempfile.mkdtemp(prefix="taian-consoles-"))
    db = str(work / "consoles.db")
    print(f"copying {args.db} to {db} ...", flush=True)
    subprocess.run(["cp", args.db, db], check=True)
    import sqlite3
    conn = sqlite3.connect(db)
    liaisons = [r[0] for r in conn.execute(
        "SELECT username FROM users WHERE role = 'liaison' AND active = 1 ORDER BY username")]
    city = [r[0] for r in conn.execute(
        "SELECT username FROM users WHERE role IN ('admin', 'supervisor', 'leader', 'discipline') "
        "AND active = 1 ORDER BY role, username")]
    n_appeals = conn.execute("SELECT COUNT(*) FROM appeals").fetchone()[0]
    conn.close()
    users = [city[(i // 8) % len(city)] if i % 8 == 7 else liaisons[(i - i // 8) % len(liaisons)]
             for i in range(args.consoles)]
    random.Random(16).shuffle(users)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, db, str(ROOT)], stdout=subprocess.PIPE,
                              text=True)
    assert writer.stdout.readline().strip() == "writer ready"
    procs: list[subprocess.Popen] = []
    try:
        print(f"{n_appeals:,} appeals; a writer commits an appeal action once a second", flush=True)
        print("phase 1: one city-wide console (admin) beside the writer", flush=True)
        base = start_consoles(db, ["admin"], 1)
        procs += base
        base_cores, b0, b1 = measure(base, args.baseline_seconds)
        stop(base)
        procs.clear()
        print(f"phase 2: {args.consoles} consoles ({sum(u in city for u in users)} city-wide, "
              f"{sum(u in liaisons for u in users)} liaisons) beside the writer", flush=True)
        procs += start_consoles(db, users, args.batch)
        fleet_cores, r0, r1 = measure(procs, args.seconds)
    finally:
        stop(procs)
        writer.terminate()
        writer.wait()
    growth = [b - a for a, b in zip(r0, r1)]
    print()
    print(f"one console (admin), {args.baseline_seconds:.0f} s: {base_cores * 100:.2f} % of a core; "
          f"RSS {b0[0]:.1f} -> {b1[0]:.1f} MB ({b1[0] - b0[0]:+.1f} MB; target < 5 MB over 10 min)")
    print(f"{args.consoles} consoles, {args.seconds:.0f} s: {fleet_cores:.3f} cores in total "
          f"(target < 1.0) = {fleet_cores / base_cores if base_cores else float('inf'):.1f} x one "
          f"city-wide console; {fleet_cores / args.consoles * 100:.2f} % of a core per console")
    print(f"fleet RSS per console: median {statistics.median(r1):.1f} MB, max {max(r1):.1f} MB; "
          f"growth over the window: median {statistics.median(growth):+.1f} MB, max {max(growth):+.1f} MB")
    print(f"implied sizing: {1 / (fleet_cores / args.consoles):.0f} consoles per core of live refresh; "
          f"{1024 / statistics.median(r1):.0f} consoles per GB")
    subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
