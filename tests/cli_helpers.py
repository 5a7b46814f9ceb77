"""Run the ``taian`` command in-process (fast) or as a real process (for cron, kill -9)."""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, stdin: str | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``taian ARGS`` run through cli.main()."""
    import cli

    out, err = io.StringIO(), io.StringIO()
    old_argv, old_env, old_stdin = sys.argv, dict(os.environ), sys.stdin
    sys.argv = ["taian", *map(str, args)]
    if env:
        os.environ.update(env)
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv, sys.stdin = old_argv, old_stdin
        os.environ.clear()
        os.environ.update(old_env)
    return code, out.getvalue(), err.getvalue()


def taian_process(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    """``taian ARGS`` as a child process (the installed interpreter running cli.py)."""
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env if env is not None else dict(os.environ), **kw)
