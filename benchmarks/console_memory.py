"""Benchmark: a console's memory over a day's keys (issue 16: flat memory).

    python benchmarks/console_memory.py [DB] [--user admin] [--moves 1000] [--pages 300] [--searches 50]

In a fresh process, the console (headless, 120x36, live refresh off) signs in on DB
(default /tmp/taian_bench_1m.db, benchmarks/gen_appeals.py --search) and shows its
inbox; its RSS (from /proc) after the first page is the baseline. Then, each awaited as
a user's key is (the page, or the detail, on screen before the next key):
  * --moves cursor moves (down, then up again; each loads the row's detail),
  * --pages page loads (PageDown, then PageUp again; turning at the end of a shorter list),
  * --searches searches of two-character words (土地, 环评, 能耗, ...: typed, Enter, the
    result painted, then cleared),
and the RSS after each block is printed as a ratio of the baseline (and of the RSS once the
console's start is done: its warm-up 2 s after sign-in imports the other screens' modules
and settles the heap, once). Target: within 1.15 of the baseline after all three. In the
same run, an empty Textual app's RSS is printed for scale.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "/tmp/taian_bench_1m.db"
DEFAULT_AT = "2026-11-27T09:00:00+08:00"

CHILD = r"""
import asyncio, json, os, sys
mode, db, user = sys.argv[1], sys.argv[2], sys.argv[3]
moves, pages, searches = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
sys.path.insert(0, sys.argv[7])
PAGE = os.sysconf("SC_PAGE_SIZE")
out = {}

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20

if mode == "empty":
    from textual.app import App
    from textual.widgets import Static

    class Empty(App):
        def compose(self):
            yield Static("hello")

    async def pilot_fn(pilot):
        await pilot.pause(0.5)
        out["rss"] = rss()
        pilot.app.exit()

    Empty().run(headless=True, size=(120, 36), auto_pilot=pilot_fn)
else:
    from taian_tui.console.app import TaianApp

    WORDS = ["土地", "环评", "能耗", "规划", "立项", "配套", "供电", "供水", "道路", "审批",
             "手续", "指标", "用地", "排污", "许可", "验收", "消防", "施工", "燃气", "融资"]

    async def idle(pilot):
        # the keys' reads and their messages have all landed
        for _ in range(3):
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    async def until_painted(pilot, screen, before):
        while not (screen.loaded_generation > before and screen.loaded_generation == screen.generation):
            await pilot.pause(0.002)

    async def pilot_fn(pilot):
        app = pilot.app
        while app.user is None:
            await pilot.pause(0.01)
        if app.current_mode != "inbox":
            app.action_goto("inbox")
        while not getattr(app.screen, "counted_generation", 0):
            await pilot.pause(0.01)
        screen = app.screen
        await idle(pilot)
        out["first_page"] = rss()
        # the console's own start ends 2 s after sign-in (the other screens' modules
        # imported, the heap settled: TaianApp._warm_up): once, not with use
        while not app._heap_settled:
            await pilot.pause(0.05)
        await idle(pilot)
        out["started"] = rss()
        screen.query_one("#table").focus()
        for i in range(moves):
            await pilot.press("down" if i < moves // 2 else "up")
            await idle(pilot)
        out["after_moves"] = rss()
        # down the list and back up, turning at its end (a liaison's list may be shorter
        # than half the loads) or its top
        down = True
        for i in range(pages):
            if down and not screen.has_next_page():
                down = False
            elif not down and screen.page == 0:
                down = True
            before = screen.generation
            await pilot.press("pagedown" if down else "pageup")
            await until_painted(pilot, screen, before)
            if i == pages // 2 - 1:
                down = False
        await idle(pilot)
        out["after_pages"] = rss()
        search = screen.query_one("#f-search")
        for i in range(searches):
            before = screen.generation
            search.focus()
            search.value = WORDS[i % len(WORDS)]
            await pilot.press("enter")
            await until_painted(pilot, screen, before)
            await idle(pilot)
            before = screen.generation
            search.value = ""
            await pilot.press("enter")
            await until_painted(pilot, screen, before)
        await idle(pilot)
        out["after_searches"] = rss()
        app.exit()

    TaianApp(db, username=user, poll=False).run(headless=True, size=(120, 36), auto_pilot=pilot_fn)

print("RESULT " + json.dumps(out))
"""


def run_child(mode: str, args) -> dict:
    env = dict(os.environ, TAIAN_NOW=os.environ.get("TAIAN_NOW", DEFAULT_AT))
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, args.db, args.user, str(args.moves),
                           str(args.pages), str(args.searches), str(ROOT)],
                          capture_output=True, text=True, env=env, timeout=3600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{mode}: no result\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", nargs="?", default=DEFAULT_DB)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--moves", type=int, default=1000)
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--searches", type=int, default=50)
    args = ap.parse_args()
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} is missing: python benchmarks/gen_appeals.py {args.db} --search")
    empty = run_child("empty", args)["rss"]
    res = run_child("inbox", args)
    base = res["first_page"]
    print(f"console memory: {args.db} as {args.user}, 120x36 headless")
    print(f"  empty Textual app (same run, for scale): {empty:6.1f} MB")
    print(f"  after the first inbox page (baseline):   {base:6.1f} MB")
    started = res["started"]
    print(f"  its start done (warm-up, settled heap):  {started:6.1f} MB = {started / base:.3f} x the baseline")
    for key, label in (("after_moves", f"after {args.moves} cursor moves"),
                       ("after_pages", f"and {args.pages} page loads"),
                       ("after_searches", f"and {args.searches} searches")):
        print(f"  {label:40s} {res[key]:6.1f} MB = {res[key] / base:.3f} x the baseline"
              f" ({res[key] / started:.3f} x the start done)")
    print(f"target: within 1.15 x the baseline after all three "
          f"({'met' if res['after_searches'] / base <= 1.15 else 'NOT met'})")


if __name__ == "__main__":
    main()
