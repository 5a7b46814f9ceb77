"""Whom a supervisor would call (issue 13, point 4): the appeal detail's contacts are the
unit's head and its active liaisons with their mobiles (units.csv: zrzy's head 褚文斌
13905381013; the fixture's liaison zrzy1 自然资源联络员 13800000002); the instruction picker
says where the SMS goes."""
from __future__ import annotations

from taian_tui.domain import actors
from taian_tui.domain import operations as wf
from taian_tui.read import detail, directory, instructions
from taian_tui.read.directory import Contact


def test_the_detail_names_the_units_head_and_liaisons(store, make_appeal):
    a = make_appeal("accepted")
    d = detail.appeal_detail(store, actors.actor(store, "ducha1"), a.ref)
    assert d.contacts == [Contact("liaison", "自然资源联络员", "13800000002"),
                          Contact("head", "褚文斌", "13905381013")]
    # a second liaison first (the last one of a unit with open appeals is not deactivated),
    # who is then a contact in zrzy1's place
    wf.upsert_user(store, "admin", "zrzy9", "新联络员", "liaison", unit_code="zrzy", mobile="13900000009",
                   at="2026-10-01T09:00:00+08:00")
    wf.set_user_active(store, "admin", "zrzy1", False, at="2026-10-01T09:00:00+08:00")
    assert directory.unit_contacts(store, "zrzy") == [Contact("liaison", "新联络员", "13900000009"),
                                                      Contact("head", "褚文斌", "13905381013")]
    assert directory.unit_contacts(store, None) == []


def test_the_recipient_picker_carries_the_mobile(store, make_appeal):
    a = make_appeal("accepted")
    found = instructions.instruction_recipients(store, actors.actor(store, "shizhang"), appeal_ref=a.ref,
                                                text="自然资源")
    assert [(r.username, r.mobile, r.relevant) for r in found] == [("zrzy1", "13800000002", True)]
