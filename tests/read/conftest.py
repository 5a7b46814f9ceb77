"""The read side's scenario: a small city built with the domain's operations on top of
tests/conftest.py's city (``scenario`` fixture; the DOMAIN example: an appeal reaching
its unit on Tue 2026-09-29 is due 2026-10-12 23:59:59), as of 2026-11-05 12:00:

市自然资源和规划局 (zrzy), land appeals:
  Z1  answered 09-30 (on time), 满意 10-08 -> closed, no order
  Z2  answered 10-14 (late): blue + yellow cards, a yellow supervision order; 基本满意 10-15
  Z3  never answered: blue, yellow (10-12), red (order due 10-19 passed)
  Z4  extension of 3 working days approved 10-09 -> due 10-15; answered 10-14 (on time)
  Z5  blue + yellow with zrzy (sweep 10-13 09:00), reassigned to sthj 10-13 10:00 (due
      10-20), answered by sthj 10-16, 满意 10-19 -> counts for sthj only
市生态环境局 (sthj), environment appeals:
  S1  answered 09-30, 不满意 10-08, supervisor: not the unit's fault -> closed 10-09
  S3  answered 09-30, 基本满意 10-08
岱岳区 (daiyue), other:
  D1  September only (arrived 09-01, due 09-08, answered 09-02, 满意 09-03)
  D3  answered 09-30, 不满意 10-08, unit at fault 10-09 -> order due 10-15, back to
      accepted; answered again 10-14, 满意 10-16
  D2  arrived 10-26, due 11-02, never answered (blue 11-02)
  D4  arrived 11-04, due 11-11, assigned

Hand-computed October (numerator/denominator):
            响应率      解决率      满意率      mean
  daiyue    1/1         0/1 (D3)    1/1         2/3 (lowest rate 0)
  zrzy      2/4 (Z1,Z4) 1/2 (Z1)    2/2         2/3 (lowest rate 0.5)
  sthj      3/3         3/3         2/3 (S1)    8/9
"""
from __future__ import annotations

import pytest

from taian_tui.domain import operations as wf
from taian_tui.domain.escalation import sweep

#: The scenario's as-of time and month (the test modules say the same).
AT = "2026-11-05T12:00:00+08:00"
OCT = "2026-10"


def t(day: str, hm: str = "10:00") -> str:
    return f"2026-{day}T{hm}:00+08:00"


def build_scenario(store, submit) -> None:
    """The small city of the module docstring (on top of conftest's city)."""
    # projects: P-0001 (fixture: 岱岳区, 12000, 前期) and four more
    for ref, county, inv, stage in (("P-0002", "泰山区", 5000, "在建"), ("P-0003", "岱岳区", 3000.5, "前期"),
                                    ("P-0004", "岱岳区", 8000, "前期"), ("P-0005", "新泰市", 2000, "前期")):
        wf.apply_project(store, "system:intake", ref=ref, enterprise_uscc=_uscc(store), name=f"项目{ref}",
                         county=county, category="市重点建设项目", investment_wan=inv, stage=stage,
                         at=t("09-02"))
    for ref, decision in (("P-0001", "city"), ("P-0002", "province"), ("P-0003", "city"),
                          ("P-0004", "rejected")):
        wf.review_project(store, "admin", ref, decision, "不符合入库条件" if decision == "rejected" else "",
                          at=t("09-03"))

    # September
    submit("D1", category="其他", at=t("09-01", "09:00"))
    wf.accept_appeal(store, "daiyue1", "D1", at=t("09-01"))
    wf.reply_appeal(store, "daiyue1", "D1", "已办理", at=t("09-02"))
    wf.evaluate_appeal(store, "system:intake", "D1", "满意", at=t("09-03"))

    # arrivals on Tue 09-29 (due 10-12 23:59:59)
    for ref, cat, liaison in (("Z1", "土地", "zrzy1"), ("Z2", "土地", "zrzy1"), ("Z3", "土地", "zrzy1"),
                              ("Z4", "土地", "zrzy1"), ("Z5", "土地", "zrzy1"), ("S1", "环评", "sthj1"),
                              ("S3", "环评", "sthj1"), ("D3", "其他", "daiyue1")):
        a = submit(ref, category=cat, at=t("09-29"))
        assert a.deadline == "2026-10-12T23:59:59+08:00"
        wf.accept_appeal(store, liaison, ref, at=t("09-29", "11:00"))
    for ref, liaison in (("Z1", "zrzy1"), ("S1", "sthj1"), ("S3", "sthj1"), ("D3", "daiyue1")):
        wf.reply_appeal(store, liaison, ref, "已答复", at=t("09-30"))
    wf.evaluate_appeal(store, "system:intake", "Z1", "满意", at=t("10-08"))
    wf.evaluate_appeal(store, "system:intake", "S1", "不满意", "没有解决", at=t("10-08"))
    wf.evaluate_appeal(store, "system:intake", "S3", "基本满意", at=t("10-08"))
    wf.evaluate_appeal(store, "system:intake", "D3", "不满意", "答复敷衍", at=t("10-08"))

    ext = wf.request_extension(store, "zrzy1", "Z4", 3, "需现场踏勘", at=t("10-09", "09:00"))
    wf.decide_extension(store, "ducha1", ext.id, True, at=t("10-09"))
    assert store.appeal("Z4").deadline == "2026-10-15T23:59:59+08:00"
    wf.review_dispute(store, "ducha1", "S1", False, "已依法依规答复", at=t("10-09"))
    d3 = wf.review_dispute(store, "ducha1", "D3", True, "请重新办理", at=t("10-09"))
    assert d3.deadline == "2026-10-15T23:59:59+08:00"   # 10-10 (make-up Sat), 12, 13, 14, 15

    sweep(store, t("10-13", "09:00"))                      # Z2, Z3, Z5: blue and yellow
    assert [store.appeal(r).card for r in ("Z2", "Z3", "Z5")] == ["yellow"] * 3
    wf.assign_appeal(store, "admin", "Z5", "sthj", note="属环保职责", at=t("10-13"))
    assert store.appeal("Z5").deadline == "2026-10-20T23:59:59+08:00"
    wf.accept_appeal(store, "sthj1", "Z5", at=t("10-13", "11:00"))

    wf.reply_appeal(store, "zrzy1", "Z2", "已答复（逾期）", at=t("10-14"))
    wf.reply_appeal(store, "zrzy1", "Z4", "已答复", at=t("10-14", "15:00"))
    wf.reply_appeal(store, "daiyue1", "D3", "重新答复", at=t("10-14"))
    wf.evaluate_appeal(store, "system:intake", "Z2", "基本满意", at=t("10-15"))
    wf.reply_appeal(store, "sthj1", "Z5", "已答复", at=t("10-16"))
    wf.evaluate_appeal(store, "system:intake", "D3", "满意", at=t("10-16"))
    wf.evaluate_appeal(store, "system:intake", "Z5", "满意", at=t("10-19"))
    sweep(store, t("10-20", "09:00"))                      # Z3: red
    assert store.appeal("Z3").card == "red"

    submit("D2", category="其他", at=t("10-26"))
    wf.accept_appeal(store, "daiyue1", "D2", at=t("10-26", "11:00"))
    sweep(store, t("11-02", "09:00"))                      # D2: blue
    submit("D4", category="其他", at=t("11-04"))
    assert store.appeal("D2").deadline == "2026-11-02T23:59:59+08:00"
    assert store.appeal("D4").deadline == "2026-11-11T23:59:59+08:00"


def _uscc(store) -> str:
    return store.scalar("SELECT uscc FROM enterprises LIMIT 1")


@pytest.fixture
def scenario(store, submit):
    """The store with the scenario of this module's docstring."""
    build_scenario(store, submit)
    return store
