"""Find an appeal by its ref (issue 13, point 4): the search box takes ``A-2026-1875`` in any
case (that appeal alone) or the bare number ``1875`` (that number's appeal of recent years,
besides the appeals whose words hold it); the command line takes a ref in any case."""
from __future__ import annotations

from taian_tui.domain import actors
from taian_tui.read import appeals

AT = "2026-10-20T09:00:00+08:00"


def refs(store, text, who="admin"):
    rows = appeals.list_appeals(store, actors.actor(store, who), appeals.AppealFilter(states=(), text=text),
                                limit=100, at=AT)
    return sorted(r.ref for r in rows)


def test_a_ref_finds_its_appeal_in_any_case(store, make_appeal):
    make_appeal("accepted", ref="A-2026-1875", title="用地指标", body="报批")
    make_appeal("accepted", ref="A-2025-0042", title="环评批复", body="第1875号文件")
    make_appeal("accepted", ref="A-2026-0043", title="供电接入", body="线路")
    assert refs(store, "A-2026-1875") == ["A-2026-1875"]
    assert refs(store, " a-2026-1875 ") == ["A-2026-1875"]
    assert refs(store, "A-2025-42") == ["A-2025-0042"]
    assert refs(store, "2026-1875") == ["A-2026-1875"]            # the letter left out
    assert refs(store, " 2025 - 0042") == ["A-2025-0042"]
    # a bare number: its appeal, and the appeals whose text holds the number
    assert refs(store, "1875") == ["A-2025-0042", "A-2026-1875"]
    assert refs(store, "43") == ["A-2026-0043"]
    assert appeals.count_appeals(store, actors.actor(store, "admin"),
                                 appeals.AppealFilter(states=(), text="1875"), at=AT) == 2
    # in scope only: sthj1 sees none of zrzy's appeals
    assert refs(store, "A-2026-1875", who="sthj1") == []


def test_the_command_line_takes_a_ref_in_any_case(store, db_path, make_appeal, run_cli):
    make_appeal("accepted", ref="A-2026-1875", title="用地指标", body="报批")
    code, out, err = run_cli("appeal", "show", "a-2026-1875", "--db", str(db_path))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "ref: A-2026-1875"
    code, out, err = run_cli("appeal", "reply", "a-2026-1875", "--text", "已答复", "--as", "zrzy1",
                             "--db", str(db_path))
    assert (code, err) == (0, "")
    assert out.startswith("A-2026-1875 answered at ")
    assert store.appeal("A-2026-1875").reply == "已答复"
    code, _, err = run_cli("appeal", "show", "A-2026-9999", "--db", str(db_path))
    assert (code, err) == (2, "refused: no such appeal: 'A-2026-9999'\n")
