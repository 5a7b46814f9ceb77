"""Data-in and data-out commands (imports, export, intake), registered on the ``taian`` app."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the data commands to ``app``."""
