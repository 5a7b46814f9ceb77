"""Benchmark: `taian escalate` on 1,000,000 appeals against a bare SQL UPDATE.

    python benchmarks/escalate.py [--appeals 1000000] [--keep DIR]

Builds (or reuses, in DIR) a database of N appeals, about 20% past a card threshold
(benchmarks/gen_appeals.py), copies it, and in the same run times
  * the sweep as the README's crontab runs it: the installed `taian` script,
    `TAIAN_DB=COPY taian escalate --json >> escalate.log 2>&1` (plus `--at AT`, the
    generated data's morning: a time in the past, the same code path as now), which writes
    every raised appeal to the log (cards, card history, supervision orders, SMS outbox,
    audit row, all in one transaction; then the list, streamed);
  * the same sweep in plain text (`taian escalate`, counts only), and
  * the baseline: a subprocess running one bare `UPDATE appeals SET card = ...` that sets
    the same final cards on another copy (its order due times computed the same way),
checks that the files end with identical cards and that the log holds one line per raised
appeal, and prints the time ratios and each sweep's peak memory (max RSS of the child).
Targets: ratio <= 1.5, peak < 200 MB (the cron form on a 1M catch-up included).
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
# the installed entry point, as cron calls it (the source tree's cli.py when not installed)
_SCRIPT = Path(sys.executable).with_name("taian")
TAIAN = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, str(ROOT / "cli.py")]

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


def run_timed(cmd: list[str], log: Path, env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS in MB of the child, its output appended to ``log`` (as
    cron's ``>> log 2>&1``: a pipe read only after the child ended could fill and stall it)."""
    started = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{cmd[:3]} failed ({code}): see {log}")
    return elapsed, usage.ru_maxrss / 1024


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
    times: dict[str, list[float]] = {"cron": [], "plain": [], "baseline": []}
    peaks: dict[str, list[float]] = {"cron": [], "plain": []}
    logs = {name: work / f"{name}.log" for name in times}
    for log in logs.values():
        log.unlink(missing_ok=True)
    names = list(times)
    for i in range(args.repeat):
        dbs = {name: work / f"{name}.db" for name in names}
        for p in dbs.values():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{p}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(source, p)
        # rotate the order so that none always runs on a warmer cache
        for name in names[i % 3:] + names[:i % 3]:
            path = dbs[name]
            if name == "cron":
                t, peak = run_timed([*TAIAN, "escalate", "--json", "--at", AT], logs[name],
                                    env={"TAIAN_DB": str(path)})
            elif name == "plain":
                t, peak = run_timed([*TAIAN, "escalate", "--db", str(path), "--at", AT], logs[name])
            else:
                t, peak = run_timed([sys.executable, "-c", BASELINE, str(path), AT, str(ROOT)], logs[name])
            times[name].append(t)
            if name in peaks:
                peaks[name].append(peak)
        prints = {name: fingerprint(str(p)) for name, p in dbs.items()}
        if len(set(prints.values())) != 1:
            raise SystemExit(f"cards differ: {prints}")
    cards = dict(fingerprint(str(work / "cron.db"))[0])
    with open(logs["cron"], "rb") as f:
        lines = sum(1 for line in f if line.startswith(b'    {"ref"'))
    raised = lines // args.repeat
    plain = logs["plain"].read_text().splitlines()
    best = {name: min(ts) for name, ts in times.items()}
    print(plain[-1] if plain else "")
    print(f"appeals: {args.appeals:,}; cards: {cards}; the cron log lists {raised:,} raised "
          f"appeals a run (one a line)")
    for name, label in (("cron", "taian escalate --json >> log (the crontab's form)"),
                        ("plain", "taian escalate (plain text)"), ("baseline", "bare UPDATE (baseline)")):
        print(f"{label}: {best[name]:.2f} s   runs: {', '.join(f'{t:.2f}' for t in times[name])}")
    for name in ("cron", "plain"):
        print(f"ratio {name}/baseline: {best[name] / best['baseline']:.2f}  (target <= 1.5)")
    for name in ("cron", "plain"):
        print(f"{name} peak memory (max RSS): {max(peaks[name]):.0f} MB  (target < 200 MB)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
