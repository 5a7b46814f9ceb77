"""`taian appeal list|show|accept|reply|return|assign|extend|decide-extension` call the same
store operations as the console: role and unit checks hold, refusals exit 2."""
from __future__ import annotations

import json

from taian_tui.store import Store


def test_list_json_is_an_array_of_show_objects(run_cli, db_path, make_appeal):
    a = make_appeal("accepted")
    b = make_appeal("accepted", category="环评")
    code, out, err = run_cli("appeal", "list", "--db", db_path, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["ref"] for r in rows] == [a.ref, b.ref]
    for r in rows:
        assert {"ref", "state", "card", "unit", "deadline", "history"} <= set(r)
    code, out, _ = run_cli("appeal", "list", "--db", db_path, "--json", "--unit", "sthj")
    assert [r["ref"] for r in json.loads(out)] == [b.ref]
    code, out, _ = run_cli("appeal", "list", "--db", db_path, "--json", "--as", "zrzy1")
    assert [r["ref"] for r in json.loads(out)] == [a.ref]  # a liaison's scope
    code, out, _ = run_cli("appeal", "list", "--db", db_path, "--json", "--category", "土地", "--state", "accepted")
    assert [r["ref"] for r in json.loads(out)] == [a.ref]
    code, out, _ = run_cli("appeal", "list", "--db", db_path, "--json", "--search", "用地")
    assert len(json.loads(out)) == 2


def test_list_filters_by_card(run_cli, db_path, make_appeal):
    a = make_appeal("accepted")
    make_appeal("closed")
    run_cli("escalate", "--db", db_path, "--at", "2026-10-12T08:00:00+08:00")
    code, out, _ = run_cli("appeal", "list", "--db", db_path, "--json", "--card", "blue")
    assert [r["ref"] for r in json.loads(out)] == [a.ref]
    code, _, err = run_cli("appeal", "list", "--db", db_path, "--card", "purple")
    assert code == 2 and "card must be" in err


def test_liaison_flow_from_the_command_line(run_cli, db_path, submit):
    a = submit()
    code, out, err = run_cli("appeal", "accept", a.ref, "--as", "zrzy1", "--db", db_path,
                             env={"TAIAN_NOW": "2026-09-29T11:00:00+08:00"})
    assert code == 0, err
    assert "accepted; due 2026-10-12T23:59:59+08:00" in out
    code, out, err = run_cli("appeal", "reply", a.ref, "--as", "zrzy1", "--db", db_path,
                             stdin="已协调\n第二行", env={"TAIAN_NOW": "2026-09-30T11:00:00+08:00"})
    assert code == 0, err
    with Store(db_path) as s:
        got = s.appeal(a.ref)
        assert got.state == "answered" and got.reply == "已协调\n第二行"
        assert s.audit_rows("appeal", a.ref)[-1].actor == "zrzy1"


def test_other_units_liaison_is_refused_with_exit_2(run_cli, db_path, make_appeal):
    a = make_appeal("accepted")
    with Store(db_path) as s:
        before = s.appeal(a.ref)
    code, out, err = run_cli("appeal", "reply", a.ref, "--as", "sthj1", "--db", db_path, "--text", "不是我的")
    assert code == 2
    assert err.startswith("refused: rule: a liaison handles only their own unit's appeals")
    assert "市生态环境局" in err and "市自然资源和规划局" in err
    assert len(err.strip().splitlines()) == 1
    with Store(db_path) as s:
        assert s.appeal(a.ref) == before


def test_wrong_state_wrong_role_and_unknown_are_exit_2(run_cli, db_path, make_appeal):
    a = make_appeal("assigned")
    code, _, err = run_cli("appeal", "reply", a.ref, "--as", "zrzy1", "--db", db_path, "--text", "x")
    assert code == 2 and "that is done only while an appeal is accepted\n" in err
    code, _, err = run_cli("appeal", "assign", a.ref, "--unit", "sthj", "--as", "zrzy1", "--db", db_path)
    assert code == 2 and "only admin may" in err
    code, _, err = run_cli("appeal", "accept", "A-9999", "--as", "zrzy1", "--db", db_path)
    assert code == 2 and "no such appeal" in err
    code, _, err = run_cli("appeal", "accept", a.ref, "--db", db_path)
    assert code == 2 and "--as USER" in err
    code, _, err = run_cli("appeal", "accept", a.ref, "--as", "nobody", "--db", db_path)
    assert code == 2 and "unknown user" in err


def test_return_assign_extend_decide(run_cli, db_path, make_appeal):
    a = make_appeal("assigned")
    code, out, err = run_cli("appeal", "return", a.ref, "--reason", "非本单位职责", "--as", "zrzy1",
                             "--db", db_path, env={"TAIAN_NOW": "2026-09-30T09:00:00+08:00"})
    assert code == 0, err
    code, out, err = run_cli("appeal", "assign", a.ref, "--unit", "市生态环境局", "--as", "admin",
                             "--db", db_path, env={"TAIAN_NOW": "2026-09-30T10:00:00+08:00"})
    assert code == 0, err
    assert "assigned to 市生态环境局 (sthj); due 2026-10-13T23:59:59+08:00" in out
    run_cli("appeal", "accept", a.ref, "--as", "sthj1", "--db", db_path, env={"TAIAN_NOW": "2026-09-30T11:00:00+08:00"})
    code, out, err = run_cli("appeal", "extend", a.ref, "--days", "3", "--reason", "需现场勘查",
                             "--as", "sthj1", "--db", db_path, env={"TAIAN_NOW": "2026-10-09T09:00:00+08:00"})
    assert code == 0, err
    ext_id = int(out.split()[2])
    code, _, err = run_cli("appeal", "decide-extension", str(ext_id), "--approve", "--as", "sthj1", "--db", db_path)
    assert code == 2 and "only supervisor" in err
    code, out, err = run_cli("appeal", "decide-extension", str(ext_id), "--approve", "--as", "ducha1",
                             "--db", db_path, env={"TAIAN_NOW": "2026-10-09T10:00:00+08:00"})
    assert code == 0, err
    assert "approved; new deadline 2026-10-16T23:59:59+08:00" in out


def test_actions_take_the_servers_clock_not_a_time_given(run_cli, db_path, submit, dump):
    """No action command takes a time: a reply cannot be back-dated before the appeal even
    arrived (it would count as on time and never be carded)."""
    a = submit()
    before = dump()
    for args in (("accept", a.ref), ("reply", a.ref, "--text", "x"), ("return", a.ref, "--reason", "r"),
                 ("assign", a.ref, "--unit", "sthj"), ("extend", a.ref, "--days", "1", "--reason", "r"),
                 ("decide-extension", "1", "--approve")):
        code, out, err = run_cli("appeal", *args, "--as", "admin", "--db", db_path,
                                 "--at", "2026-09-01T00:00:00+08:00")
        assert code == 2 and "No such option: --at" in err, (args, err)
    assert dump() == before


def test_show_respects_scope_when_acting_as_someone(run_cli, db_path, make_appeal):
    a = make_appeal("accepted")
    code, _, err = run_cli("appeal", "show", a.ref, "--as", "jiwei1", "--db", db_path)
    assert code == 2 and "outside their scope" in err
    code, out, _ = run_cli("appeal", "show", a.ref, "--as", "zrzy1", "--db", db_path)
    assert code == 0 and f"ref: {a.ref}" in out
