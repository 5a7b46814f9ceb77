"""The demo city: contents, situations as of today, the audit chain, determinism."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import uscc

from taian_tui.demo import city as demo
from taian_tui.demo import datafiles, names
from taian_tui.store import Store

TODAY = "2026-11-27T09:00:00+08:00"        # a Friday, a working day
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def built(demo_db):
    store = Store(str(demo_db))
    counts = demo.demo_counts(store)
    yield demo_db, counts, store
    store.close()


def test_units_and_users(built):
    _, counts, s = built
    assert s.scalar("SELECT COUNT(*) FROM units WHERE kind IN ('county','zone','department')") == 58
    assert s.scalar("SELECT COUNT(*) FROM units WHERE code = 'dcs' AND kind = 'supervision'") == 1
    assert s.scalar("SELECT COUNT(*) FROM units WHERE code = 'jwjw' AND kind = 'discipline'") == 1
    # every handling unit has a liaison, and every user a mobile number
    assert s.scalar("SELECT COUNT(*) FROM units n WHERE kind IN ('county','zone','department') AND NOT EXISTS "
                    "(SELECT 1 FROM users u WHERE u.unit_code = n.code AND u.role = 'liaison')") == 0
    assert s.scalar("SELECT COUNT(*) FROM users WHERE mobile NOT GLOB '1[358][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'"
                    " AND username NOT LIKE '%-lead'") == 0
    roles = {r[0]: r[1] for r in s.all("SELECT username, role FROM users")}
    assert roles["admin"] == "admin" and roles["shizhang"] == "leader" and roles["changwu"] == "leader"
    assert roles["ducha1"] == roles["ducha2"] == "supervisor" and roles["jiwei1"] == "discipline"
    assert roles["bianji"] == "editor" and roles["taishan1"] == "liaison" and roles["taishan-lead"] == "leader"
    assert s.user("taishan-lead").scope == "unit" and s.user("shizhang").scope == "city"


def test_routing_rules_leave_some_to_dispatch(built):
    _, counts, s = built
    rules = {(r[0], r[1]): r[2] for r in s.all("SELECT category, county, unit_code FROM routing_rules")}
    assert rules[("land", "岱岳区")] == "zrzy" and rules[("environment", "新泰市")] == "sthj"
    assert rules[("infrastructure", "东平县")] == "zjj"
    assert rules[("infrastructure", "泰安高新技术产业开发区")] == "gaoxin"
    assert rules[("other", "肥城市")] == "feicheng"
    assert ("other", "泰山景区") not in rules and ("other", "徂汶景区") not in rules
    assert len(rules) == counts["routing_rules"] == 66


def test_routing_fixture_matches_the_code():
    assert datafiles.read_routing_rules() == datafiles.default_routing_rules(datafiles.read_units())


def test_enterprises(built):
    _, _, s = built
    rows = s.all("SELECT uscc, county, phone, tags FROM enterprises")
    assert len(rows) == 1428
    counties = set(s.counties())
    for r in rows:
        code = r["uscc"]
        assert uscc.is_valid(code), code
        assert code[:2] == "91"
        assert code[16] == names.org_code_check(code[8:16]), code   # the organisation code's own check
        assert r["county"] in counties
        assert set(filter(None, r["tags"].split(","))) <= set(names.TAGS)
    assert any(r["phone"].startswith("0538-") for r in rows)
    assert s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'demo.enterprises'") == 1


def test_projects(built):
    _, _, s = built
    assert s.scalar("SELECT COUNT(*) FROM projects") == 437
    assert s.scalar("SELECT COUNT(*) FROM projects WHERE visualised = 1") == 50
    levels = {r[0]: r[1] for r in s.all("SELECT library, COUNT(*) FROM projects GROUP BY library")}
    assert set(levels) == {"applied", "city", "province", "rejected"}
    assert s.scalar("SELECT COUNT(*) FROM projects WHERE library = 'rejected' AND library_reason = ''") == 0
    stages = {r[0] for r in s.all("SELECT DISTINCT stage FROM projects")}
    assert stages == {"前期", "在建", "竣工", "投产"}
    assert s.scalar("SELECT MIN(investment_wan) FROM projects") >= 500
    assert s.scalar("SELECT MAX(investment_wan) FROM projects") <= 500000


def test_appeals_cover_every_situation(built):
    _, _, s = built
    n = s.scalar("SELECT COUNT(*) FROM appeals")
    assert 1900 <= n <= 2100
    states = {r[0] for r in s.all("SELECT DISTINCT state FROM appeals")}
    assert states == {"submitted", "assigned", "accepted", "answered", "disputed", "returned", "closed"}
    cards = {r[0] for r in s.all("SELECT DISTINCT card FROM appeals WHERE card != ''")}
    assert cards == {"blue", "yellow", "red"}
    # as of today: blue due today, yellow with an open order, red past the order's due time
    assert s.scalar("SELECT COUNT(*) FROM appeals WHERE state IN ('assigned','accepted') AND card = 'blue' "
                    "AND blue_at = '2026-11-27T00:00:00+08:00'") >= 5
    assert s.scalar("SELECT COUNT(*) FROM appeals a JOIN supervision_orders o ON o.appeal_id = a.id "
                    "WHERE o.state = 'open' AND a.card = 'yellow' AND o.due_at > ?", (TODAY,)) >= 5
    assert s.scalar("SELECT COUNT(*) FROM appeals a JOIN supervision_orders o ON o.appeal_id = a.id "
                    "WHERE o.state = 'open' AND a.card = 'red' AND o.due_at < ?", (TODAY,)) >= 5
    assert s.scalar("SELECT COUNT(*) FROM card_events WHERE card = 'red' AND taken_up_by = 'jiwei1'") >= 3
    assert s.scalar("SELECT COUNT(*) FROM supervision_orders WHERE state = 'open'") > 0
    assert s.scalar("SELECT COUNT(*) FROM supervision_orders WHERE origin = 'manual'") > 0
    assert s.scalar("SELECT COUNT(*) FROM supervision_orders WHERE origin = 'dispute'") > 0
    ext = {r[0] for r in s.all("SELECT DISTINCT state FROM extensions")}
    assert ext == {"pending", "approved", "rejected"}
    assert s.scalar("SELECT COUNT(*) FROM appeals WHERE state = 'disputed'") > 0
    assert s.scalar("SELECT COUNT(*) FROM appeals WHERE state = 'submitted' AND unit_code IS NULL") > 0
    assert s.scalar("SELECT COUNT(*) FROM appeals WHERE project_ref IS NOT NULL") > 300
    # markup-like text survives as text; control characters were stripped by the store
    assert s.scalar("SELECT COUNT(*) FROM appeals WHERE title LIKE '%[red]紧急[/red]%'") == 1
    assert s.scalar("SELECT COUNT(*) FROM appeals WHERE title LIKE '%🚧%'") == 1
    assert s.scalar("SELECT COUNT(*) FROM appeals WHERE title GLOB '*[\x01-\x1f]*' OR "
                    "body GLOB '*[\x01-\x08\x0b-\x1f]*'") == 0


def test_nothing_happens_after_today(built):
    _, _, s = built
    for table, column in (("audit", "at"), ("appeals", "submitted_at"), ("appeals", "answered_at"),
                          ("appeals", "closed_at"), ("card_events", "applied_at"),
                          ("card_events", "taken_up_at"), ("extensions", "decided_at"),
                          ("instructions", "created_at"), ("content", "published_at"),
                          ("progress_reports", "created_at"), ("outbox", "created_at")):
        assert s.scalar(f"SELECT COUNT(*) FROM {table} WHERE {column} > ?", (TODAY,)) == 0, (table, column)
    # the sweep ran every morning, so cards were applied at realistic times
    assert s.scalar("SELECT COUNT(DISTINCT substr(applied_at, 1, 10)) FROM card_events") > 100


def test_content_and_instructions(built):
    _, _, s = built
    assert s.scalar("SELECT COUNT(*) FROM content") >= 600
    states = {r[0]: r[1] for r in s.all("SELECT state, COUNT(*) FROM content GROUP BY state")}
    assert set(states) == {"draft", "published", "archived"}
    assert states["published"] > states["draft"] + states["archived"]
    assert {r[0] for r in s.all("SELECT DISTINCT kind FROM content")} == {"policy", "investment", "department", "news"}
    assert s.scalar("SELECT COUNT(*) FROM daily_listen") == 30
    assert s.scalar("SELECT COUNT(*) FROM instructions WHERE replied_at IS NULL") > 0
    assert s.scalar("SELECT COUNT(*) FROM instructions WHERE replied_at IS NOT NULL") > 0
    assert s.scalar("SELECT COUNT(*) FROM instructions WHERE leader LIKE '%-lead'") > 0
    assert s.scalar("SELECT COUNT(*) FROM outbox WHERE reason = 'instruction'") > 0


def test_audit_chain_verifies(built):
    _, counts, s = built
    check = s.verify_audit()
    assert check.ok, check.reason
    assert check.rows == counts["audit_rows"] > 10000


def test_refuses_a_file_with_appeals(built):
    path, _, _ = built
    with pytest.raises(ValueError, match="already holds"):
        demo.build_demo(str(path), today=TODAY)


@pytest.mark.heavy
def test_same_seed_same_city(built, tmp_path):
    path, counts, s = built
    other = tmp_path / "again.db"
    again = demo.build_demo(str(other), today=TODAY)
    for key in ("appeals_by_state", "appeals_by_card", "audit_rows", "content", "instructions"):
        assert again[key] == counts[key]
    with Store(str(other)) as t:
        sql = "SELECT ref, state, unit_code, card FROM appeals ORDER BY ref"
        assert [tuple(r) for r in t.all(sql)] == [tuple(r) for r in s.all(sql)]
        head = "SELECT last_hash FROM audit_head"
        assert t.scalar(head) == s.scalar(head)


def test_enterprise_sample_fixture():
    raw = (FIXTURES / "enterprises_sample.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0]) == ["企业名称", "统一社会信用代码", "所属县市区", "行业", "企业标签", "联系人",
                             "联系电话", "注册地址"]
    assert len(rows) == 20
    assert all(uscc.is_valid(r["统一社会信用代码"]) for r in rows)
    assert any("," in r["企业标签"] for r in rows)
    assert any(r["联系电话"].startswith("0") for r in rows)


def test_demo_does_not_import_textual():
    code = "import sys, taian_tui.demo.city; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
