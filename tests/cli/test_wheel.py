"""The project as users get it: build the wheel, install it into a fresh virtual
environment, and run the installed ``taian`` from outside the repository.

SLOW (about half a minute, more with a cold pip cache): it builds a wheel, creates a venv
and lets pip install the dependencies from the configured indexes. It is not skipped by
default: it is the only test that sees what a wheel leaves out (package data, modules,
the ``taian`` script) or code that reads files from the source tree. The venv is made
without a pip of its own (``--without-pip``: bootstrapping one costs as much as the rest of
the set-up) and this pip installs into it with ``--python``: pip then runs under the new
venv's interpreter and installs there, resolving the dependencies as a user's pip would.

One module-scoped fixture builds and installs once; the tests after it share that venv
and one demo database (``demo_db``). Every subprocess has a timeout, and every failure
message carries the command, its exit code, stdout and stderr.
"""
from __future__ import annotations

import csv
import json
import os
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

#: One worker runs the whole module (the venv is built once, by its module-scoped fixture).
pytestmark = pytest.mark.xdist_group("wheel")

ROOT = Path(__file__).resolve().parents[2]
TITLE = "泰安市重大项目督导服务平台"          # the console's app.title (console/strings.py)

# Not copied into the build tree: nothing of it belongs in a wheel, and a stale build/ or
# *.egg-info could smuggle files in (or out) that the working tree no longer has.
_TOP_LEVEL_SKIP = {".git", ".venv", "venv", "build", "dist", ".pytest_cache", ".import_linter_cache",
                   "bench-data", "snapshot_report.html"}
_ANYWHERE_SKIP = {"__pycache__", ".pytest_cache"}
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"          # CSI: colours, cursor moves, modes
                   r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window title, colours
                   r"|\x1bP[^\x1b]*\x1b\\"                # DCS
                   r"|\x1b[@-Z\\-_]|\x1b[()][0-9A-Za-z]")  # other escapes, charset selection


def _describe(cmd, result) -> str:
    return (f"command: {' '.join(map(str, cmd))}\nexit code: {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}")


def _run(cmd, *, cwd, env, timeout, expect=0) -> subprocess.CompletedProcess:
    cmd = [str(c) for c in cmd]
    try:
        result = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, capture_output=True,
                                text=True, encoding="utf-8", errors="replace", stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"timed out after {timeout} s: {' '.join(cmd)}\n--- stdout ---\n{exc.stdout}\n"
                    f"--- stderr ---\n{exc.stderr}")
    if expect is not None:
        assert result.returncode == expect, _describe(cmd, result)
    return result


def _clean_env(venv_bin: Path) -> dict[str, str]:
    """The environment minus anything that could point Python or taian back at the
    repository or the developer's venv (PYTHONPATH, VIRTUAL_ENV, TAIAN_*)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "TAIAN_", "TEXTUAL")) and k not in ("VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    env["PATH"] = os.pathsep.join([str(venv_bin), *[p for p in env.get("PATH", "").split(os.pathsep)
                                                     if p and not p.startswith(str(ROOT))]])
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    # the venv's modules are compiled when first imported and cached in the venv (pip installs
    # with --no-compile: see ``installed``); nothing is written outside the temporary venv
    return env


def _copy_source(dest: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in _ANYWHERE_SKIP or n.endswith((".egg-info", ".pyc"))}
        if Path(folder) == ROOT:
            skip |= {n for n in names if n in _TOP_LEVEL_SKIP or n.endswith((".db", ".db-wal", ".db-shm"))}
        return skip

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)


def _data_rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return sum(1 for row in csv.DictReader(fh) if any((v or "").strip() for v in row.values()))


# -- build, install ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from a copy of the working tree, installed into a fresh venv."""
    base = tmp_path_factory.mktemp("wheel")
    src, dist, venv_dir, work = base / "src", base / "dist", base / "venv", base / "work"
    work.mkdir()
    started = time.monotonic()

    # Build from a copy so that the build (build/, *.egg-info) never writes into the
    # repository. With build isolation, as pip and `python -m build` do by default: the
    # declared build requirement (setuptools>=68) is honoured; --no-build-isolation would
    # use whatever setuptools the running venv has (3.11's bundled 65.5 has no bdist_wheel
    # without the `wheel` package).
    _copy_source(src)
    build_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPATH")}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-input", "-w", dist, src],
         cwd=base, env=build_env, timeout=600)
    wheels = sorted(dist.glob("taian_tui-*.whl"))
    assert len(wheels) == 1, f"expected one taian_tui wheel in {dist}, found {[w.name for w in wheels]}"
    wheel = wheels[0]

    # Every file of the package in the copied tree (modules and data) is in the wheel,
    # and so is the top-level cli.py the `taian` script points at.
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next((zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")), "")
    package_files = {p.relative_to(src).as_posix() for p in (src / "taian_tui").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    missing = sorted(package_files - names)
    assert not missing, (f"files of taian_tui/ that the wheel {wheel.name} leaves out (add them to "
                         f"[tool.setuptools.package-data] or give the folder an __init__.py): {missing}")
    assert "cli.py" in names, f"cli.py is not in the wheel {wheel.name}: {sorted(names)}"
    assert re.search(r"^taian\s*=\s*cli:main\s*$", entry_points, re.M), \
        f"the wheel declares no `taian = cli:main` console script:\n{entry_points}"

    # A fresh venv: no system site packages, not editable, pip resolves the dependencies.
    # No pip inside it: this pip, run with --python, re-runs itself under the venv's
    # interpreter and installs into the venv (the scripts' #! lines name that interpreter).
    _run([sys.executable, "-m", "venv", "--clear", "--without-pip", venv_dir], cwd=base, env=build_env,
         timeout=300)
    bin_dir = venv_dir / ("Scripts" if os.name == "nt" else "bin")
    env = _clean_env(bin_dir)
    python = bin_dir / "python"
    # --no-compile: pip would compile every module of every dependency (pygments' hundreds of
    # lexers among them), 7 of the install's 12 CPU-seconds; the commands below compile the
    # modules they import, once, into the venv's __pycache__ (what a first run does anyway
    # where pip's compile step is off or failed). What is installed is the same.
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-input", "--no-compile", wheel],
         cwd=work, env=env, timeout=900)
    taian = bin_dir / "taian"
    assert taian.exists(), f"pip installed no `taian` script into {bin_dir}: {sorted(os.listdir(bin_dir))}"
    # the script runs the venv's interpreter (not this one, whose taian_tui is the repository's)
    shebang = taian.read_text(encoding="utf-8").splitlines()[0]
    assert shebang.startswith("#!") and Path(shebang[2:].strip()).parent == bin_dir, \
        f"the `taian` script does not run the venv's python {python}: {shebang}"
    print(f"\nwheel built and installed in {time.monotonic() - started:.1f} s")
    return SimpleNamespace(wheel=wheel, venv=venv_dir, bin=bin_dir, python=python, taian=taian,
                           work=work, env=env)


@pytest.fixture(scope="module")
def demo_db(installed):
    """`taian demo --no-tui` of the installed package into a new database."""
    db = installed.work / "demo.db"
    result = _run([installed.taian, "demo", "--no-tui", "--db", db], cwd=installed.work, env=installed.env,
                  timeout=300)
    return SimpleNamespace(path=db, result=result)


# -- the tests --------------------------------------------------------------------------------------
def test_installed_package_comes_from_the_wheel(installed):
    result = _run([installed.python, "-c", "import taian_tui, cli, sysconfig; "
                   "print(taian_tui.__file__); print(cli.__file__); print(sysconfig.get_paths()['purelib'])"],
                  cwd=installed.work, env=installed.env, timeout=60)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3, _describe(["python", "-c", "..."], result)
    package, module, purelib = (Path(x).resolve() for x in lines)
    site = installed.venv.resolve()
    assert purelib.is_relative_to(site), f"site-packages {purelib} is not inside the venv {site}"
    for what, path in (("taian_tui", package), ("cli", module)):
        assert path.is_relative_to(purelib), f"{what} was imported from {path}, not from {purelib}"
        assert not path.is_relative_to(ROOT.resolve()), f"{what} was imported from the repository: {path}"


def test_demo_builds_the_city(installed, demo_db):
    assert demo_db.path.exists(), _describe(["taian", "demo", "--no-tui"], demo_db.result)
    assert "demo city built" in demo_db.result.stdout, _describe(["taian", "demo", "--no-tui"], demo_db.result)
    expected = _data_rows(ROOT / "taian_tui" / "demo" / "data" / "units.csv")
    with sqlite3.connect(demo_db.path) as con:
        units = con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
    assert units == expected, f"{units} units in {demo_db.path}, units.csv has {expected} rows"


def test_escalate_prints_one_json_object(installed, demo_db):
    cmd = [installed.taian, "escalate", "--db", demo_db.path, "--json"]
    result = _run(cmd, cwd=installed.work, env=installed.env, timeout=120)
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"stdout is not one JSON document ({exc})\n{_describe(cmd, result)}")
    assert isinstance(doc, dict), _describe(cmd, result)
    assert set(doc) == {"at", "dry_run", "raised", "notifications_queued", "appeals", "warnings", "audit_head"}, \
        _describe(cmd, result)
    assert doc["dry_run"] is False and set(doc["raised"]) == {"blue", "yellow", "red"}, _describe(cmd, result)


def test_import_enterprises_base_file(installed, demo_db):
    # fixtures/import/README.md: a clean registry of 5 rows, none of them in the demo city.
    cmd = [installed.taian, "import", "enterprises", ROOT / "fixtures" / "import" / "enterprises_base.csv",
           "--db", demo_db.path]
    result = _run(cmd, cwd=installed.work, env=installed.env, timeout=120)
    assert result.stdout.strip() == ("enterprises enterprises_base.csv: 5 rows read; inserted 5, updated 0, "
                                     "unchanged 0, rejected 0"), _describe(cmd, result)
    assert result.stderr == "", _describe(cmd, result)


class _Terminal:
    """A child process on a pseudo-terminal of ``cols`` x ``rows``; ``screen()`` is all it
    wrote so far, decoded, with the escape sequences stripped."""

    def __init__(self, cmd, *, cwd, env, cols: int = 120, rows: int = 40) -> None:
        import fcntl
        import struct
        import termios

        self.cmd = [str(c) for c in cmd]
        env = dict(env, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        env.pop("NO_COLOR", None)
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                                         start_new_session=True, close_fds=True)
        finally:
            os.close(slave)
        self.output = bytearray()

    def screen(self) -> str:
        return _ANSI.sub("", self.output.decode("utf-8", errors="replace"))

    def pump(self, seconds: float, until=lambda: False) -> bool:
        """Read the terminal for up to ``seconds``; True as soon as ``until()`` is."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if until():
                return True
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:              # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    if self.proc.poll() is None:     # closed but not yet reaped: give it a moment
                        try:
                            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                        except subprocess.TimeoutExpired:
                            pass
                    break
                self.output.extend(chunk)
        return until()

    def wait_for(self, seconds: float, what: str, found) -> None:
        self.pump(seconds, lambda: found() or self.proc.poll() is not None)
        assert self.proc.poll() is None, self.report(f"the console exited before showing {what}")
        assert found(), self.report(f"no {what} on the screen within {seconds} s")
        assert "Traceback" not in self.screen(), self.report("a traceback on the screen")

    def quit_with_ctrl_q(self, seconds: float = 20) -> None:
        self.pump(1.0)                       # let it settle before the key
        assert self.proc.poll() is None, self.report("the console exited on its own")
        os.write(self.master, b"\x11")       # ctrl+q
        exited = self.pump(seconds, lambda: self.proc.poll() is not None)
        assert exited, self.report(f"the console did not exit within {seconds} s of ctrl+q")
        self.pump(0.5)
        assert self.proc.returncode == 0, self.report("the console exited with an error")
        assert "Traceback" not in self.screen(), self.report("a traceback on the way out")

    def report(self, what: str) -> str:
        return (f"{what}\ncommand: {' '.join(self.cmd)}\nexit code: {self.proc.poll()}\n"
                f"--- terminal (escapes stripped, last 3000 chars) ---\n{self.screen()[-3000:]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        os.close(self.master)


def test_tui_as_admin_starts_and_quits_on_ctrl_q(installed, demo_db):
    # Signed in, the console shows no app title: its header is the user (role 管理员 = admin)
    # and today's counts (strings.py header.counts), read from the database.
    term = _Terminal([installed.taian, "tui", "--db", demo_db.path, "--as", "admin"],
                     cwd=installed.work, env=installed.env)
    try:
        counts = re.compile(r"在办 \d+ · 今日到期 \d+ · 挂牌 \d+")
        term.wait_for(60, "header with the admin and today's counts",
                      lambda: "管理员" in term.screen() and counts.search(term.screen()) is not None)
        term.quit_with_ctrl_q()
    finally:
        term.close()


def test_tui_sign_in_screen_shows_the_title(installed, demo_db):
    # Without --as (and no TAIAN_USER) the console opens on the sign-in screen, under its title.
    term = _Terminal([installed.taian, "tui", "--db", demo_db.path], cwd=installed.work, env=installed.env)
    try:
        term.wait_for(60, f"title {TITLE!r}", lambda: TITLE in term.screen())
        term.quit_with_ctrl_q()
    finally:
        term.close()
