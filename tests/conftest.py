"""Shared fixtures: a small city in a fresh store.

The city (built once per session into a template file, then copied for each test so
that every test gets its own fresh file at ``tmp_path/"t.db"``):

* all units of ``taian_tui/demo/data/units.csv``, loaded with ``workflow.add_unit`` as ``system:import``;
* users (``workflow.upsert_user``): admin ``admin``; liaisons ``zrzy1`` (zrzy), ``sthj1``
  (sthj), ``daiyue1`` (daiyue); leaders ``shizhang`` (city) and ``daiyue-lead`` (unit
  daiyue, scope unit); supervisor ``ducha1`` (dcs); discipline ``jiwei1`` (jwjw); editor
  ``bianji`` (fgw); every one with a mobile number;
* routing rules land/岱岳区 -> zrzy, environment/岱岳区 -> sthj, other/岱岳区 -> daiyue
  (nothing for, e.g., energy/泰山区: such an appeal waits in the dispatch queue);
* one enterprise (``USCC``), inserted with SQL, and one project ``P-0001`` (岱岳区).

The demo city (``taian demo --no-tui --today DEMO_TODAY``, run in-process) is built once
for the whole run (one build shared by the parallel workers, under a file lock) and copied
for each module that uses it (``demo_db``); ``demo_build`` is that command's exit code and
output, for the test of the command itself.

Speed: after collection the objects alive so far (the modules, textual's and the CSS
parser's tables) are frozen out of the cyclic garbage collector, so that its full passes
do not walk them again and again (``pytest_collection_finish``).

Helpers are fixtures (``submit``, ``make_appeal``, ``dump``, ``unchanged``, ``city``,
``run_cli``, ``taian_process``) so that test modules never import this file or each other.
An ``async def`` test runs in its own event loop (no async plugin is needed).
"""
from __future__ import annotations

import asyncio
import contextlib
import csv
import fcntl
import gc
import hashlib
import inspect
import io
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from stdnum.cn import uscc as _uscc

from taian_tui.domain import operations as wf
from taian_tui.store import Store

ROOT = Path(__file__).resolve().parents[1]
UNITS_CSV = ROOT / "taian_tui" / "demo" / "data" / "units.csv"

SETUP_AT = "2026-09-01T09:00:00+08:00"
# DOMAIN.md's example: reached the unit Tue 2026-09-29.
ARRIVED = "2026-09-29T10:00:00+08:00"
BLUE_AT = "2026-10-12T00:00:00+08:00"
DEADLINE = "2026-10-12T23:59:59+08:00"
# 5th working day after 10-12: 10-13, 14, 15, 16, 19.
ORDER_DUE = "2026-10-19T23:59:59+08:00"
PROJECT_REF = "P-0001"


def _valid_uscc(candidate: str = "91370900MA3C12345J") -> str:
    if _uscc.is_valid(candidate):
        return candidate
    body = candidate[:17]
    return body + _uscc.calc_check_digit(body)


USCC = _valid_uscc()

USERS = [
    # username, name, role, unit, mobile, scope
    ("admin", "平台管理员", "admin", "fgw", "13800000001", "city"),
    ("zrzy1", "自然资源联络员", "liaison", "zrzy", "13800000002", "city"),
    ("sthj1", "生态环境联络员", "liaison", "sthj", "13800000003", "city"),
    ("daiyue1", "岱岳区联络员", "liaison", "daiyue", "13800000004", "city"),
    ("shizhang", "市长", "leader", None, "13800000005", "city"),
    ("daiyue-lead", "岱岳区区长", "leader", "daiyue", "13800000006", "unit"),
    ("ducha1", "督查员", "supervisor", "dcs", "13800000007", "city"),
    ("jiwei1", "纪委干部", "discipline", "jwjw", "13800000008", "city"),
    ("bianji", "编辑", "editor", "fgw", "13800000009", "city"),
]

ROUTES = [("land", "岱岳区", "zrzy"), ("environment", "岱岳区", "sthj"), ("other", "岱岳区", "daiyue")]


def build_city(store: Store) -> None:
    with open(UNITS_CSV, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            wf.add_unit(store, "system:import", row["code"], row["name"], row["kind"],
                        head_name=row["head_name"], head_mobile=row["head_mobile"], at=SETUP_AT)
    for username, name, role, unit, mobile, scope in USERS:
        wf.upsert_user(store, "system:import", username, name, role, unit_code=unit,
                       mobile=mobile, scope=scope, at=SETUP_AT)
    for category, county, unit in ROUTES:
        wf.set_routing_rule(store, "system:import", category, county, unit, at=SETUP_AT)
    with store.transaction():
        store.conn.execute(
            "INSERT INTO enterprises(uscc, name, county, industry, tags, contact, phone, address, "
            "certified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (USCC, "泰安示范新材料有限公司", "岱岳区", "新材料", "规上工业企业,双50强", "王经理",
             "05388888888", "岱岳区天平街道", SETUP_AT, SETUP_AT, SETUP_AT))
    wf.apply_project(store, "system:intake", ref=PROJECT_REF, enterprise_uscc=USCC,
                     name="年产5万吨新材料项目", county="岱岳区", category="市重点建设项目",
                     investment_wan=12000, at=SETUP_AT)


@pytest.fixture(scope="session")
def city_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "city.db"
    store = Store(path)
    try:
        build_city(store)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return path


@pytest.fixture
def db_path(city_template, tmp_path) -> Path:
    path = tmp_path / "t.db"
    shutil.copyfile(city_template, path)
    return path


@pytest.fixture
def store(db_path):
    s = Store(db_path)
    yield s
    s.close()


@pytest.fixture
def city():
    return SimpleNamespace(uscc=USCC, project_ref=PROJECT_REF, arrived=ARRIVED, blue_at=BLUE_AT,
                           deadline=DEADLINE, order_due=ORDER_DUE, setup_at=SETUP_AT,
                           users={u[0]: u for u in USERS})


@pytest.fixture
def submit(store):
    """submit(ref=None, at=ARRIVED, category="土地", county="岱岳区", ...) -> Appeal."""
    counter = itertools.count(1)

    def _submit(ref: str | None = None, *, at: str = ARRIVED, category: str = "土地",
                county: str = "岱岳区", title: str = "用地指标落实", body: str = "请协调用地指标",
                who: str = "system:intake", **kw):
        if ref is None:
            ref = f"A-2026-{next(counter):04d}"
        return wf.submit_appeal(store, who, ref=ref, enterprise_uscc=kw.pop("enterprise_uscc", USCC),
                                category=category, county=county, title=title, body=body,
                                at=at, **kw)
    return _submit


@pytest.fixture
def make_appeal(store, submit):
    """make_appeal(state, **submit_kwargs) -> Appeal in that state (land/岱岳区 -> zrzy
    unless the category or county says otherwise). Times follow ARRIVED."""

    def _make(state: str = "accepted", **kw):
        a = submit(**kw)
        if state == "submitted":
            if a.state != "submitted":
                raise AssertionError("use a category/county without a routing rule")
            return a
        liaison = {"zrzy": "zrzy1", "sthj": "sthj1", "daiyue": "daiyue1"}[a.unit_code]
        if state == "assigned":
            return a
        if state == "returned":
            return wf.return_appeal(store, liaison, a.ref, "不属于本单位职责",
                                    at="2026-09-30T09:00:00+08:00")
        a = wf.accept_appeal(store, liaison, a.ref, at="2026-09-29T11:00:00+08:00")
        if state == "accepted":
            return a
        a = wf.reply_appeal(store, liaison, a.ref, "已协调解决", at="2026-09-30T10:00:00+08:00")
        if state == "answered":
            return a
        if state == "closed":
            return wf.evaluate_appeal(store, "system:intake", a.ref, "满意",
                                      at="2026-10-08T10:00:00+08:00")
        if state == "disputed":
            return wf.evaluate_appeal(store, "system:intake", a.ref, "不满意", "没解决",
                                      at="2026-10-08T10:00:00+08:00")
        raise ValueError(state)
    return _make


def dump_tables(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: sorted((tuple(r) for r in conn.execute(f'SELECT * FROM "{n}"')), key=repr)
            for n in names}


@pytest.fixture
def dump(store):
    """dump() -> every row of every table (to compare before/after)."""
    return lambda: dump_tables(store.conn)


@pytest.fixture
def unchanged(store):
    """``with unchanged(): ...`` asserts the block changed no row of any table."""

    @contextlib.contextmanager
    def _unchanged():
        before = dump_tables(store.conn)
        try:
            yield
        finally:
            after = dump_tables(store.conn)
            assert set(after) == set(before)
            for table in before:
                assert after[table] == before[table], f"table {table} changed by a refused action"
            assert not store.conn.in_transaction, "a refused action left a transaction open"
    return _unchanged


@pytest.fixture
def audit_count(store):
    return lambda: store.scalar("SELECT COUNT(*) FROM audit")


# -- speed -------------------------------------------------------------------------------------
def pytest_collection_modifyitems(config, items):
    """The tests marked ``heavy`` first (in their order), the rest as collected: xdist then
    hands them out first, so that the parallel run does not end waiting on one of them
    (after the groups of the wheel and SSH tests, which it sends first itself)."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def pytest_collection_finish(session):
    """Everything imported by now lives for the whole run: out of the collector's way."""
    gc.collect()
    gc.freeze()


# -- async tests ---------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run an ``async def`` test with ``asyncio.run``."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**args))
    return True


# -- the command line ----------------------------------------------------------------------------
# Typer turns the ``taian`` app into its click command anew on every call of ``cli.app()`` (it
# reads the signature and type hints of every command function): 60 ms, nine tenths of what an
# in-process ``taian --help`` costs, paid hundreds of times a run. A process runs ``taian`` once
# and builds it once; the in-process runs here build it once too (per Typer app, while
# ``_run_cli`` runs): the command built is the same every time (it depends only on the
# functions registered, which are fixed at import), and click keeps no state of a run in it
# (each run has its own context).
_CLICK_COMMANDS: dict[int, tuple] = {}


def _get_command_once(get_command):
    def built_once(typer_app):
        hit = _CLICK_COMMANDS.get(id(typer_app))
        if hit is None or hit[0] is not typer_app:
            hit = _CLICK_COMMANDS[id(typer_app)] = (typer_app, get_command(typer_app))
        return hit[1]
    return built_once


def _run_cli(*args: str, env: dict | None = None, stdin: str | None = None) -> tuple[int, str, str]:
    import typer.main

    import cli

    out, err = io.StringIO(), io.StringIO()
    old_argv, old_env, old_stdin = sys.argv, dict(os.environ), sys.stdin
    sys.argv = ["taian", *map(str, args)]
    if env:
        os.environ.update(env)
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    code = 0
    get_command = typer.main.get_command
    typer.main.get_command = _get_command_once(get_command)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        typer.main.get_command = get_command
        sys.argv, sys.stdin = old_argv, old_stdin
        os.environ.clear()
        os.environ.update(old_env)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def run_cli():
    """``run_cli(*args, env=None, stdin=None) -> (exit code, stdout, stderr)``: ``taian ARGS``
    run in-process through ``cli.main()`` (fast)."""
    return _run_cli


def _taian_process(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env if env is not None else dict(os.environ), **kw)


@pytest.fixture
def taian_process():
    """``taian_process(*args, env=None, **popen_kw) -> Popen``: ``taian ARGS`` as a real child
    process (for cron-like runs and kill -9)."""
    return _taian_process


# -- the demo city -----------------------------------------------------------------------------
DEMO_TODAY = "2026-11-27T09:00:00+08:00"        # a Friday, a working day


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> SimpleNamespace:
    """The demo city as of DEMO_TODAY, built once for all the workers of a run by the command
    itself, ``taian demo --no-tui --db PATH --today DEMO_TODAY`` (in-process): ``path`` (the
    built file, checkpointed) and the command's ``code``, ``out`` and ``err`` (recorded beside
    the file for the workers that did not build it)."""
    from taian_tui.schema import migrations

    # this run's: common to its xdist workers (pytest-N/ above their popen-gwK/), or this
    # process's own folder (pytest-N/) without xdist; never a build left by an earlier run
    # (test_cli_admin reads this build's output as the test of `taian demo` itself)
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    # named by the schema: a template left by an earlier run with fewer migrations is not
    # reused (the command line refuses an older schema: "run `taian migrate`")
    schema = hashlib.sha256(" ".join(m.name for m in migrations._migrations).encode()).hexdigest()[:12]
    path = shared / f"demo-template-{schema}.db"
    record = shared / f"demo-template-{schema}.cli.json"
    with open(shared / "demo-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path.exists() and record.exists()):
            building = shared / f"demo-template-{schema}.building.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{building}{suffix}").unlink(missing_ok=True)
            code, out, err = _run_cli("demo", "--no-tui", "--db", building, "--today", DEMO_TODAY)
            if code != 0:
                pytest.fail(f"`taian demo --no-tui --db {building} --today {DEMO_TODAY}` exited {code}:\n"
                            f"--- stdout ---\n{out}\n--- stderr ---\n{err}")
            with Store(building) as store:
                store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            record.write_text(json.dumps({"code": code, "out": out, "err": err}), encoding="utf-8")
            building.rename(path)
    done = json.loads(record.read_text(encoding="utf-8"))
    return SimpleNamespace(path=path, code=done["code"], out=done["out"], err=done["err"])


@pytest.fixture(scope="session")
def demo_template(demo_build) -> Path:
    """The demo city as of DEMO_TODAY, built once for all the workers of a run."""
    return demo_build.path


@pytest.fixture(scope="module")
def demo_db(demo_template, tmp_path_factory) -> Path:
    """A module's own copy of the demo city (read it, or change it: it is this module's)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(demo_template, path)
    return path
