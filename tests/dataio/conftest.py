"""Fixtures of the data in/out tests: ``both_ways``, the registry import checked in one
process and in two."""
from __future__ import annotations

import pytest

from taian_tui.dataio import registry
from taian_tui.store import Store


@pytest.fixture
def both_ways(db_path, tmp_path, monkeypatch):
    """``both_ways(path, outcome, **import_kw) -> (parts, [outcome(store, result), ...])``:
    ``registry.import_enterprises`` of ``path`` into two copies of the city, with
    ``workers=1`` and then ``workers=2`` (two CPUs as far as the import knows), each
    outcome taken on its copy (the audit chain checked too); ``parts``: how many parts each
    run's check pass had (2: the second was checked by a forked process). An import
    keyword given as a function is called with the number of workers (a report's path)."""
    monkeypatch.setattr(registry, "_cpus", lambda: 2)
    parts: list[int] = []
    real = registry._settle_duplicates
    monkeypatch.setattr(registry, "_settle_duplicates",
                        lambda conn, p, *a: (parts.append(len(p)), real(conn, p, *a)))

    def run(path, outcome, **kw):
        outcomes = []
        for workers in (1, 2):
            copy = tmp_path / f"w{workers}.db"
            copy.write_bytes(db_path.read_bytes())
            with Store(copy) as s:
                r = registry.import_enterprises(s, "system:import", path, workers=workers,
                                               **{k: v(workers) if callable(v) else v for k, v in kw.items()})
                outcomes.append(outcome(s, r))
                assert s.verify_audit().ok
        return parts, outcomes
    return run
