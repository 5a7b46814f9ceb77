"""A deterministic demo city (``taian demo``): units, users, routing rules, 1,428
enterprises, 437 projects, about 2,000 appeals, 600+ content items and leader
instructions, all with times relative to ``today``.

Everything but the enterprise registry and the 50 visualised flags goes through the real
domain operations of :mod:`taian_tui.domain.operations` (so every change has its audit row), in
time order, with the card sweep run at 07:00 of every simulated day. The plan is drawn
from one seeded ``random.Random``: the same ``seed`` and ``today`` give the same file.
Steps planned after ``today`` are simply not run, which is what leaves the most recent
appeals, projects, extension requests and instructions in their in-between states.

No textual here (an import-linter contract enforces it).
"""
from __future__ import annotations

import datetime as _dt
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable


from taian_tui.domain import escalation, timeutil
from taian_tui.domain import actors
from taian_tui.domain import operations as wf
from taian_tui.domain.models import PROJECT_CATEGORIES
from taian_tui.domain.rules import HANDLING_UNIT_KINDS
from taian_tui.store import Store
from taian_tui.demo.datafiles import DATA, default_routing_rules, read_routing_rules, read_units
from taian_tui.demo.names import stamp, ALT_UNITS, APPEAL_TEXT, CONTENT_TAGS, CONTENT_TOPICS, COUNTY_WEIGHTS, DEPT_THEMES, DISPATCH_OTHER, DISPUTE_AT_FAULT, DISPUTE_NOT_AT_FAULT, EVAL_COMMENTS, EXTENSION_REASONS, FACILITIES, INDUSTRIES, INSTRUCTION_REPLIES, INSTRUCTION_TEXTS, MARKUP_APPEALS, ORDER_NOTES, OTHER_ISSUES, PROVINCE_DEPTS, REJECT_REASONS, REPLIES, RETURN_REASONS, TWO_LIAISONS, UNROUTED, _weighted, enterprise_rows, landline, mobile, person_name


DEFAULT_SEED = 20260712
#: The setting that marks a database built by ``taian demo`` (holding the day it was built as of).
DEMO_SETTING = "demo_built_as_of"


N_ENTERPRISES = 1428


N_PROJECTS = 437


N_APPEALS = 2000


N_CONTENT = 650


N_VISUALISED = 50


HISTORY_DAYS = 182          # appeals arrive over the last ~6 months


IMPORT, INTAKE, ADMIN = actors.IMPORT, actors.INTAKE, "admin"


SUPERVISOR, SUPERVISOR2, DISCIPLINE, EDITOR = "ducha1", "ducha2", "jiwei1", "bianji"




def _day(d: _dt.date) -> _dt.datetime:
    return _dt.datetime(d.year, d.month, d.day)


# ---------------------------------------------------------------------------------------
# the simulation
# ---------------------------------------------------------------------------------------
@dataclass
class _Appeal:
    submit: _dt.datetime
    kind: str                          # "bg" or a guaranteed situation
    ref: str = ""
    uscc: str = ""
    county: str = ""
    category: str = ""
    project: str | None = None
    title: str = ""
    body: str = ""
    unit: str | None = None            # the unit of the first round
    returned: bool = False
    params: dict = field(default_factory=dict)


@dataclass
class _Project:
    applied: _dt.datetime
    uscc: str
    county: str
    unit: str
    industry: str
    decision: str
    ref: str = ""
    name: str = ""
    investment: float = 0.0
    final_stage: str = "前期"
    reviewed: _dt.datetime | None = None


class _Demo:
    def __init__(self, store: Store, today: _dt.datetime, seed: int) -> None:
        self.s = store
        self.rng = random.Random(seed)
        self.today = today
        self.today_s = stamp(today)
        self.T = today.date()
        self.cal = store.calendar()
        self.events: list[tuple[str, int, Callable, tuple, dict]] = []
        self.seq = 0
        self.ids: dict[Any, int] = {}
        self.t0 = _day(self.T - _dt.timedelta(days=560)) + _dt.timedelta(hours=9)

    # -- time helpers -------------------------------------------------------------------
    def add(self, t: _dt.datetime, fn: Callable, *args: Any, **kw: Any) -> None:
        self.seq += 1
        self.events.append((stamp(t), self.seq, fn, args, kw))

    def wd(self, day: _dt.date, k: int) -> _dt.date:
        return self.cal.add_working_days(day, k)[0] if k > 0 else day

    def wd_back(self, day: _dt.date, k: int) -> _dt.date:
        n = 0
        while n < k:
            day -= _dt.timedelta(days=1)
            if self.cal.is_workday(day):
                n += 1
        return day

    def arrival_days(self, day_n: _dt.date, n: int = 5) -> list[_dt.date]:
        """The dates from which ``day_n`` is Day ``n``."""
        out = []
        d = day_n - _dt.timedelta(days=1)
        for _ in range(60):
            got = self.wd(d, n)
            if got == day_n:
                out.append(d)
            elif got < day_n:
                break
            d -= _dt.timedelta(days=1)
        return out

    def work_at(self, day: _dt.date, lo: int = 510, hi: int = 1050) -> _dt.datetime:
        return _day(day) + _dt.timedelta(minutes=self.rng.randint(lo, hi))

    def after(self, prev: _dt.datetime, day: _dt.date, lo: int = 510, hi: int = 1050) -> _dt.datetime:
        t = self.work_at(day, lo, hi)
        if t <= prev:
            t = prev + _dt.timedelta(minutes=self.rng.randint(10, 90))
        return t

    def office_after(self, t: _dt.datetime) -> _dt.datetime:
        """When platform staff next deal with something that arrived at ``t``."""
        if self.cal.is_workday(t.date()) and t.hour < 16:
            return t + _dt.timedelta(minutes=self.rng.randint(25, 150))
        return self.work_at(self.wd(t.date(), 1), 510, 690)

    def any_time_after(self, t: _dt.datetime, days: tuple[int, int]) -> _dt.datetime:
        d = t.date() + _dt.timedelta(days=self.rng.randint(*days))
        out = _day(d) + _dt.timedelta(minutes=self.rng.randint(8 * 60, 21 * 60 + 30))
        if out <= t:
            out = t + _dt.timedelta(minutes=self.rng.randint(60, 300))
        return out

    # -- 1-2: units, rules, users ---------------------------------------------------------
    def setup(self) -> None:
        rng, s = self.rng, self.s
        t = self.t0
        tick = lambda: stamp(t + _dt.timedelta(seconds=next(clock)))  # noqa: E731
        clock = iter(range(100000))
        self.units = read_units()
        for u in self.units:
            wf.add_unit(s, IMPORT, u["code"], u["name"], u["kind"], head_name=u["head_name"],
                        head_mobile=u["head_mobile"], at=tick())
        self.unit_name = {u["code"]: u["name"] for u in self.units}
        self.county_unit = {u["name"]: u["code"] for u in self.units if u["kind"] in ("county", "zone")}
        self.counties = list(self.county_unit)
        path = DATA / "routing_rules.csv"
        rules = read_routing_rules(path) if path.exists() else default_routing_rules(self.units)
        self.route: dict[tuple[str, str], str] = {}
        for cat, county, unit in rules:
            wf.set_routing_rule(s, IMPORT, cat, county, unit, at=tick())
            self.route[(cat, county)] = unit
        names: set[str] = set()
        phones: set[str] = set()

        def fresh(gen: Callable[[random.Random], str], seen: set[str]) -> str:
            while True:
                v = gen(rng)
                if v not in seen:
                    seen.add(v)
                    return v

        def user(username: str, role: str, unit: str | None, scope: str = "city",
                 name: str | None = None, phone: str | None = None) -> None:
            wf.upsert_user(s, IMPORT, username, name or fresh(person_name, names), role,
                           unit_code=unit, mobile=phone or fresh(mobile, phones), scope=scope, at=tick())

        user(ADMIN, "admin", "fgw")
        self.liaisons: dict[str, list[str]] = {}
        for u in self.units:
            if u["kind"] not in HANDLING_UNIT_KINDS:
                continue
            n = 2 if u["kind"] in ("county", "zone") or u["code"] in TWO_LIAISONS else 1
            self.liaisons[u["code"]] = [f"{u['code']}{i}" for i in range(1, n + 1)]
            for username in self.liaisons[u["code"]]:
                user(username, "liaison", u["code"])
        user("shizhang", "leader", None, name="高建新")
        user("changwu", "leader", None, name="宋立群")
        self.leads: dict[str, str] = {}
        for u in self.units:
            if u["kind"] in ("county", "zone"):
                self.leads[u["code"]] = f"{u['code']}-lead"
                user(f"{u['code']}-lead", "leader", u["code"], scope="unit", name=u["head_name"],
                     phone=u["head_mobile"])
        user(SUPERVISOR, "supervisor", "dcs")
        user(SUPERVISOR2, "supervisor", "dcs")
        user(DISCIPLINE, "discipline", "jwjw")
        user(EDITOR, "editor", "fgw")

    # -- 3: enterprises ---------------------------------------------------------------------
    def enterprises(self) -> None:
        rows = enterprise_rows(self.rng, self.counties, N_ENTERPRISES, created=self.t0,
                               certified_by=self.t0 + _dt.timedelta(days=330))
        cols = list(rows[0])
        with self.s.transaction():
            self.s.conn.executemany(
                f"INSERT INTO enterprises({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [tuple(r[c] for c in cols) for r in rows])
            self.s.audit(IMPORT, "demo.enterprises", "enterprise", "*", None, {"count": len(rows)},
                         at=stamp(self.t0 + _dt.timedelta(minutes=30)))
        self.ents = rows
        self.ents_by_county: dict[str, list[dict]] = {c: [] for c in self.counties}
        for r in rows:
            if r["certified_at"]:
                self.ents_by_county[r["county"]].append(r)
        self.ent = {r["uscc"]: r for r in rows}

    # -- 4: projects ------------------------------------------------------------------------
    def projects(self) -> None:
        rng = self.rng
        decisions = ["applied"] * 40 + ["city"] * 250 + ["province"] * 122 + ["rejected"] * 25
        decisions += ["city"] * (N_PROJECTS - len(decisions))
        rng.shuffle(decisions)
        plans = []
        certified = [e for e in self.ents if e["certified_at"]]
        for decision in decisions:
            e = rng.choice(certified)
            if decision == "applied":
                applied = self.work_at(self.T - _dt.timedelta(days=rng.randint(3, 60)))
            else:
                applied = self.work_at(self.T - _dt.timedelta(days=rng.randint(45, 540)))
            if e["certified_at"] > stamp(applied):
                applied = timeutil.parse(e["certified_at"]).naive() + _dt.timedelta(hours=2)
            plans.append(_Project(applied=applied, uscc=e["uscc"], county=e["county"],
                                  unit=self.county_unit[e["county"]], industry=e["industry"], decision=decision))
        plans.sort(key=lambda p: p.applied)
        self.projects_plan = plans
        self.project_names: dict[str, str] = {}
        for i, p in enumerate(plans, 1):
            p.ref = f"P-{i:04d}"
            brand = self.ent[p.uscc]["name"]
            brand = brand.split("有限")[0]
            for suffix in INDUSTRIES[p.industry][0]:
                brand = brand.replace(suffix.split("有限")[0], "")
            phrase = rng.choice(INDUSTRIES[p.industry][1]).format(n=rng.choice((3, 5, 10, 20, 30, 50, 100)))
            p.name = f"{brand}{phrase}"
            self.project_names[p.ref] = p.name
            if p.decision == "province":
                inv = rng.randint(50000, 500000)
            elif p.decision == "city":
                inv = int(10 ** rng.uniform(3.7, 5.3))
            else:
                inv = int(10 ** rng.uniform(2.7, 4.9))
            p.investment = float(max(500, min(500000, round(inv, -1))))
            start = p.applied.date() + _dt.timedelta(days=rng.randint(20, 200))
            finish = start + _dt.timedelta(days=rng.randint(300, 1100))
            category = rng.choices(PROJECT_CATEGORIES, weights=(30, 30, 12, 20, 8))[0]
            self.add(p.applied, wf.apply_project, self.s, INTAKE, ref=p.ref, enterprise_uscc=p.uscc,
                     name=p.name, county=p.county, category=category, investment_wan=p.investment,
                     planned_start=start.isoformat(), planned_finish=finish.isoformat())
            if p.decision == "applied":
                if rng.random() < 0.4:
                    t = self.any_time_after(p.applied, (1, 10))
                    self.add(t, wf.report_progress, self.s, INTAKE, p.ref, rng.randint(0, 5), 0,
                             "项目前期手续办理中", date=t.date().isoformat(), stage="前期")
                continue
            p.reviewed = self.work_at(self.wd(p.applied.date(), rng.randint(3, 20)))
            reason = rng.choice(REJECT_REASONS) if p.decision == "rejected" else ""
            self.add(p.reviewed, wf.review_project, self.s, ADMIN, p.ref, p.decision, reason)
            if p.decision == "rejected":
                continue
            self.plan_progress(p)

    def plan_progress(self, p: _Project) -> None:
        rng = self.rng
        stage = rng.choices(("前期", "在建", "竣工", "投产"), weights=(25, 50, 12, 13))[0]
        n = {"前期": rng.randint(0, 2), "在建": rng.randint(2, 5), "竣工": rng.randint(3, 6),
             "投产": rng.randint(4, 6)}[stage]
        first = p.reviewed.date() + _dt.timedelta(days=3)
        last = self.T - _dt.timedelta(days=1)
        if n == 0 or first >= last:
            p.final_stage = "前期"
            return
        span = (last - first).days
        offsets = sorted(rng.sample(range(span + 1), min(n, span + 1)))
        n = len(offsets)
        if stage == "前期":
            percents = sorted(rng.randint(1, 10) for _ in range(n))
        elif stage == "在建":
            percents = sorted(rng.sample(range(12, 96), n))
        else:
            percents = sorted(rng.sample(range(12, 96), n - 1)) + [100]
        p.final_stage = stage
        who_pool = [*self.liaisons[p.unit][:1], INTAKE]
        for i, (off, pct) in enumerate(zip(offsets, percents)):
            day = first + _dt.timedelta(days=off)
            st = "前期" if pct < 12 else "在建" if pct < 100 else "竣工"
            if stage == "投产" and i == n - 1:
                st = "投产"
            invested = round(p.investment * pct / 100 * rng.uniform(0.85, 1.0), 1)
            note = {"前期": "前期手续办理中", "在建": f"主体工程施工，累计完成投资{invested:g}万元",
                    "竣工": "项目主体竣工，设备安装调试", "投产": "项目正式投产运营"}[st]
            self.add(self.work_at(day), wf.report_progress, self.s, rng.choice(who_pool), p.ref, pct,
                     invested, note, date=day.isoformat(), stage=st)

    def visualise(self) -> None:
        candidates = [p for p in self.projects_plan if p.decision in ("city", "province")]
        candidates.sort(key=lambda p: (p.final_stage == "前期", -p.investment, p.ref))
        chosen = sorted(p.ref for p in candidates[:N_VISUALISED])
        t = self.work_at(self.T - _dt.timedelta(days=10), 600, 660)
        self.add(t, self._visualise, chosen)

    def _visualise(self, refs: list[str], *, at: str) -> None:
        with self.s.transaction():
            for ref in refs:
                self.s.conn.execute("UPDATE projects SET visualised = 1 WHERE ref = ?", (ref,))
                self.s.audit(ADMIN, "project.visualise", "project", ref, {"visualised": 0},
                             {"visualised": 1}, at=at)

    # -- 5: appeals ---------------------------------------------------------------------------
    def appeals(self) -> None:
        rng = self.rng
        plans = self.guaranteed_appeals()
        n_bg = N_APPEALS - len(plans)
        start = self.T - _dt.timedelta(days=HISTORY_DAYS)
        days = [start + _dt.timedelta(days=i) for i in range(HISTORY_DAYS + 1)]
        weights = [1.0 if self.cal.is_workday(d) else 0.25 for d in days]
        for _ in range(n_bg):
            while True:
                d = rng.choices(days, weights=weights)[0]
                t = _day(d) + _dt.timedelta(minutes=rng.randint(8 * 60, 21 * 60))
                if t < self.today:
                    break
            plans.append(_Appeal(submit=t, kind="bg"))
        for p in plans:
            self.fill_appeal(p)
        for category, title, body in MARKUP_APPEALS:
            p = rng.choice([p for p in plans if p.kind == "bg" and p.category == category
                            and not p.params.get("markup")])
            p.params["markup"] = True
            p.title, p.body = title, body.format(n=rng.randint(3, 30)) + "\n" + p.body
        plans.sort(key=lambda p: p.submit)
        per_year: dict[int, int] = {}
        for p in plans:
            per_year[p.submit.year] = per_year.get(p.submit.year, 0) + 1
            p.ref = f"A-{p.submit.year}-{per_year[p.submit.year]:04d}"
        self.appeal_plans = plans
        self.first_appeal_day = plans[0].submit.date()
        for p in plans:
            self.plan_appeal(p)

    def guaranteed_appeals(self) -> list[_Appeal]:
        """Appeals placed so that, as of today, every situation exists."""
        T = self.T
        ref_day = T if self.cal.is_workday(T) else self.wd(T, 1)
        out: list[_Appeal] = []

        def place(kind: str, day: _dt.date, count: int, **params: Any) -> None:
            for _ in range(count):
                t = (self.work_at(day, 510, 1140) if self.cal.is_workday(day)
                     else self.work_at(day, 540, 1200))
                if t >= self.today:
                    t = self.today - _dt.timedelta(minutes=self.rng.randint(30, 600))
                out.append(_Appeal(submit=t, kind=kind, params=dict(params)))

        def spread(kind: str, days: list[_dt.date], count: int, **params: Any) -> None:
            days = [d for d in days if d < T] or days
            for i in range(count):
                place(kind, days[i % len(days)], 1, **params)

        if self.cal.is_workday(T):      # blue: Day 5 is today
            spread("blue_today", self.arrival_days(T), 12)
        # blue, then an extension approved on Day 5: the card stays, the deadline moves past
        # today (so an open blue card exists even when today is a weekend or a holiday)
        spread("blue_extended", self.arrival_days(self.wd_back(T, 1)), 3)
        for k in range(1, 5):           # yellow: deadline 1-4 working days ago, order still open
            spread("yellow_open", self.arrival_days(self.wd_back(T, k)), 4)
        for k in (6, 7, 8, 10, 12, 15):  # red: the yellow order's due time has passed
            spread("red_open", self.arrival_days(self.wd_back(T, k)), 2, take_up=k >= 8)
        for k in (3, 4):                # an extension request waits for a decision
            spread("ext_pending", self.arrival_days(ref_day, k), 3)
        for k in (5, 6):                # answered, evaluated 不满意, not yet reviewed
            spread("disputed", self.arrival_days(ref_day, k), 4)
        for k in (2, 3):                # a manual supervision order is open
            spread("manual_open", self.arrival_days(ref_day, k), 2)
        place("returned", self.wd_back(T, 1), 5)
        for _ in range(8):              # waiting in the dispatch queue
            t = self.today - _dt.timedelta(minutes=self.rng.randint(20, 30 * 60))
            out.append(_Appeal(submit=t, kind="queue"))
        return out

    def fill_appeal(self, p: _Appeal) -> None:
        rng = self.rng
        routed_only = p.kind not in ("bg", "queue")
        while True:
            project = None
            if rng.random() < 0.35:
                cands = self._projects_before(p.submit)
                if cands:
                    project = rng.choice(cands)
            if project is not None:
                county, uscc = project.county, project.uscc
            else:
                county = _weighted(rng, {c: COUNTY_WEIGHTS.get(c, 50) for c in self.counties})
                if p.kind == "queue":
                    county = rng.choice(sorted({c for _, c in UNROUTED}))
                uscc = rng.choice(self.ents_by_county[county])["uscc"]
            if p.kind == "queue":
                cats = [c for c, cn in UNROUTED if cn == county]
                if not cats:
                    continue
                category = rng.choice(cats)
            else:
                category = _weighted(rng, {"approval": 16, "planning": 15, "land": 18, "energy": 10,
                                           "environment": 13, "infrastructure": 16, "other": 12})
            if routed_only and (category, county) not in self.route:
                continue
            break
        p.county, p.uscc, p.category = county, uscc, category
        p.project = project.ref if project else None
        ent = self.ent[uscc]
        subject = project.name if project else ent["name"]
        titles, body = APPEAL_TEXT[category]
        month = (p.submit - _dt.timedelta(days=rng.randint(20, 90)))
        fill = dict(subject=subject, inv=int(project.investment) if project else rng.randint(2, 80) * 500,
                    month=f"{month.year}年{month.month}月", n=rng.randint(8, 40), ratio=rng.choice(("1.2", "1.5", "2.0")),
                    area=rng.randint(30, 400), part=rng.randint(10, 200), level="市重点建设项目",
                    energy=rng.randint(5, 80) * 1000, facility=p.params.setdefault("facility", rng.choice(FACILITIES)),
                    issue=rng.choice(OTHER_ISSUES).format(n=rng.randint(2, 9) * 10))
        title = rng.choice(titles).format(**{**fill, "subject": subject[:24]})
        p.title = title
        p.body = body.format(**fill) + f"\n联系人：{ent['contact']}，电话：{ent['phone']}。"

    def _projects_before(self, t: _dt.datetime) -> list[_Project]:
        limit = t - _dt.timedelta(days=1)
        return [p for p in self.projects_plan if p.applied < limit and p.decision != "rejected"]

    # the plan of one appeal ----------------------------------------------------------------
    def plan_appeal(self, p: _Appeal) -> None:
        rng = self.rng
        self.add(p.submit, wf.submit_appeal, self.s, INTAKE, ref=p.ref, enterprise_uscc=p.uscc,
                 category=p.category, county=p.county, title=p.title, body=p.body, project_ref=p.project)
        unit = self.route.get((p.category, p.county))
        arrival = p.submit
        if unit is None:
            if p.kind == "queue":
                return
            if p.category == "other":
                unit = self.county_unit[p.county] if rng.random() < 0.5 else rng.choice(DISPATCH_OTHER)
            elif p.category == "energy":
                unit = rng.choice(("fgw", "gdgs"))
            else:
                unit = ALT_UNITS[p.category][0]
            arrival = self.office_after(p.submit)
            self.add(arrival, wf.assign_appeal, self.s, ADMIN, p.ref, unit, note="按职责分工派发")
        p.unit = unit
        if p.kind == "bg":
            fate = rng.choices(("ontime", "blue", "yellow", "red", "return", "ext_ok", "ext_no", "manual"),
                               weights=(69, 10, 6, 2.2, 5.5, 3, 1.5, 1.2))[0]
            p.returned = fate == "return"
            self.plan_round(p, unit, arrival, fate)
        else:
            self.plan_round(p, unit, arrival, p.kind)

    def plan_round(self, p: _Appeal, unit: str, arrival: _dt.datetime, fate: str, depth: int = 0) -> None:
        rng, s, ref = self.rng, self.s, p.ref
        a_day = arrival.date()
        D = lambda k: self.wd(a_day, k)  # noqa: E731
        who = rng.choice(self.liaisons[unit])
        early = self.cal.is_workday(a_day) and arrival.hour < 15

        def accept(day: _dt.date) -> _dt.datetime:
            t = self.after(arrival, day)
            self.add(t, wf.accept_appeal, s, who, ref)
            return t

        def reply(prev: _dt.datetime, day: _dt.date, lo: int = 510) -> _dt.datetime:
            t = self.after(prev, day, lo)
            self.add(t, wf.reply_appeal, s, who, ref, self.reply_text(p, unit, t))
            return t

        if fate == "return":
            t = arrival
            if rng.random() < 0.4:
                t = accept(D(1))
                ret_day = D(rng.randint(1, 2))
            else:
                ret_day = a_day if early and rng.random() < 0.3 else D(rng.randint(1, 2))
            t_ret = self.after(t, ret_day)
            alt = rng.choice([u for u in ALT_UNITS[p.category] if u != unit] or ["fgw"])
            reason = rng.choice(RETURN_REASONS).format(alt=self.unit_name[alt])
            self.add(t_ret, wf.return_appeal, s, who, ref, reason)
            t_re = self.office_after(t_ret)
            self.add(t_re, wf.assign_appeal, s, ADMIN, ref, alt, note="根据承办单位退回意见改派")
            nxt = rng.choices(("ontime", "blue", "yellow", "ext_ok"), weights=(80, 10, 7, 3))[0]
            self.plan_round(p, alt, t_re, nxt, depth)
            return
        if fate == "returned":            # guaranteed: returned, the admin has not reassigned yet
            t_ret = self.after(arrival, a_day, arrival.hour * 60 + 60, max(arrival.hour * 60 + 90, 1080))
            if t_ret >= self.today:
                t_ret = arrival + (self.today - arrival) / 2
            reason = rng.choice(RETURN_REASONS).format(
                alt=self.unit_name[rng.choice([u for u in ALT_UNITS[p.category] if u != unit] or ["fgw"])])
            self.add(t_ret, wf.return_appeal, s, who, ref, reason)
            return
        if fate == "ontime":
            ka = 0 if early and rng.random() < 0.35 else rng.choice((1, 1, 1, 2))
            t_acc = accept(a_day if ka == 0 else D(ka))
            t_rep = reply(t_acc, D(rng.randint(max(ka, 1), 4)))
            self.plan_evaluation(p, unit, who, t_rep, depth)
        elif fate == "blue":
            t_acc = accept(D(rng.randint(1, 3)))
            t_rep = reply(t_acc, D(5), 540)
            self.plan_evaluation(p, unit, who, t_rep, depth)
        elif fate == "yellow":
            t_acc = accept(D(rng.randint(1, 4)) if rng.random() < 0.7 else D(6))
            t_rep = reply(t_acc, D(rng.randint(6, 10)), 540)
            self.plan_evaluation(p, unit, who, t_rep, depth)
        elif fate == "red":
            t_acc = accept(D(rng.randint(1, 4)) if rng.random() < 0.6 else D(rng.randint(6, 11)))
            if rng.random() < 0.6:
                self.add(self.work_at(D(rng.randint(11, 13)), 540), wf.take_up_red_card, s, DISCIPLINE, ref,
                         "已作为作风问题线索登记，转派驻纪检监察组核查。")
            if rng.random() < 0.85:
                t_rep = reply(t_acc, D(rng.randint(11, 15)), 540)
                self.plan_evaluation(p, unit, who, t_rep, depth)
        elif fate in ("ext_ok", "ext_no"):
            t_acc = accept(D(1))
            days = rng.randint(3, 10)
            t_req = self.after(t_acc, D(rng.choice((2, 2, 3))))
            key = ("ext", ref, depth)
            self.add(t_req, self._request_extension, who, ref, days,
                     rng.choice(EXTENSION_REASONS).format(days=days), key)
            t_dec = self.after(t_req, D(4))
            if fate == "ext_ok":
                self.add(t_dec, self._decide_extension, key, True, "同意延期，请在延期内办结。")
                k = rng.randint(4, 4 + days) if rng.random() < 0.8 else 5 + days
            else:
                self.add(t_dec, self._decide_extension, key, False, "理由不充分，不同意延期，请按期答复。")
                k = rng.choices((4, 5, rng.randint(6, 8)), weights=(5, 3, 2))[0]
            t_rep = reply(t_dec, D(k), 540)
            self.plan_evaluation(p, unit, who, t_rep, depth)
        elif fate == "manual":
            t_acc = accept(D(1))
            t_open = self.after(t_acc, D(2))
            due_day = self.wd(t_open.date(), 4)
            self.add(t_open, wf.open_supervision_order, s, SUPERVISOR, ref, timeutil.end_of_day(due_day),
                     rng.choice(ORDER_NOTES))
            k = rng.randint(3, 5) if rng.random() < 0.8 else rng.randint(7, 8)
            t_rep = reply(t_open, D(k), 540)
            self.plan_evaluation(p, unit, who, t_rep, depth)
        # -- guaranteed situations (nothing planned past today) --------------------------
        elif fate in ("blue_today", "yellow_open", "red_open"):
            if rng.random() < 0.6:
                accept(D(rng.randint(1, 3)))
            if fate == "red_open" and p.params.get("take_up"):
                due_day = self.wd(D(5), 5)
                self.add(self.work_at(self.wd(due_day, 1), 540, 720), wf.take_up_red_card, s, DISCIPLINE, ref,
                         "已登记为作风问题线索，转派驻纪检监察组核查。")
        elif fate == "blue_extended":
            t_acc = accept(D(1))
            days = rng.randint(4, 6)
            key = ("ext", ref, depth)
            t_req = self.after(t_acc, D(4))
            self.add(t_req, self._request_extension, who, ref, days,
                     rng.choice(EXTENSION_REASONS).format(days=days), key)
            t_dec = self.after(t_req, D(5), 540, 720)
            if t_dec < self.today:
                self.add(t_dec, self._decide_extension, key, True, "同意延期，请在延期内办结。")
        elif fate == "ext_pending":
            t_acc = accept(D(1))
            days = rng.randint(3, 8)
            t_req = self.after(t_acc, D(2))
            self.add(t_req, self._request_extension, who, ref, days,
                     rng.choice(EXTENSION_REASONS).format(days=days), ("ext", ref, depth))
        elif fate == "disputed":
            t_acc = accept(D(1))
            t_rep = reply(t_acc, D(2))
            t_ev = self.after(t_rep, D(3), 600, 1200)
            self.add(t_ev, wf.evaluate_appeal, s, INTAKE, ref, "不满意", rng.choice(EVAL_COMMENTS["不满意"]))
        elif fate == "manual_open":
            t_acc = accept(D(1))
            t_open = self.after(t_acc, D(1))
            self.add(t_open, wf.open_supervision_order, s, SUPERVISOR2, ref,
                     timeutil.end_of_day(self.wd(t_open.date(), 5)), rng.choice(ORDER_NOTES))
        else:
            raise ValueError(f"unknown fate {fate}")

    def plan_evaluation(self, p: _Appeal, unit: str, who: str, t_rep: _dt.datetime, depth: int) -> None:
        rng, s, ref = self.rng, self.s, p.ref
        r = rng.random()
        if r < 0.05:
            return                               # the enterprise never evaluated
        t_ev = self.any_time_after(t_rep, (0, 6))
        if r < 0.13 and depth == 0:
            self.add(t_ev, wf.evaluate_appeal, s, INTAKE, ref, "不满意", rng.choice(EVAL_COMMENTS["不满意"]))
            t_rev = self.work_at(self.wd(t_ev.date(), rng.randint(1, 3)))
            sup = rng.choice((SUPERVISOR, SUPERVISOR2))
            if rng.random() < 0.45:
                self.add(t_rev, wf.review_dispute, s, sup, ref, False, rng.choice(DISPUTE_NOT_AT_FAULT))
                return
            self.add(t_rev, wf.review_dispute, s, sup, ref, True, rng.choice(DISPUTE_AT_FAULT))
            due_day = self.wd(t_rev.date(), 5)
            if rng.random() < 0.85:
                t2 = self.after(t_rev, self.wd(t_rev.date(), rng.randint(1, 4)))
                self.add(t2, wf.reply_appeal, s, who, ref, "已重新办理：" + self.reply_text(p, unit, t2))
                self.plan_evaluation(p, unit, who, t2, depth + 1)
            else:
                if rng.random() < 0.5:
                    self.add(self.work_at(self.wd(due_day, 1), 540), wf.take_up_red_card, s, DISCIPLINE, ref,
                             "督办逾期，已登记为问题线索。")
                t2 = self.after(t_rev, self.wd(due_day, rng.randint(1, 4)), 540)
                self.add(t2, wf.reply_appeal, s, who, ref, "已重新办理：" + self.reply_text(p, unit, t2))
            return
        rating = "满意" if rng.random() < 0.74 else "基本满意"
        self.add(t_ev, wf.evaluate_appeal, s, INTAKE, ref, rating, rng.choice(EVAL_COMMENTS[rating]))

    def reply_text(self, p: _Appeal, unit: str, at: _dt.datetime) -> str:
        rng = self.rng
        subject = self.subject(p) or "该项目"
        done = at - _dt.timedelta(days=rng.randint(0, 2))
        due = at + _dt.timedelta(days=rng.randint(3, 25))
        return rng.choice(REPLIES[p.category]).format(
            subject=subject, done=f"{done.month}月{done.day}日", date=f"{due.month}月{due.day}日",
            n=rng.randint(3, 15), facility=p.params.get("facility", "配套设施"),
            name=person_name(rng), phone=landline(rng)) + f"（{self.unit_name[unit]}）"

    def subject(self, p: _Appeal) -> str:
        if p.project:
            return self.project_names.get(p.project, "")
        return self.ent[p.uscc]["name"]

    def _request_extension(self, who: str, ref: str, days: int, reason: str, key: Any, *, at: str) -> None:
        self.ids[key] = wf.request_extension(self.s, who, ref, days, reason, at=at).id

    def _decide_extension(self, key: Any, approve: bool, note: str, *, at: str) -> None:
        wf.decide_extension(self.s, SUPERVISOR, self.ids[key], approve, note=note, at=at)

    # -- 6: content ----------------------------------------------------------------------------
    def content(self) -> None:
        rng = self.rng
        plans = []
        for _ in range(N_CONTENT):
            t = self.work_at(self.T - _dt.timedelta(days=rng.randint(0, 365)), 480, 1140)
            if t >= self.today:
                t = self.today - _dt.timedelta(minutes=rng.randint(60, 2000))
            plans.append(t)
        plans.sort()
        published: list[tuple[_dt.datetime, _dt.datetime | None, int]] = []
        for i, t in enumerate(plans):
            kind = rng.choices(("policy", "investment", "department", "news"), weights=(40, 20, 20, 20))[0]
            level = rng.choices(("中央", "省", "市", "县"), weights=(15, 25, 40, 20))[0]
            title, body, source, level = self.content_text(kind, level)
            tags = ",".join(rng.sample(CONTENT_TAGS, rng.randint(1, 3)))
            self.add(t, self._draft, i, kind=kind, level=level, title=title, body=body, source_unit=source,
                     tags=tags)
            r = rng.random()
            if r < 0.10:
                continue                              # still a draft
            if r < 0.12:
                self.add(t + _dt.timedelta(days=rng.randint(1, 20)), self._content_op,
                         wf.archive_content, i)      # a draft dropped
                continue
            t_pub = self.after(t, t.date() + _dt.timedelta(days=rng.choice((0, 0, 0, 1, 2))), 510, 1080)
            self.add(t_pub, self._content_op, wf.publish_content, i)
            t_arch = None
            if rng.random() < 0.1:
                t_arch = t_pub + _dt.timedelta(days=rng.randint(20, 200))
                self.add(t_arch, self._content_op, wf.archive_content, i)
            published.append((t_pub, t_arch, i))
        for back in range(29, -1, -1):
            day = self.T - _dt.timedelta(days=back)
            t = _day(day) + _dt.timedelta(minutes=450)
            if t > self.today:
                t = self.today
            live = [i for tp, ta, i in published if tp < t and (ta is None or ta > self.today)]
            if live:
                self.add(t, self._pick, day.isoformat(), rng.choice(live[-120:]))

    def content_text(self, kind: str, level: str) -> tuple[str, str, str, str]:
        """Title, Markdown body, source unit and level (news and notices take the level of
        whom they are about)."""
        rng = self.rng
        topic = rng.choice(CONTENT_TOPICS)
        county = rng.choice(self.counties)
        dept_code = rng.choice([u["code"] for u in self.units if u["kind"] == "department"])
        dept = self.unit_name[dept_code]
        industry = rng.choice(list(INDUSTRIES))
        n = rng.randint(5, 60)
        if kind == "policy":
            title = {"中央": f"国务院办公厅关于{topic}的指导意见",
                     "省": f"山东省{rng.choice(PROVINCE_DEPTS)}关于{topic}的若干措施",
                     "市": f"泰安市人民政府关于{topic}的实施意见",
                     "县": f"{county}关于{topic}的若干政策"}[level]
            source = {"中央": "国务院办公厅", "省": "山东省人民政府", "市": dept, "县": county}[level]
            body = (f"# {title}\n\n为深入贯彻落实党中央、国务院决策部署，{topic}，结合实际，制定本{rng.choice(('意见', '措施', '政策'))}。\n\n"
                    f"## 一、总体要求\n\n坚持问题导向和目标导向，到{self.T.year + 2}年，力争全市规上工业企业达到"
                    f"{n * 50}家，重点项目完成投资{n * 20}亿元。\n\n## 二、主要措施\n\n"
                    f"1. **加大资金支持。** 对新认定的省级以上技术创新中心给予最高{n * 10}万元奖励。\n"
                    f"2. **强化要素保障。** 优先保障市重点项目用地、用能指标。\n"
                    f"3. **优化审批服务。** 推行“拿地即开工”，审批时限压缩至{rng.randint(3, 15)}个工作日。\n\n"
                    f"## 三、保障措施\n\n- 建立工作专班，定期调度\n- 纳入高质量发展综合绩效考核\n- 政策兑现实行“免申即享”\n\n"
                    f"> 本文件自发布之日起施行，有效期{rng.randint(2, 5)}年。\n")
        elif kind == "investment":
            title, level = rng.choice(((f"{county}{industry}产业招商推介", "县"),
                                       (f"泰安{industry}产业链招商项目清单发布", "市"),
                                       (f"{county}举行{industry}招商对接会，签约项目{n}个", "县")))
            source = self.unit_name["tcj"]
            body = (f"# {title}\n\n## 产业基础\n\n{county}已集聚{industry}企业{n * 3}家，形成较为完整的产业链。\n\n"
                    f"## 重点招引方向\n\n- 产业链上游关键材料与核心部件\n- 研发设计与检验检测平台\n- 数字化、智能化改造服务商\n\n"
                    f"## 支持政策\n\n1. 固定资产投资{n}亿元以上的项目“一事一议”\n2. 提供标准厂房“拎包入驻”\n\n"
                    f"联系方式：{self.unit_name['tcj']}，{landline(rng)}\n")
        elif kind == "department":
            level = "市"
            title = rng.choice((f"{dept}召开重点项目要素保障调度会", f"{dept}开展“{rng.choice(DEPT_THEMES)}”专项行动",
                                f"{dept}深入企业走访解难题"))
            source = dept
            body = (f"## {title}\n\n近日，{dept}主要负责同志带队深入{county}重点项目现场，调度项目建设和企业诉求办理情况。\n\n"
                    f"会议要求：\n\n- 对企业反映的问题建立台账，逐项销号\n- 严格落实“红黄蓝”三色挂牌督办机制\n"
                    f"- 诉求办理做到{rng.choice(('5个工作日内答复', '当日签收、限时办结'))}\n\n"
                    f"截至目前，已协调解决企业诉求{n * 4}项。\n")
        else:
            title, level = rng.choice(((f"泰安市{n}个重大项目集中开工，总投资{n * 13}亿元", "市"),
                                       (f"{county}重点项目建设跑出“加速度”", "县"),
                                       ("山东省新旧动能转换重大项目推进会在泰安召开", "省"),
                                       (f"泰安新动能重大项目可视化督导服务平台累计办理诉求{n * 100}件", "市")))
            source = "泰安日报"
            body = (f"# {title}\n\n{rng.randint(1, 12)}月{rng.randint(1, 28)}日，记者从市发展改革委获悉，"
                    f"今年以来全市重大项目建设进展顺利。\n\n## 亮点\n\n- 开工率同比提高{rng.randint(3, 15)}个百分点\n"
                    f"- 诉求平均办理时长缩短至{rng.randint(2, 5)}个工作日\n- 企业满意率达到{rng.randint(95, 99)}%\n\n"
                    f"下一步，全市将持续优化服务，推动项目早开工、早投产、早见效。\n")
        return title, body, source, level

    def _draft(self, i: int, *, at: str, **fields: Any) -> None:
        self.ids[("c", i)] = wf.draft_content(self.s, EDITOR, at=at, **fields).id

    def _content_op(self, op: Callable, i: int, *, at: str) -> None:
        op(self.s, EDITOR, self.ids[("c", i)], at=at)

    def _pick(self, day: str, i: int, *, at: str) -> None:
        wf.pick_daily_listen(self.s, EDITOR, day, self.ids[("c", i)], at=at)

    # -- 7: leader instructions -------------------------------------------------------------
    def instructions(self) -> None:
        rng = self.rng
        plans = self.appeal_plans
        hot = [p for p in plans if p.kind in ("yellow_open", "red_open")]
        bg = [p for p in plans if p.kind == "bg" and p.unit and not p.returned
              and p.submit < self.today - _dt.timedelta(days=12)]
        issued: list[tuple[str, str, dict, _dt.datetime]] = []
        for p in hot[::2]:
            leader = "shizhang" if rng.random() < 0.6 else "changwu"
            t = self.work_at(self.wd_back(self.T, 1), 540, 1080)
            issued.append((leader, rng.choice(self.liaisons[p.unit]), {"appeal_ref": p.ref}, t))
        for p in rng.sample(bg, 20):
            leader = rng.choice(("shizhang", "changwu"))
            t = self.after(p.submit, self.wd(p.submit.date(), rng.randint(2, 6)))
            issued.append((leader, rng.choice(self.liaisons[p.unit]), {"appeal_ref": p.ref}, t))
        reviewed = [pr for pr in self.projects_plan if pr.reviewed and pr.decision != "rejected"]
        for pr in rng.sample(reviewed, 12):
            t = self.after(pr.reviewed, pr.reviewed.date() + _dt.timedelta(days=rng.randint(1, 60)))
            issued.append((rng.choice(("shizhang", "changwu")), self.liaisons[pr.unit][0], {"project_ref": pr.ref}, t))
        for code, lead in self.leads.items():
            county = self.unit_name[code]
            mine = [p for p in bg if p.county == county]
            for p in rng.sample(mine, min(2, len(mine))):
                t = self.after(p.submit, self.wd(p.submit.date(), rng.randint(1, 4)))
                issued.append((lead, rng.choice(self.liaisons[p.unit]), {"appeal_ref": p.ref}, t))
            projs = [pr for pr in self.projects_plan if pr.unit == code and pr.decision != "rejected"]
            for pr in rng.sample(projs, min(1, len(projs))):
                t = self.after(pr.applied, pr.applied.date() + _dt.timedelta(days=rng.randint(5, 40)))
                issued.append((lead, self.liaisons[code][-1], {"project_ref": pr.ref}, t))
        for n, (leader, target, about, t) in enumerate(issued):
            if t > self.today:
                t = self.today - _dt.timedelta(minutes=rng.randint(10, 300))
            text = rng.choice(INSTRUCTION_TEXTS).format(unit="你单位", n=rng.randint(3, 7))
            key = ("ins", n)
            self.add(t, self._issue, key, leader, target, text, about)
            r = rng.random()
            if r < 0.45:
                t_ack = self.after(t, self.wd(t.date(), rng.randint(0, 1)))
                if rng.random() < 0.5:
                    self.add(t_ack, self._ack, key, target)
                self.add(self.after(t_ack, self.wd(t_ack.date(), rng.randint(1, 4))), self._reply_ins, key,
                         target, rng.choice(INSTRUCTION_REPLIES))
            elif r < 0.65:
                self.add(self.after(t, self.wd(t.date(), rng.randint(0, 1))), self._ack, key, target)

    def _issue(self, key: Any, leader: str, target: str, text: str, about: dict, *, at: str) -> None:
        self.ids[key] = wf.issue_instruction(self.s, leader, target, text, at=at, **about).id

    def _ack(self, key: Any, target: str, *, at: str) -> None:
        wf.acknowledge_instruction(self.s, target, self.ids[key], at=at)

    def _reply_ins(self, key: Any, target: str, text: str, *, at: str) -> None:
        wf.reply_instruction(self.s, target, self.ids[key], text, at=at)

    # -- the card sweep, every morning --------------------------------------------------------
    def sweeps(self) -> None:
        d = self.first_appeal_day
        while d <= self.T:
            t = _day(d) + _dt.timedelta(hours=7)
            if t > self.today:
                t = self.today
            self.add(t, self._sweep)
            d += _dt.timedelta(days=1)

    def _sweep(self, *, at: str) -> None:
        escalation.sweep(self.s, at, applied_at=at)

    # -- run ------------------------------------------------------------------------------------
    def run(self) -> None:
        """Run the plan in time order. Each operation keeps its own (nested) transaction;
        one simulated day is committed at once, which saves thousands of commits."""
        self.events.sort(key=lambda e: (e[0], e[1]))
        events = [e for e in self.events if e[0] <= self.today_s]
        i = 0
        while i < len(events):
            day = events[i][0][:10]
            with self.s.transaction():
                while i < len(events) and events[i][0][:10] == day:
                    t, _, fn, args, kw = events[i]
                    i += 1
                    try:
                        fn(*args, at=t, **kw)
                    except Exception as exc:
                        name = getattr(fn, "__name__", repr(fn))
                        shown = args[1:4] if getattr(fn, "__module__", "") == wf.__name__ else args[:3]
                        raise RuntimeError(f"demo step {name}{shown} at {t} failed: {exc}") from exc


def demo_counts(store: Store) -> dict:
    q = store.scalar
    return {
        "units": q("SELECT COUNT(*) FROM units"),
        "handling_units": q("SELECT COUNT(*) FROM units WHERE kind IN ('county','zone','department')"),
        "users": q("SELECT COUNT(*) FROM users"),
        "liaisons": q("SELECT COUNT(*) FROM users WHERE role = 'liaison'"),
        "routing_rules": q("SELECT COUNT(*) FROM routing_rules"),
        "enterprises": q("SELECT COUNT(*) FROM enterprises"),
        "projects": q("SELECT COUNT(*) FROM projects"),
        "projects_by_library": {r[0]: r[1] for r in store.all(
            "SELECT library, COUNT(*) FROM projects GROUP BY library ORDER BY library")},
        "projects_by_stage": {r[0]: r[1] for r in store.all(
            "SELECT stage, COUNT(*) FROM projects GROUP BY stage ORDER BY stage")},
        "visualised": q("SELECT COUNT(*) FROM projects WHERE visualised = 1"),
        "progress_reports": q("SELECT COUNT(*) FROM progress_reports"),
        "appeals": q("SELECT COUNT(*) FROM appeals"),
        "appeals_by_state": {r[0]: r[1] for r in store.all(
            "SELECT state, COUNT(*) FROM appeals GROUP BY state ORDER BY state")},
        "appeals_by_card": {r[0] or "none": r[1] for r in store.all(
            "SELECT card, COUNT(*) FROM appeals GROUP BY card ORDER BY card")},
        "open_by_card": {r[0] or "none": r[1] for r in store.all(
            "SELECT card, COUNT(*) FROM appeals WHERE state IN ('assigned','accepted') GROUP BY card ORDER BY card")},
        "supervision_orders": q("SELECT COUNT(*) FROM supervision_orders"),
        "supervision_orders_open": q("SELECT COUNT(*) FROM supervision_orders WHERE state = 'open'"),
        "extensions": {r[0]: r[1] for r in store.all(
            "SELECT state, COUNT(*) FROM extensions GROUP BY state ORDER BY state")},
        "red_taken_up": q("SELECT COUNT(*) FROM card_events WHERE card = 'red' AND taken_up_at IS NOT NULL"),
        "content": q("SELECT COUNT(*) FROM content"),
        "content_by_state": {r[0]: r[1] for r in store.all(
            "SELECT state, COUNT(*) FROM content GROUP BY state ORDER BY state")},
        "daily_listen": q("SELECT COUNT(*) FROM daily_listen"),
        "instructions": q("SELECT COUNT(*) FROM instructions"),
        "instructions_open": q("SELECT COUNT(*) FROM instructions WHERE replied_at IS NULL"),
        "outbox": q("SELECT COUNT(*) FROM outbox"),
        "audit_rows": q("SELECT COUNT(*) FROM audit"),
    }


def build_demo(path: str, *, today: str | None = None, seed: int = DEFAULT_SEED) -> dict:
    """Build the demo city into the database file ``path`` (created if missing; refused
    when it already holds data). Returns the counts of what it made, plus ``seconds``."""
    started = time.perf_counter()
    now = timeutil.parse(today) if today else timeutil.now()
    today_dt = _dt.datetime(now.year, now.month, now.day, now.hour, now.minute, now.second)
    store = Store(path)
    try:
        n = store.scalar("SELECT COUNT(*) FROM appeals")
        if n:
            raise ValueError(f"{store.path} already holds {n} appeals: the demo is built into a new "
                             "database file (delete it first, or use another path)")
        busy = [t for t in ("units", "users", "enterprises", "projects", "content")
                if store.scalar(f"SELECT COUNT(*) FROM {t}")]
        if busy:
            raise ValueError(f"{store.path} is not empty (it has {', '.join(busy)}): the demo is built "
                             "into a new database file (delete it first, or use another path)")
        with store.transaction():
            # a demo database: the console offers its sign-in list (a real database never does)
            store.set_setting(DEMO_SETTING, stamp(today_dt))
            store.audit(IMPORT, "demo.build", "settings", DEMO_SETTING, None,
                        {"today": stamp(today_dt), "seed": seed}, at=stamp(today_dt))
        # a new file that is rebuilt if anything goes wrong: no waiting for the disk on each
        # simulated day's commit (the connection's default comes back before it is closed)
        store.conn.execute("PRAGMA synchronous = OFF")
        demo = _Demo(store, today_dt, seed)
        demo.setup()
        demo.enterprises()
        demo.projects()
        demo.visualise()
        demo.appeals()
        demo.content()
        demo.instructions()
        demo.sweeps()
        demo.run()
        store.conn.execute("PRAGMA synchronous = NORMAL")
        counts = demo_counts(store)
    finally:
        store.close()
    counts["today"] = stamp(today_dt)
    counts["seed"] = seed
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts
