#!/usr/bin/env python3
"""Set-up in one command, with nothing but Python 3.11 on the machine.

    python3 dev.py demo [taian demo options]   # venv + install + demo database + console
    python3 dev.py test [pytest options]       # venv + install + import contract + tests (in parallel)

The virtual environment is .venv/ in the repository; it is created when missing and
re-installed when pyproject.toml changes.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".taian-installed"


def run(*cmd: str | os.PathLike, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_env() -> None:
    if not (BIN / "python").exists():
        print("creating virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("installing taian-tui and its dependencies ...", flush=True)
        run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[test]")
        STAMP.write_text(wanted)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        sys.exit(2)
    ensure_env()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        # A fresh demo city as of today, unless --keep asks to reopen the existing demo.db.
        args = [a for a in rest if a != "--keep"] if "--keep" in rest else ["--force", *rest]
        run(BIN / "taian", "demo", "--db", ROOT / "demo.db", *args)
    else:
        run(BIN / "lint-imports")
        # in parallel: one worker per CPU and four more (the console tests wait on timers, and
        # many tests on subprocesses, part of the time: on two cores three workers took
        # 125-130 s where four took 110-120 s, and six took 8 % less than four, side by side,
        # for the same CPU time); the wheel test's module and the SSH tests' stay on one
        # worker each
        workers = str((os.cpu_count() or 1) + 4)
        # with bytecode caching on even where the environment turns it off: otherwise every
        # worker rewrites and compiles every test module again (pytest's assertion rewriting
        # caches in __pycache__ too), and every `taian` child process compiles the package
        # again: several CPU-seconds per worker (__pycache__ is in .gitignore)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        run(BIN / "python", "-m", "pytest", "-n", workers, "--dist", "loadgroup", *rest, env=env)


if __name__ == "__main__":
    main(sys.argv[1:])
