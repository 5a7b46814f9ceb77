"""`taian import units` and `taian import routing`: how a real database gets its 58 units and
routing rules (the same reading and reporting rules as the other imports)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from taian_tui.dataio import routing
from taian_tui.dataio import units
from taian_tui.domain import operations as wf
from taian_tui.commands.common import Fail
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError, PermissionDenied

ROOT = Path(__file__).resolve().parents[2]


def taian(*args):
    result = CliRunner().invoke(cli.app, [str(a) for a in args])
    code = result.exit_code
    err = result.stderr
    if isinstance(result.exception, Fail):
        code = result.exception.code
        err += str(result.exception)        # what cli.main prints
    elif isinstance(result.exception, DomainError):
        code = 2
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return code, result.stdout, err


def test_a_new_database_gets_its_units_and_rules_from_the_fixtures(tmp_path):
    db = tmp_path / "prod.db"
    assert taian("migrate", "--db", db)[0] == 0
    # before the units: the registry import says what is missing, and writes nothing
    code, _, err = taian("import", "enterprises", ROOT / "fixtures" / "import" / "enterprises_base.csv",
                         "--db", db, "--as", "system:import")
    assert code == 2 and "import the units first" in err
    code, out, err = taian("import", "units", ROOT / "taian_tui" / "demo" / "data" / "units.csv", "--db", db, "--as", "system:import")
    assert code == 0, err
    assert "inserted 60" in out
    code, out, err = taian("import", "routing", ROOT / "taian_tui" / "demo" / "data" / "routing_rules.csv", "--db", db,
                           "--as", "system:import")
    assert code == 0, err
    with Store(db) as s:
        assert len(s.units(["county", "zone", "department"])) == 58
        assert s.counties()[:6] == ["泰山区", "岱岳区", "新泰市", "肥城市", "宁阳县", "东平县"]
        rules = s.scalar("SELECT COUNT(*) FROM routing_rules")
        assert f"inserted {rules}" in out and rules > 50
        assert wf.route_unit(s, "land", "泰山区") == "zrzy"
        assert s.verify_audit().ok
    # twice: nothing changes, no new audit rows but the imports' own
    code, out, _ = taian("import", "units", ROOT / "taian_tui" / "demo" / "data" / "units.csv", "--db", db, "--as", "system:import")
    assert code == 0 and "inserted 0, updated 0, unchanged 60" in out
    code, out, _ = taian("import", "enterprises", ROOT / "fixtures" / "import" / "enterprises_base.csv",
                         "--db", db, "--as", "system:import")
    assert code == 0 and "inserted 5" in out


def test_units_in_chinese_from_a_gbk_file(store, tmp_path, audit_count):
    path = tmp_path / "units.csv"
    path.write_bytes("代码,单位名称,类型,负责人,负责人手机\r\n"
                     "xinqu,泰安新区,功能区,赵某,13700000001\r\n"
                     "taishan,泰山区改名,县市区,,\r\n"
                     "bad code,某单位,市直部门,,\r\n"
                     "yjj,市应急管理局,局,,\r\n"
                     "sjj,,市直部门,,\r\n"
                     "fgw,市发展和改革委员会,市直部门,新主任,0538-1234567\r\n"
                     "xinqu,泰安新区,功能区,赵某,13700000001\r\n".encode("gbk"))
    n = audit_count()
    r = units.import_units(store, "admin", path)
    assert r.encoding == "gb18030"
    # the head's mobile gets the yellow cards' SMS: a landline (0538-1234567) is not one
    assert (r.rows, r.inserted, r.updated, r.unchanged, r.rejected, r.duplicates) == (7, 1, 0, 0, 5, 1)
    assert {(x.line, x.column) for x in r.rejections} == {(3, "代码"), (4, "代码"), (5, "类型"), (6, "单位名称"),
                                                          (7, "负责人手机")}
    reasons = {x.line: x.reason for x in r.rejections}
    assert "its name and kind stay as they are" in reasons[3]
    assert reasons[7] == ("mobile '0538-1234567' is not a mobile number: 11 digits beginning with 1 (the "
                          "reminder SMS go to it; a number that lost a digit or its leading 0 in Excel is not one)")
    assert store.unit("xinqu").kind == "zone" and "泰安新区" in store.counties()
    assert store.unit("taishan").name == "泰山区"
    assert store.unit("fgw").head_name != "新主任"
    actions = [row["action"] for row in store.all("SELECT action FROM audit WHERE id > ? ORDER BY id", (n,))]
    assert actions == ["unit.upsert", "import.units"]


def test_absent_head_columns_keep_the_units_head(store, tmp_path):
    before = store.unit("zrzy")
    path = tmp_path / "u.csv"
    path.write_text("code,name,kind\nzrzy,市自然资源和规划局（新）,department\n", encoding="utf-8")
    r = units.import_units(store, "system:import", path)
    assert r.updated == 1
    after = store.unit("zrzy")
    assert after.name == "市自然资源和规划局（新）" and after.head_name == before.head_name
    assert after.head_mobile == before.head_mobile


def test_routing_rules_by_label_name_or_code_and_bad_rows(store, tmp_path, dump):
    path = tmp_path / "routing.csv"
    path.write_text("类别,县市区,承办单位\n"
                    "能耗,泰山区,市工业和信息化局\n"
                    "fishing,泰山区,zrzy\n"
                    "land,北京,zrzy\n"
                    "land,泰山区,nowhere\n"
                    "土地,岱岳区,zrzy\n", encoding="utf-8")
    before = dump()
    r = routing.import_routing(store, "admin", path, dry_run=True)
    assert (r.inserted, r.unchanged, r.rejected, r.written) == (1, 1, 3, False) and dump() == before
    r = routing.import_routing(store, "admin", path, strict=True)
    assert r.rejected == 3 and not r.written and dump() == before
    r = routing.import_routing(store, "admin", path)
    assert (r.rows, r.inserted, r.updated, r.unchanged, r.rejected) == (5, 1, 0, 1, 3)
    assert {(x.line, x.column) for x in r.rejections} == {(3, "类别"), (4, "县市区"), (5, "承办单位")}
    assert wf.route_unit(store, "energy", "泰山区") == "gxj"
    assert r.exit_code == 1


def test_conflicting_rules_in_one_file_are_both_rejected(store, tmp_path):
    path = tmp_path / "routing.csv"
    path.write_text("category,county,unit\nland,泰山区,zrzy\n土地,泰山区,sthj\nenergy,泰山区,gxj\n",
                    encoding="utf-8")
    r = routing.import_routing(store, "admin", path)
    assert (r.inserted, r.rejected) == (1, 2)
    assert [x.line for x in r.rejections] == [2, 3] and all("conflict" in x.reason for x in r.rejections)
    assert wf.route_unit(store, "land", "泰山区") is None


@pytest.mark.parametrize("fn, task", [(units.import_units, "only admin may manage units"),
                                      (routing.import_routing, "only admin may change routing rules")])
def test_only_the_admin_imports_units_and_rules(store, unchanged, fn, task):
    with unchanged(), pytest.raises(PermissionDenied, match=task):
        fn(store, "zrzy1", ROOT / "taian_tui" / "demo" / "data" / "units.csv")


def test_a_routing_rule_set_again_writes_nothing(store, audit_count):
    assert wf.set_routing_rule(store, "admin", "energy", "泰山区", "gxj") == "inserted"
    n = audit_count()
    assert wf.set_routing_rule(store, "admin", "能耗", "泰山区", "市工业和信息化局") == "unchanged"
    assert audit_count() == n
    assert wf.set_routing_rule(store, "admin", "energy", "泰山区", "fgw") == "updated"


def test_a_routing_rules_county_by_its_unit_code_as_enterprises_name_it(store, tmp_path):
    """The county column takes a county's name or its unit code, as the enterprises import does
    (taishan is 泰山区); the rule is stored by the county's name."""
    path = tmp_path / "routing.csv"
    path.write_text("category,county,unit\nenergy,taishan,gxj\nland,nowhere,zrzy\n", encoding="utf-8")
    r = routing.import_routing(store, "admin", path)
    assert (r.rows, r.inserted, r.rejected) == (2, 1, 1)
    assert [(x.line, x.column, x.value) for x in r.rejections] == [(3, "county", "nowhere")]
    assert wf.route_unit(store, "energy", "泰山区") == "gxj"
    assert store.scalar("SELECT COUNT(*) FROM routing_rules WHERE county = 'taishan'") == 0
