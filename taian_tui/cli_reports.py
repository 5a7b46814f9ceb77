"""Figures for scripts and leaders (``taian stats``, ``taian report``), registered on the ``taian`` app."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the reporting commands to ``app``."""
