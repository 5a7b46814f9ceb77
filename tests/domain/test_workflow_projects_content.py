"""Projects (library applications, progress), the policy editor's content and daily
listen, and administration (users, units, routing rules)."""
from __future__ import annotations

import json

import pytest

from taian_tui.domain import operations as wf
from taian_tui.domain.refusals import InvalidTransition, NotFound, PermissionDenied, ValidationError

T = "2026-10-08T09:00:00+08:00"


def audit_of(store, entity, ref):
    rows = store.audit_rows(entity, ref)
    assert rows
    r = rows[-1]
    return r, json.loads(r.before), json.loads(r.after)


# -- projects ---------------------------------------------------------------------------------
def test_fixture_project(store, city):
    p = store.project(city.project_ref)
    assert p.library == "applied"
    assert p.unit_code == "daiyue"
    assert p.county == "岱岳区"
    assert p.investment_wan == 12000
    row, before, after = audit_of(store, "project", city.project_ref)
    assert (row.actor, row.action) == ("system:intake", "project.apply")
    assert before == {}
    assert after["ref"] == city.project_ref and after["library"] == "applied"


def apply(store, who="admin", **kw):
    data = dict(ref="P-0002", enterprise_uscc=kw.pop("uscc", None), name="智能制造产业园",
                county="泰山区", category="新旧动能转换项目", investment_wan=50000,
                planned_start="2026-11-01", planned_finish="2028-12-31", at=T)
    data.update(kw)
    return wf.apply_project(store, who, **data)


def test_apply_project(store, city):
    p = apply(store, uscc=city.uscc)
    assert (p.ref, p.library, p.unit_code, p.stage, p.applied_at) == ("P-0002", "applied", "taishan", "前期", T)
    assert p.planned_start == "2026-11-01"
    assert p.category == "新旧动能转换项目"


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(county="火星"), ValidationError, "unknown county"),
    (dict(category="不存在"), ValidationError, "unknown project category"),
    (dict(stage="拆除"), ValidationError, "unknown stage"),
    (dict(investment_wan=-1), ValidationError,
     r"^investment_wan must be a finite number from 0 to 100,000,000, not -1$"),
    (dict(investment_wan=float("nan")), ValidationError,
     r"^investment_wan must be a finite number from 0 to 100,000,000, not nan$"),
    (dict(investment_wan=float("inf")), ValidationError,
     r"^investment_wan must be a finite number from 0 to 100,000,000, not inf$"),
    (dict(investment_wan=100_000_001), ValidationError,
     r"^investment_wan must be a finite number from 0 to 100,000,000, not 100000001$"),
    (dict(investment_wan="很多"), ValidationError, "must be a number"),
    (dict(name=""), ValidationError, "name is required"),
    (dict(ref="P-0001"), ValidationError, "project P-0001 already exists"),
    (dict(uscc="91370900MA3C99999X"), NotFound, "no such enterprise"),
])
def test_apply_project_invalid(store, city, unchanged, kwargs, exc, match):
    kwargs.setdefault("uscc", city.uscc)
    with unchanged(), pytest.raises(exc, match=match):
        apply(store, **kwargs)


@pytest.mark.parametrize("who", ["zrzy1", "ducha1", "shizhang", "system:escalate"])
def test_apply_project_wrong_actor(store, city, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="register project applications"):
        apply(store, who=who, uscc=city.uscc)


@pytest.mark.parametrize("decision, reason", [("city", ""), ("province", "省重点"), ("rejected", "不符合条件")])
def test_review_project(store, city, decision, reason):
    p = wf.review_project(store, "admin", city.project_ref, decision, reason, at=T)
    assert p.library == decision
    assert p.library_reason == reason
    row, before, after = audit_of(store, "project", city.project_ref)
    assert (row.actor, row.action) == ("admin", "project.review")
    assert before == {"library": "applied"}
    assert after == {"library": decision, "reason": reason}


def test_reject_needs_a_reason(store, city, unchanged):
    with unchanged(), pytest.raises(ValidationError, match="a rejection needs a reason"):
        wf.review_project(store, "admin", city.project_ref, "rejected", "  ")


def test_review_bad_decision(store, city, unchanged):
    with unchanged(), pytest.raises(ValidationError, match="decision must be city, province or rejected"):
        wf.review_project(store, "admin", city.project_ref, "applied")


def test_project_decided_once(store, city, unchanged):
    wf.review_project(store, "admin", city.project_ref, "city", at=T)
    with unchanged(), pytest.raises(InvalidTransition, match="already decided \\(city key\\)"):
        wf.review_project(store, "admin", city.project_ref, "province")


@pytest.mark.parametrize("who", ["daiyue1", "ducha1", "shizhang", "bianji", "system:intake"])
def test_review_project_is_admin_only(store, city, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="review project-library applications"):
        wf.review_project(store, who, city.project_ref, "city")


def test_review_unknown_project(store, unchanged):
    with unchanged(), pytest.raises(NotFound):
        wf.review_project(store, "admin", "P-NONE", "city")


def test_admin_marks_a_project_visualised_and_takes_the_mark_off(store, city):
    ref = city.project_ref
    assert store.project(ref).visualised == 0
    p = wf.set_project_visualised(store, "admin", ref, True, at=T)
    assert p.visualised == 1 and store.project(ref).visualised == 1
    row, before, after = audit_of(store, "project", ref)
    assert (row.actor, row.action, before, after) == ("admin", "project.visualise", {"visualised": False},
                                                      {"visualised": True})
    n = len(store.audit_rows("project", ref))
    wf.set_project_visualised(store, "admin", ref, True, at=T)          # already so: nothing written
    assert len(store.audit_rows("project", ref)) == n
    assert wf.set_project_visualised(store, "admin", ref, False, at=T).visualised == 0
    assert audit_of(store, "project", ref)[2] == {"visualised": False}
    assert store.verify_audit().ok


@pytest.mark.parametrize("who", ["daiyue1", "ducha1", "shizhang", "bianji", "system:intake"])
def test_visualised_flag_is_admin_only(store, city, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match=r"mark projects as visualised \(可视化\)"):
        wf.set_project_visualised(store, who, city.project_ref, True, at=T)


def test_visualised_flag_of_an_unknown_project(store, unchanged):
    with unchanged(), pytest.raises(NotFound):
        wf.set_project_visualised(store, "admin", "P-NONE", True, at=T)


def test_report_progress_by_the_projects_liaison(store, city):
    p = wf.report_progress(store, "daiyue1", city.project_ref, 45, 5400, "主体完工", stage="在建", at=T)
    assert (p.percent, p.invested_wan, p.stage) == (45, 5400, "在建")
    reports = store.all("SELECT * FROM progress_reports WHERE project_ref = ?", (city.project_ref,))
    assert len(reports) == 1
    r = dict(reports[0])
    assert (r["date"], r["percent"], r["invested_wan"], r["note"], r["reported_by"]) == \
        ("2026-10-08", 45, 5400, "主体完工", "daiyue1")
    row, before, after = audit_of(store, "project", city.project_ref)
    assert (row.actor, row.action) == ("daiyue1", "project.progress")
    assert before == {"percent": 0, "invested_wan": 0, "stage": "前期"}
    assert after["percent"] == 45 and after["stage"] == "在建"


def test_older_report_does_not_override_the_latest(store, city):
    wf.report_progress(store, "daiyue1", city.project_ref, 60, 7000, date="2026-10-01", at=T)
    p = wf.report_progress(store, "daiyue1", city.project_ref, 30, 3000, date="2026-09-01", at=T)
    assert p.percent == 60 and p.invested_wan == 7000


@pytest.mark.parametrize("who", ["admin", "system:intake", "system:import"])
def test_report_progress_other_allowed_actors(store, city, who):
    assert wf.report_progress(store, who, city.project_ref, 10, 100, at=T).percent == 10


def test_report_progress_other_units_liaison_refused(store, city, unchanged):
    with unchanged(), pytest.raises(PermissionDenied) as exc:
        wf.report_progress(store, "zrzy1", city.project_ref, 10, 100, at=T)
    msg = str(exc.value)
    assert "市自然资源和规划局" in msg and "岱岳区" in msg


@pytest.mark.parametrize("who", ["ducha1", "shizhang", "bianji", "system:escalate"])
def test_report_progress_wrong_role(store, city, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="report project progress"):
        wf.report_progress(store, who, city.project_ref, 10, 100, at=T)


@pytest.mark.parametrize("percent, invested, kw, match", [
    (-0.1, 0, {}, "percent must be between 0 and 100"),
    (100.5, 0, {}, "percent must be between 0 and 100"),
    ("abc", 0, {}, "must be numbers"),
    (50, -1, {}, r"^invested_wan must be a finite number from 0 to 100,000,000, not -1$"),
    (50, float("nan"), {}, r"^invested_wan must be a finite number from 0 to 100,000,000, not nan$"),
    (float("nan"), 1, {}, r"^percent must be between 0 and 100, not nan$"),
    (50, 1, {"stage": "烂尾"}, "unknown stage"),
    (50, 1, {"date": "10/08"}, "date must be YYYY-MM-DD"),
])
def test_report_progress_invalid(store, city, unchanged, percent, invested, kw, match):
    with unchanged(), pytest.raises(ValidationError, match=match):
        wf.report_progress(store, "daiyue1", city.project_ref, percent, invested, at=T, **kw)


@pytest.mark.parametrize("percent", [0, 100])
def test_report_progress_bounds_inclusive(store, city, percent):
    assert wf.report_progress(store, "daiyue1", city.project_ref, percent, 0, at=T).percent == percent


def test_report_progress_unknown_project(store, unchanged):
    with unchanged(), pytest.raises(NotFound):
        wf.report_progress(store, "admin", "P-NONE", 10, 0, at=T)


# -- content ----------------------------------------------------------------------------------
def draft(store, who="bianji", **kw):
    data = dict(kind="policy", level="市", title="泰安市支持重大项目建设若干措施",
                body="# 措施\n\n一、用地保障", source_unit="市发展和改革委员会", tags="用地,金融", at=T)
    data.update(kw)
    return wf.draft_content(store, who, **data)


def test_draft_content(store):
    c = draft(store)
    assert (c.kind, c.level, c.state, c.created_by, c.created_at, c.updated_at) == \
        ("policy", "市", "draft", "bianji", T, T)
    assert c.body == "# 措施\n\n一、用地保障"
    assert c.published_at is None
    row, before, after = audit_of(store, "content", c.id)
    assert (row.actor, row.action) == ("bianji", "content.draft")
    assert after == {"kind": "policy", "level": "市", "title": "泰安市支持重大项目建设若干措施"}


def test_admin_may_write_content(store):
    assert draft(store, who="admin").created_by == "admin"


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="blog"), "kind must be one of"),
    (dict(level="乡"), "level must be one of"),
    (dict(title=""), "title is required"),
])
def test_draft_content_invalid(store, unchanged, kwargs, match):
    with unchanged(), pytest.raises(ValidationError, match=match):
        draft(store, **kwargs)


@pytest.mark.parametrize("who", ["zrzy1", "ducha1", "shizhang", "jiwei1"])
def test_content_is_for_editors(store, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="only editor or admin may write content"):
        draft(store, who=who)
    c = draft(store)
    with unchanged(), pytest.raises(PermissionDenied, match="edit content"):
        wf.update_content(store, who, c.id, title="新标题")
    with unchanged(), pytest.raises(PermissionDenied, match="publish content"):
        wf.publish_content(store, who, c.id)
    with unchanged(), pytest.raises(PermissionDenied, match="archive content"):
        wf.archive_content(store, who, c.id)
    wf.publish_content(store, "bianji", c.id, at=T)
    with unchanged(), pytest.raises(PermissionDenied, match="unpublish content"):
        wf.unpublish_content(store, who, c.id)
    with unchanged(), pytest.raises(PermissionDenied, match="daily listen"):
        wf.pick_daily_listen(store, who, "2026-10-08", c.id)


def test_update_content(store):
    c = draft(store)
    u = wf.update_content(store, "bianji", c.id, title="新标题", tags="用地", at="2026-10-09T09:00:00+08:00")
    assert u.title == "新标题" and u.tags == "用地"
    assert u.updated_at == "2026-10-09T09:00:00+08:00"
    assert u.body == c.body
    row, before, after = audit_of(store, "content", c.id)
    assert (row.actor, row.action) == ("bianji", "content.edit")
    assert before == {"title": "泰安市支持重大项目建设若干措施", "tags": "用地,金融"}
    assert after == {"title": "新标题", "tags": "用地", "updated_at": "2026-10-09T09:00:00+08:00"}


def test_update_content_without_change_writes_nothing(store, unchanged):
    c = draft(store)
    with unchanged():
        assert wf.update_content(store, "bianji", c.id, title=c.title) == c


def test_update_content_refusals(store, unchanged):
    c = draft(store)
    with unchanged(), pytest.raises(ValidationError, match="unknown content fields: state"):
        wf.update_content(store, "bianji", c.id, state="published")
    with unchanged(), pytest.raises(ValidationError, match="level must be one of"):
        wf.update_content(store, "bianji", c.id, level="乡")
    with unchanged(), pytest.raises(NotFound):
        wf.update_content(store, "bianji", 999, title="x")
    wf.archive_content(store, "bianji", c.id, at=T)
    with unchanged(), pytest.raises(InvalidTransition, match="archived and can no longer be edited"):
        wf.update_content(store, "bianji", c.id, title="x")


def test_publish_unpublish_archive(store):
    c = draft(store)
    p = wf.publish_content(store, "bianji", c.id, at="2026-10-09T09:00:00+08:00")
    assert p.state == "published" and p.published_at == "2026-10-09T09:00:00+08:00"
    row, before, after = audit_of(store, "content", c.id)
    assert (row.action, before, after) == ("content.publish", {"state": "draft"}, {"state": "published"})
    u = wf.unpublish_content(store, "bianji", c.id, at="2026-10-10T09:00:00+08:00")
    assert u.state == "draft"
    row, before, after = audit_of(store, "content", c.id)
    assert (row.action, before, after) == ("content.unpublish", {"state": "published"}, {"state": "draft"})
    wf.publish_content(store, "admin", c.id, at="2026-10-11T09:00:00+08:00")
    a = wf.archive_content(store, "bianji", c.id, at="2026-10-12T09:00:00+08:00")
    assert a.state == "archived" and a.archived_at == "2026-10-12T09:00:00+08:00"
    row, before, after = audit_of(store, "content", c.id)
    assert (row.action, before, after) == ("content.archive", {"state": "published"}, {"state": "archived"})


def test_content_wrong_state(store, unchanged):
    c = draft(store)
    with unchanged(), pytest.raises(InvalidTransition, match=f"cannot unpublish content {c.id}: it is draft"):
        wf.unpublish_content(store, "bianji", c.id)
    wf.publish_content(store, "bianji", c.id, at=T)
    with unchanged(), pytest.raises(InvalidTransition, match="cannot publish content .*: it is published"):
        wf.publish_content(store, "bianji", c.id)
    wf.archive_content(store, "bianji", c.id, at=T)
    for op in (wf.publish_content, wf.unpublish_content, wf.archive_content):
        with unchanged(), pytest.raises(InvalidTransition, match="it is archived"):
            op(store, "bianji", c.id)
    with unchanged(), pytest.raises(NotFound):
        wf.publish_content(store, "bianji", 999)


def test_pick_daily_listen(store):
    c1 = draft(store)
    c2 = draft(store, title="第二篇")
    wf.publish_content(store, "bianji", c1.id, at=T)
    wf.publish_content(store, "bianji", c2.id, at=T)
    wf.pick_daily_listen(store, "bianji", "2026-10-08", c1.id, at=T)
    assert dict(store.one("SELECT * FROM daily_listen WHERE date = '2026-10-08'")) == \
        {"date": "2026-10-08", "content_id": c1.id, "chosen_by": "bianji", "chosen_at": T, "audio_path": None,
         "audio_hash": None, "audio_seconds": None, "audio_bytes": None, "audio_built_at": None}
    row, before, after = audit_of(store, "daily_listen", "2026-10-08")
    assert (row.action, before, after) == ("content.daily_listen", {"content_id": None}, {"content_id": c1.id})
    wf.pick_daily_listen(store, "admin", "2026-10-08", c2.id, at="2026-10-08T10:00:00+08:00")
    assert store.scalar("SELECT content_id FROM daily_listen WHERE date = '2026-10-08'") == c2.id
    assert store.scalar("SELECT COUNT(*) FROM daily_listen") == 1
    row, before, after = audit_of(store, "daily_listen", "2026-10-08")
    assert (before, after) == ({"content_id": c1.id}, {"content_id": c2.id})


def test_daily_listen_only_published(store, unchanged):
    c = draft(store)
    with unchanged(), pytest.raises(InvalidTransition, match="only published content"):
        wf.pick_daily_listen(store, "bianji", "2026-10-08", c.id, at=T)
    wf.publish_content(store, "bianji", c.id, at=T)
    wf.archive_content(store, "bianji", c.id, at=T)
    with unchanged(), pytest.raises(InvalidTransition, match="is archived"):
        wf.pick_daily_listen(store, "bianji", "2026-10-08", c.id, at=T)
    with unchanged(), pytest.raises(ValidationError, match="day must be YYYY-MM-DD"):
        wf.pick_daily_listen(store, "bianji", "10/08", c.id)
    with unchanged(), pytest.raises(NotFound):
        wf.pick_daily_listen(store, "bianji", "2026-10-08", 999)


# -- users, units, routing --------------------------------------------------------------------
def test_fixture_users(store):
    lead = store.user("daiyue-lead")
    assert (lead.role, lead.unit_code, lead.scope) == ("leader", "daiyue", "unit")
    mayor = store.user("shizhang")
    assert (mayor.role, mayor.unit_code, mayor.scope) == ("leader", None, "city")
    assert [u.username for u in store.users("liaison")] == ["daiyue1", "sthj1", "zrzy1"]
    assert all(u.mobile for u in store.users())


def test_upsert_user_inserted_updated_unchanged(store):
    assert wf.upsert_user(store, "admin", "zrzy2", "新联络员", "liaison", unit_code="zrzy",
                          mobile="13900000000", at=T) == "inserted"
    u = store.user("zrzy2")
    assert (u.role, u.unit_code, u.mobile, u.active) == ("liaison", "zrzy", "13900000000", 1)
    row, before, after = audit_of(store, "user", "zrzy2")
    assert (row.actor, row.action, before) == ("admin", "user.upsert", {})
    assert after["role"] == "liaison" and after["unit_code"] == "zrzy"

    n = store.scalar("SELECT COUNT(*) FROM audit")
    assert wf.upsert_user(store, "admin", "zrzy2", "新联络员", "liaison", unit_code="zrzy",
                          mobile="13900000000", at=T) == "unchanged"
    assert store.scalar("SELECT COUNT(*) FROM audit") == n

    assert wf.upsert_user(store, "admin", "zrzy2", "新联络员", "liaison", unit_code="市自然资源和规划局",
                          mobile="13900000001", at=T) == "updated"
    assert store.user("zrzy2").mobile == "13900000001"
    assert store.user("zrzy2").unit_code == "zrzy"
    row, before, after = audit_of(store, "user", "zrzy2")
    assert (before, after) == ({"mobile": "13900000000"}, {"mobile": "13900000001"})


def test_upsert_keeps_a_deactivated_account_deactivated(store):
    # (an accounts file re-imported by cron reopened a deactivated account, and its key
    # worked again): only ``set_user_active`` activates it
    store.conn.execute("UPDATE users SET active = 0 WHERE username = 'sthj1'")
    assert wf.upsert_user(store, "admin", "sthj1", "生态环境联络员", "liaison", unit_code="sthj",
                          mobile="13800000003", at=T) == "unchanged"
    assert wf.upsert_user(store, "admin", "sthj1", "生态环境联络员", "liaison", unit_code="sthj",
                          mobile="13800000033", at=T) == "updated"
    assert (store.user("sthj1").active, store.user("sthj1").mobile) == (0, "13800000033")
    assert wf.set_user_active(store, "admin", "sthj1", True, at=T) == "updated"
    assert store.user("sthj1").active == 1


def test_a_username_typed_full_width_is_stored_half_width(store):
    assert wf.upsert_user(store, "admin", "ｑｉａｎ４", "钱四", "liaison", unit_code="zrzy",
                          mobile="１３９０５３８１２３７", at=T) == "inserted"
    assert (store.user("qian4").name, store.user("qian4").mobile) == ("钱四", "13905381237")


def test_the_last_liaison_of_a_unit_with_open_appeals_is_not_deactivated(store, make_appeal, unchanged):
    a = make_appeal("accepted")                        # zrzy's; zrzy1 is its only liaison
    with unchanged(), pytest.raises(InvalidTransition) as refused:
        wf.set_user_active(store, "admin", "zrzy1", False, at=T)
    assert str(refused.value) == ("zrzy1 is the last active liaison (with a mobile) of 市自然资源和规划局, which "
                                  "has 1 open appeals: their reminders would reach nobody; add or activate "
                                  "another liaison first")
    wf.upsert_user(store, "admin", "zrzy9", "新联络员", "liaison", unit_code="zrzy", mobile="13900000009", at=T)
    assert wf.set_user_active(store, "admin", "zrzy1", False, at=T) == "updated"
    assert a.unit_code == "zrzy"


@pytest.mark.parametrize("args, kw, exc, match", [
    (("x1", "名", "boss"), {}, ValidationError, "role must be one of"),
    (("x1", "名", "liaison"), {}, ValidationError, "a liaison belongs to a unit"),
    (("", "名", "admin"), {}, ValidationError, "username is required"),
    (("x1", "名", "liaison"), {"unit_code": "nowhere"}, NotFound, "no such unit"),
])
def test_upsert_user_invalid(store, unchanged, args, kw, exc, match):
    with unchanged(), pytest.raises(exc, match=match):
        wf.upsert_user(store, "admin", *args, **kw)


@pytest.mark.parametrize("who", ["zrzy1", "ducha1", "shizhang", "system:intake"])
def test_upsert_user_is_admin_only(store, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="manage users"):
        wf.upsert_user(store, who, "x1", "名", "admin")


def test_add_unit(store):
    wf.add_unit(store, "admin", "newzone", "泰安新区", "zone", head_name="某某", head_mobile="13700000000", at=T)
    assert store.unit("newzone").name == "泰安新区"
    assert "泰安新区" in store.counties()
    row, _, after = audit_of(store, "unit", "newzone")
    assert (row.actor, row.action) == ("admin", "unit.add")


def test_add_unit_admin_only(store, unchanged):
    with unchanged(), pytest.raises(PermissionDenied, match="manage units"):
        wf.add_unit(store, "zrzy1", "x", "某单位", "department")


def test_fixture_units_and_counties(store):
    assert len(store.units()) == 60
    assert len(store.units(["county", "zone", "department"])) == 58
    assert store.counties()[:6] == ["泰山区", "岱岳区", "新泰市", "肥城市", "宁阳县", "东平县"]
    assert store.unit("岱岳区").code == "daiyue"


def test_set_routing_rule(store, submit):
    wf.set_routing_rule(store, "admin", "能耗", "泰山区", "gxj", at=T)
    assert wf.route_unit(store, "energy", "泰山区") == "gxj"
    row, before, after = audit_of(store, "routing_rule", "energy:泰山区")
    assert (row.actor, row.action, before, after) == ("admin", "routing.set", {"unit_code": None},
                                                      {"unit_code": "gxj"})
    assert submit(category="energy", county="泰山区").unit_code == "gxj"
    wf.set_routing_rule(store, "admin", "energy", "泰山区", "fgw", at=T)
    row, before, after = audit_of(store, "routing_rule", "energy:泰山区")
    assert (before, after) == ({"unit_code": "gxj"}, {"unit_code": "fgw"})


@pytest.mark.parametrize("args, exc, match", [
    (("能源", "泰山区", "gxj"), ValidationError, "unknown category"),
    (("energy", "北京", "gxj"), ValidationError, "unknown county"),
    (("energy", "泰山区", "nowhere"), NotFound, "no such unit"),
])
def test_set_routing_rule_invalid(store, unchanged, args, exc, match):
    with unchanged(), pytest.raises(exc, match=match):
        wf.set_routing_rule(store, "admin", *args)


@pytest.mark.parametrize("who", ["zrzy1", "ducha1", "system:intake"])
def test_set_routing_rule_admin_only(store, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="change routing rules"):
        wf.set_routing_rule(store, who, "energy", "泰山区", "gxj")


# -- input the store should refuse with a DomainError (found by these tests) -------------------
def test_upsert_user_bad_scope_is_a_validation_error(store, unchanged):
    with unchanged(), pytest.raises(ValidationError, match="scope"):
        wf.upsert_user(store, "admin", "lead2", "县长", "leader", unit_code="daiyue", scope="county")


def test_add_unit_duplicate_code_is_a_validation_error(store, unchanged):
    with unchanged(), pytest.raises(ValidationError, match="zrzy"):
        wf.add_unit(store, "admin", "zrzy", "另一个自然资源局", "department")


def test_add_unit_bad_kind_is_a_validation_error(store, unchanged):
    with unchanged(), pytest.raises(ValidationError, match="kind"):
        wf.add_unit(store, "admin", "newu", "新单位", "ministry")


def test_apply_project_bad_planned_date_is_refused(store, city, unchanged):
    with unchanged(), pytest.raises(ValidationError, match="planned_start"):
        apply(store, uscc=city.uscc, planned_start="tomorrow")


def test_upsert_user_cleans_the_mobile(store):
    wf.upsert_user(store, "admin", "m1", "联络员", "liaison", unit_code="zrzy", mobile="\x1b[2J138 0000 1111")
    assert store.user("m1").mobile == "13800001111"


def test_daily_listen_at_most_a_month_ahead(store, unchanged):
    # T is 2026-10-08: 31 days on is 2026-11-08, the last day that may be chosen
    c = draft(store)
    wf.publish_content(store, "bianji", c.id, at=T)
    wf.pick_daily_listen(store, "bianji", "2026-11-08", c.id, at=T)
    assert store.scalar("SELECT content_id FROM daily_listen WHERE date = '2026-11-08'") == c.id
    with unchanged(), pytest.raises(ValidationError) as exc:
        wf.pick_daily_listen(store, "bianji", "2099-12-31", c.id, at=T)
    assert str(exc.value) == ("cannot choose the daily listen of 2099-12-31: at most 31 days ahead "
                              "(until 2026-11-08)")
