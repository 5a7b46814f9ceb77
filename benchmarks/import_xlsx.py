"""Benchmark of Excel workbooks both ways: `taian import enterprises` of a .xlsx registry
against the same rows as CSV, and `taian export appeals` to .xlsx in constant memory.

    .venv/bin/python benchmarks/import_xlsx.py [--rows 100000] [--repeat 3]
                                               [--appeals 100000] [--small 1000] [--keep]

1. *Import.* Generates a registry CSV of ``--rows`` rows (``import_enterprises.generate``:
   Chinese names and addresses, ~1% bad credit codes) and writes the same rows to a .xlsx
   the way offices send it: a merged title row above the header, mobile numbers as numbers
   (the rest as text, in a shared-string table as Excel saves it). Times, each in its own child process, ``--repeat`` times
   alternately, the best run of each: ``registry.import_enterprises`` (the code behind the
   command, as it runs here: two processes on two CPUs) of the CSV file and of the
   workbook into a fresh database with the 58 units; checks that both report the same
   counts and prints the ratio workbook / CSV (target: at most 3.0) and each one's peak RSS.
2. *Export.* Builds appeal databases of ``--small`` and ``--appeals`` appeals
   (``gen_appeals.build``) and runs ``taian export appeals -o FILE.xlsx`` on each in a
   child process (``cli.main``, the command line's entry point), best of ``--repeat``: time
   (the command, without the interpreter's start), peak RSS, and the ratio of the peaks
   (constant memory: the target is under 1.5).

Peak RSS is each child's own high-water mark (``VmHWM``): ``ru_maxrss`` of a child also
counts the pages of the parent it was forked from, which here has just built 100,000
appeals.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from import_enterprises import child_import, fresh_copy, generate, make_units_db  # noqa: E402

TITLE = "泰安市重点企业名录（2026年）"


def to_workbook(csv_path: Path, xlsx_path: Path) -> int:
    """The CSV's rows as a workbook, saved as Excel saves one (texts in a shared-string
    table): a merged title row, then the header and the rows; a mobile number (11 digits, no
    leading zero) as a number, everything else as text."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(xlsx_path))
    ws = book.add_worksheet("企业名录")
    n = 0
    with open(csv_path, encoding="utf-8", newline="") as fh:
        for r, row in enumerate(csv.reader(fh), start=1):
            if r == 1:
                ws.merge_range(0, 0, 0, len(row) - 1, TITLE)
            for c, value in enumerate(row):
                if c == 6 and len(value) == 11 and value.isdigit() and value[0] != "0":
                    ws.write_number(r, c, int(value))
                else:
                    ws.write_string(r, c, value)
            n = r
    book.close()
    return n - 1


# -- children ----------------------------------------------------------------------------------------
def counts(summary: str) -> str:
    """What an import's summary says of the rows (without the file's name)."""
    return summary.split(":", 1)[1]


def run_child(mode: str, path: Path, db_path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path), str(db_path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_import(tmp: Path, units_db: Path, files: dict[str, Path], repeat: int) -> dict[str, dict]:
    best: dict[str, dict] = {}
    for _ in range(repeat):
        for mode, path in files.items():
            db = tmp / f"{mode}.db"
            fresh_copy(units_db, db)
            r = run_child(mode, path, db)
            if mode not in best or r["seconds"] < best[mode]["seconds"]:
                best[mode] = r
    return best


def peak_rss_mb() -> float:
    """This process's own peak RSS (``VmHWM``: the high-water mark of its memory since it was
    exec'ed; ``ru_maxrss`` would also count the pages of the parent it was forked from)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_export(db: str, out: str) -> dict:
    """``taian export appeals --db DB -o OUT``: the command line's own ``main``."""
    import contextlib
    import io

    import cli

    sys.argv = ["taian", "export", "appeals", "--db", db, "-o", out]
    said = io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(said):
        try:
            cli.main()
        except SystemExit as exc:
            if exc.code:
                raise
    return {"seconds": time.perf_counter() - t, "summary": said.getvalue().strip()}


def run_export(db: Path, out: Path, at: str) -> tuple[float, float]:
    """``taian export appeals`` in a child process: (seconds, peak RSS in MB)."""
    out.unlink(missing_ok=True)
    env = dict(os.environ, TAIAN_NOW=at, TAIAN_USER="")
    proc = subprocess.run([sys.executable, __file__, "--child", "export", str(db), str(out)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"export failed: {proc.stderr}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"    {r['summary']}")
    return r["seconds"], r["maxrss_mb"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--appeals", type=int, default=100_000, help="0 to skip the export")
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--child", nargs=3, metavar=("MODE", "FILE", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, path, db_path = args.child
        # the import as the command runs it: its check pass in two processes on two CPUs
        result = child_export(path, db_path) if mode == "export" else child_import(path, db_path, 2)
        result["maxrss_mb"] = peak_rss_mb()
        result["maxrss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps(result, ensure_ascii=False))
        return

    tmp = Path(tempfile.mkdtemp(prefix="taian-bench-xlsx-"))
    try:
        from taian_tui.dataio.registry import _can_fork, _cpus

        print(f"machine: {_cpus()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
        units_db = tmp / "units.db"
        make_units_db(units_db)
        csv_path, xlsx_path = tmp / f"registry_{args.rows}.csv", tmp / f"registry_{args.rows}.xlsx"
        t = time.perf_counter()
        generate(csv_path, args.rows)
        to_workbook(csv_path, xlsx_path)
        print(f"generated {args.rows:,} rows: CSV {csv_path.stat().st_size / 1e6:.1f} MB, workbook "
              f"{xlsx_path.stat().st_size / 1e6:.1f} MB (title row, mobiles as numbers) in "
              f"{time.perf_counter() - t:.1f} s under {tmp}")
        best = measure_import(tmp, units_db, {"csv": csv_path, "xlsx": xlsx_path}, args.repeat)
        c, x = best["csv"], best["xlsx"]
        if counts(c["summary"]) != counts(x["summary"]):
            raise SystemExit(f"the two imports differ: CSV {c['summary']} / workbook {x['summary']}")
        procs = "2 processes" if _can_fork() else "1 process"
        print(f"import, {args.rows:,} rows, best of {args.repeat} (check pass in {procs}, as the command runs here):")
        print(f"  CSV       {c['seconds']:.2f} s, peak RSS {c['maxrss_mb']:.1f} MB "
              f"(+ {c['maxrss_children_mb']:.1f} MB in the second process)")
        print(f"  workbook  {x['seconds']:.2f} s, peak RSS {x['maxrss_mb']:.1f} MB "
              f"(+ {x['maxrss_children_mb']:.1f} MB in the second process)")
        print(f"  ratio workbook / CSV: {x['seconds'] / c['seconds']:.2f} (target <= 3.0)")
        print(f"  {x['summary']}")

        if args.appeals:
            from gen_appeals import DEFAULT_AT, build

            results = {}
            for n in (args.small, args.appeals):
                db = tmp / f"appeals_{n}.db"
                t = time.perf_counter()
                build(str(db), n, quiet=True)
                print(f"built {n:,} appeals in {time.perf_counter() - t:.1f} s")
                runs = [run_export(db, tmp / f"appeals_{n}.xlsx", DEFAULT_AT) for _ in range(args.repeat)]
                results[n] = (min(s for s, _ in runs), min(m for _, m in runs))
                size = (tmp / f"appeals_{n}.xlsx").stat().st_size / 1e6
                print(f"  export {n:,} appeals to .xlsx ({size:.1f} MB): {results[n][0]:.2f} s (best of "
                      f"{args.repeat}), peak RSS {results[n][1]:.1f} MB")
            small, big = results[args.small], results[args.appeals]
            print(f"  peak RSS {args.appeals:,} / {args.small:,} appeals: {big[1] / small[1]:.2f} x "
                  "(constant memory: target < 1.5)")
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
