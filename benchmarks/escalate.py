"""Benchmark: `taian escalate` on 1,000,000 appeals against a bare SQL UPDATE.

    python benchmarks/escalate.py [--appeals 1000000] [--keep DIR]

Builds (or reuses, in DIR) a database of N appeals, about 20% past a card threshold
(benchmarks/gen_appeals.py), copies it twice, and in the same run times
  * the sweep: `taian escalate --db COPY1 --at AT` as a subprocess (cards, card history,
    supervision orders, SMS outbox, audit row, all in one transaction), and
  * the baseline: a subprocess running one bare `UPDATE appeals SET card = ...` that sets
    the same final cards on COPY2 (its order due times computed the same way),
checks that both files end with identical cards, and prints the time ratio and the
sweep's peak memory (max RSS of the child). Target: ratio <= 1.5, peak < 200 MB.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import gen_appeals  # noqa: E402

AT = gen_appeals.DEFAULT_AT
TAIAN = [sys.executable, str(ROOT / "cli.py")]

BASELINE = r"""
import sqlite3, sys
sys.path.insert(0, sys.argv[3])
from taian_tui.store import Store
path, at = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL"); conn.execute("PRAGMA synchronous=NORMAL")
# the red cut needs each deadline's order due time (5 working days later): same calendar
store = Store(path, migrate=False)
cal = store.calendar()
dues = [(d, cal.supervision_due(d)[0]) for (d,) in conn.execute(
    "SELECT DISTINCT deadline FROM appeals WHERE state IN ('assigned','accepted') AND blue_at <= ?", (at,))]
conn.execute("BEGIN IMMEDIATE")
conn.execute("CREATE TEMP TABLE due(deadline TEXT PRIMARY KEY, due_at TEXT)")
conn.executemany("INSERT INTO due VALUES (?, ?)", dues)
conn.execute("UPDATE appeals SET card = CASE "
             "WHEN (SELECT due_at FROM due WHERE due.deadline = appeals.deadline) < :at THEN 'red' "
             "WHEN deadline < :at THEN 'yellow' ELSE 'blue' END "
             "WHERE state IN ('assigned','accepted') AND blue_at <= :at AND card = ''", {"at": at})
conn.execute("COMMIT")
"""


def run_timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB of the child, stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    out = proc.stdout.read()
    err = proc.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{cmd[:3]} failed ({code}): {err.strip()}")
    return elapsed, usage.ru_maxrss / 1024, out


def fingerprint(path: str) -> tuple:
    import sqlite3
    c = sqlite3.connect(path)
    by_card = tuple(c.execute("SELECT card, COUNT(*) FROM appeals GROUP BY card ORDER BY card").fetchall())
    weighted = c.execute("SELECT SUM(id * CASE card WHEN 'blue' THEN 1 WHEN 'yellow' THEN 2 "
                         "WHEN 'red' THEN 3 ELSE 0 END) FROM appeals").fetchone()[0]
    c.close()
    return by_card, weighted


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--appeals", type=int, default=1_000_000)
    ap.add_argument("--keep", help="directory to keep (and reuse) the generated database in")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each, best taken")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="taian-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"appeals-{args.appeals}.db"
    if not source.exists():
        print(f"generating {args.appeals:,} appeals in {source} ...", flush=True)
        print("  ", gen_appeals.build(str(source), args.appeals, AT, quiet=True), flush=True)
    sweep_times, base_times, peaks = [], [], []
    result = ""
    for i in range(args.repeat):
        a, b = work / "sweep.db", work / "baseline.db"
        for p in (a, b):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{p}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(source, p)
        # alternate the order so that neither always runs on a warmer cache
        order = [("sweep", a), ("baseline", b)] if i % 2 == 0 else [("baseline", b), ("sweep", a)]
        for name, path in order:
            if name == "sweep":
                t, peak, result = run_timed([*TAIAN, "escalate", "--db", str(path), "--at", AT])
                sweep_times.append(t)
                peaks.append(peak)
            else:
                t, _, _ = run_timed([sys.executable, "-c", BASELINE, str(path), AT, str(ROOT)])
                base_times.append(t)
        fa, fb = fingerprint(str(a)), fingerprint(str(b))
        if fa != fb:
            raise SystemExit(f"cards differ: sweep {fa} baseline {fb}")
    sweep, base = min(sweep_times), min(base_times)
    print(result.strip())
    print(f"appeals: {args.appeals:,}; cards: {dict(fingerprint(str(work / 'sweep.db'))[0])}")
    print(f"sweep (taian escalate): {sweep:.2f} s   runs: {', '.join(f'{t:.2f}' for t in sweep_times)}")
    print(f"baseline (bare UPDATE): {base:.2f} s   runs: {', '.join(f'{t:.2f}' for t in base_times)}")
    print(f"ratio sweep/baseline: {sweep / base:.2f}  (target <= 1.5)")
    print(f"sweep peak memory (max RSS): {max(peaks):.0f} MB  (target < 200 MB)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
