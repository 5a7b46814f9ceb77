"""The dashboard's figures (``taian stats``, ``taian report``, the console's dashboard).

Plain dataclasses and functions; every figure is an SQL query (a GROUP BY) on the store.
No textual here. The month's figures of appeals (per category, per week, the 三率) are read
from sums per day that the schema's triggers keep equal to the appeals (``appeal_day_figures``,
``appeal_category_figures``; migration 0013): whole days from there, the as-of day up to the
as-of moment from the appeals themselves. On a million appeals the dashboard reads in tens
of milliseconds, not seconds; ``taian audit verify`` checks the sums against the appeals.

Definitions (the README copies them):

* **Period.** A calendar month in Asia/Shanghai, ``[YYYY-MM-01 00:00, next month)``,
  cut at the as-of time ``at`` (default: now), so the current month is month-to-date and a
  deadline still ahead of ``at`` is not yet counted. Timestamps are compared as the store
  writes them (``YYYY-MM-DDTHH:mm:ss+08:00``). A month that has not begun is refused.
* **Snapshots vs the month.** Projects, appeals by category (``appeals``, ``unresolved``)
  and the cards of open appeals are the store as it is now; ``in_month`` figures, the cards
  raised and the 三率 are for the month.
* **Projects** by county and by stage count the projects in the library (``library`` city or
  province: 市重点 and 省重点); applications not yet decided and rejected ones are left out
  there and shown in ``projects_by_library`` (every project). Every county/zone and every
  stage is listed, with 0 where it has none.
* **Cards.** ``open``: the current card of each appeal on a unit's clock (``assigned`` or
  ``accepted``), ``none`` for no card. ``raised``: card events whose threshold passed in
  the month (``card_events.threshold_at``, the moment the card was earned, not when a late
  sweep applied it); a card raised on an appeal that was answered later still counts.
* **Cards ahead** (``forecast``, ``escalation.forecast``): for the next working day and the
  next five, the appeals the sweep at the start of that working day would turn blue, yellow
  or red and a sweep at the as-of time would not, per unit (the sweep's own rule, read-only;
  if nothing is answered meanwhile). City-wide, like every figure here.
* **Appeals per week.** Appeals by the day they were submitted (``submitted_at``, local
  date), in ISO weeks (Monday to Sunday), the 26 weeks ending with the week of the period's
  last day (the as-of day in the current month, else the month's last day); a week with
  none is 0.
* **三率 per unit** (the unit that holds the appeal now):
  - 响应率 = appeals answered by their deadline (``answered_at <= deadline``) / appeals whose
    deadline fell in the period. The deadline is ``appeals.deadline``: after an approved
    extension, the extended deadline; after a reassignment, the new unit's deadline (the
    appeal counts for the new unit only; the former unit's cards stay in the card history
    but not in its 响应率); after a 不满意 judged the unit's fault, the supervision order's
    due time, by which the new answer must come. Returned and undispatched appeals have no
    deadline and are not counted. An appeal whose deadline is still ahead of ``at`` is not
    counted yet, even if already answered.
  - 解决率 = appeals closed in the period with no supervision order opened while the appeal
    was with the closing unit (``supervision_orders.opened_at >= appeals.arrived_at``; any
    origin: yellow card, 不满意 at fault, manual) / appeals closed in the period. An order
    against a former unit, closed by the reassignment, does not count against the new unit.
    A 不满意 the supervisor judged not the unit's fault closes without an order.
  - 满意率 = (满意 + 基本满意) / appeals evaluated in the period (``evaluated_at``), each
    appeal's latest evaluation: a 不满意 that sent the appeal back to the unit is replaced
    by the evaluation of the new answer.
  Each rate comes with its numerator and denominator; the rate is ``None`` when the
  denominator is 0, else ``round(n / d, 4)``. The whole city's rates (``city_rates``) sum
  the units' numerators and denominators.
* **Ranking, worst first.** Every handling unit (county, zone, department) is listed. Units
  with at least one rate: by the mean of their available rates, ascending; ties by the
  lowest single rate, ascending; then by name. Units with no rate at all come last, by name.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

from taian_tui.domain import escalation, timeutil
from taian_tui.domain import labels
from taian_tui.domain.models import CARDS, LIBRARY_LEVELS, PROJECT_STAGES
from taian_tui.domain.rules import APPEAL_STATES, HANDLING_UNIT_KINDS, OPEN_STATES
from taian_tui.store import Store
from taian_tui.domain.refusals import ValidationError

WEEKS = 26
LIBRARY_IN = ("city", "province")          # the projects counted by county and by stage
SATISFIED = ("满意", "基本满意")
#: The figures' labels are Chinese (the dashboard, the report and ``taian stats`` speak it).
LIBRARY_LABELS = labels.labels("library")
CARD_LABELS = labels.labels("card")
RATE_LABELS = labels.labels("rate")

_MONTH = re.compile(r"(\d{4})-(\d{2})")


# -- the period ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """One month, cut at ``at``. SQL bounds: ``x >= start AND x < end AND x <= at``."""

    month: str          # YYYY-MM
    start: str          # first instant of the month (+08:00)
    end: str            # first instant of the next month (exclusive)
    at: str             # the as-of time (inclusive)
    first_day: _dt.date
    last_day: _dt.date  # the month's last day, or the as-of day if earlier
    complete: bool      # the whole month lies before ``at``

    def params(self) -> dict[str, str]:
        return {"start": self.start, "end": self.end, "at": self.at}

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "start": self.start, "end": self.end, "at": self.at,
                "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
                "complete": self.complete}


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` -> (year, month); ValidationError with the expected form otherwise."""
    value = (text or "").strip()
    m = _MONTH.fullmatch(value)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise ValidationError.of("month_format", value=text)
    return int(m.group(1)), int(m.group(2))


def period(month: str | None = None, at: str | None = None) -> Period:
    """The period for ``month`` (default: the month of ``at``), as of ``at`` (default: now)."""
    at = timeutil.iso(at)
    year, mon = parse_month(month if month is not None else at[:7])
    first = _dt.date(year, mon, 1)
    nxt = _dt.date(year + (mon == 12), mon % 12 + 1, 1)
    start, end = timeutil.start_of_day(first), timeutil.start_of_day(nxt)
    if start > at:
        raise ValidationError.of("month_not_begun", month=f"{first:%Y-%m}", day=at[:10])
    last = min(nxt - _dt.timedelta(days=1), timeutil.local_date(at))
    return Period(month=f"{first:%Y-%m}", start=start, end=end, at=at, first_day=first,
                  last_day=last, complete=end <= at)


def _period(p: Period | str | None, at: str | None = None) -> Period:
    return p if isinstance(p, Period) else period(p, at)


# -- figures -------------------------------------------------------------------------------------
@dataclass
class CountyFigure:
    county: str
    projects: int
    investment_wan: float


@dataclass
class StageFigure:
    stage: str
    projects: int
    investment_wan: float


@dataclass
class LibraryFigure:
    library: str
    label: str
    projects: int
    investment_wan: float


@dataclass
class CategoryFigure:
    category: str
    label: str
    appeals: int        # all appeals on record
    unresolved: int     # not closed
    in_month: int       # submitted in the period


@dataclass
class CardFigures:
    open: dict[str, int]     # blue/yellow/red/none: current card of appeals on a unit's clock
    raised: dict[str, int]   # blue/yellow/red: thresholds passed in the period


@dataclass
class WeekFigure:
    week_start: str     # Monday, YYYY-MM-DD
    week_end: str       # Sunday
    iso_week: str       # 2026-W40
    appeals: int


@dataclass
class Rate:
    numerator: int = 0
    denominator: int = 0

    @property
    def value(self) -> float | None:
        return None if not self.denominator else self.numerator / self.denominator

    @property
    def rate(self) -> float | None:
        v = self.value
        return None if v is None else round(v, 4)

    def as_dict(self) -> dict[str, Any]:
        return {"numerator": self.numerator, "denominator": self.denominator, "rate": self.rate}


@dataclass
class UnitRates:
    code: str
    name: str
    kind: str
    response: Rate = field(default_factory=Rate)       # 响应率
    resolution: Rate = field(default_factory=Rate)     # 解决率
    satisfaction: Rate = field(default_factory=Rate)   # 满意率
    rank: int = 0

    @property
    def rates(self) -> list[float]:
        return [r.value for r in (self.response, self.resolution, self.satisfaction)
                if r.value is not None]

    @property
    def score(self) -> float | None:
        """The mean of the available rates (None: no data in the period)."""
        rates = self.rates
        return sum(rates) / len(rates) if rates else None

    def as_dict(self) -> dict[str, Any]:
        score = self.score
        return {"rank": self.rank, "unit": self.code, "name": self.name, "kind": self.kind,
                "response": self.response.as_dict(), "resolution": self.resolution.as_dict(),
                "satisfaction": self.satisfaction.as_dict(),
                "score": None if score is None else round(score, 4)}


def _money(x: Any) -> float:
    return round(float(x or 0), 2)


def projects_by_county(store: Store) -> list[CountyFigure]:
    """Library projects (市重点/省重点) and their total investment per county or zone, in
    the units' order; every county and zone is listed."""
    marks = ",".join("?" * len(LIBRARY_IN))
    rows = store.all(
        "SELECT u.name AS county, COUNT(p.ref) AS projects, TOTAL(p.investment_wan) AS inv "
        f"FROM units u LEFT JOIN projects p ON p.county = u.name AND p.library IN ({marks}) "
        "WHERE u.kind IN ('county','zone') GROUP BY u.code ORDER BY u.rowid", LIBRARY_IN)
    return [CountyFigure(r["county"], r["projects"], _money(r["inv"])) for r in rows]


def projects_by_stage(store: Store) -> list[StageFigure]:
    """Library projects and investment per stage (前期, 在建, 竣工, 投产; 0 where none)."""
    marks = ",".join("?" * len(LIBRARY_IN))
    got = {r["stage"]: r for r in store.all(
        "SELECT stage, COUNT(*) AS projects, TOTAL(investment_wan) AS inv FROM projects "
        f"WHERE library IN ({marks}) GROUP BY stage", LIBRARY_IN)}
    order = list(PROJECT_STAGES) + sorted(set(got) - set(PROJECT_STAGES))
    return [StageFigure(s, got[s]["projects"] if s in got else 0,
                        _money(got[s]["inv"]) if s in got else 0.0) for s in order]


def projects_by_library(store: Store) -> list[LibraryFigure]:
    """Every project by library decision: applied, city, province, rejected."""
    got = {r["library"]: r for r in store.all(
        "SELECT library, COUNT(*) AS projects, TOTAL(investment_wan) AS inv FROM projects "
        "GROUP BY library")}
    return [LibraryFigure(lv, LIBRARY_LABELS[lv], got[lv]["projects"] if lv in got else 0,
                          _money(got[lv]["inv"]) if lv in got else 0.0) for lv in LIBRARY_LEVELS]


def _days(p: Period) -> tuple[str, str, str | None]:
    """The whole days of ``p`` as ``[lo, hi)`` (local dates), read from the sums per day
    (``appeal_day_figures``, kept equal to the appeals by the schema's triggers), and the start
    of the as-of day when the period ends inside it: that part, up to ``p.at``, is read from
    the appeals themselves (None for a complete month)."""
    if p.complete:
        return p.first_day.isoformat(), p.end[:10], None
    return p.first_day.isoformat(), p.last_day.isoformat(), timeutil.start_of_day(p.last_day)


def appeals_by_category(store: Store, p: Period | str | None = None) -> list[CategoryFigure]:
    """Appeals per category (all seven, in DOMAIN order): all on record, not yet closed,
    and submitted in the period."""
    p = _period(p)
    lo, hi, today = _days(p)
    got = {r[0]: [r[1], r[1] - r[2], 0] for r in store.all(
        "SELECT category, appeals, closed FROM appeal_category_figures")}
    for r in store.all("SELECT category, TOTAL(submitted) FROM appeal_day_figures WHERE day >= ? AND day < ? "
                       "GROUP BY category", (lo, hi)):
        got.setdefault(r[0], [0, 0, 0])[2] += r[1]
    if today is not None:
        for r in store.all("SELECT category, COUNT(*) FROM appeals WHERE submitted_at >= :day "
                           "AND submitted_at <= :at GROUP BY category", {"day": today, "at": p.at}):
            got.setdefault(r[0], [0, 0, 0])[2] += r[1]
    return [CategoryFigure(code, label, *(int(x) for x in got.get(code, (0, 0, 0))))
            for code, label in labels.labels("category").items()]


def cards_by_colour(store: Store, p: Period | str | None = None) -> CardFigures:
    """The current cards of appeals on a unit's clock, and the cards raised in the period."""
    p = _period(p)
    marks = ",".join("?" * len(OPEN_STATES))
    # the carded ones from the carded appeals' index, in its order (state, card: no sort), the
    # rest by a count of the open ones
    current: dict[str, int] = {}
    for card, n in store.all(f"SELECT card, COUNT(*) FROM appeals WHERE state IN ({marks}) AND card != '' "
                             "GROUP BY state, card", OPEN_STATES):
        current[card] = current.get(card, 0) + n
    current["none"] = store.scalar(f"SELECT COUNT(*) FROM appeals WHERE state IN ({marks})",
                                   OPEN_STATES) - sum(current.values())
    # each colour's range of the card events by colour and time (``card_events_card_threshold``)
    raised = {r[0]: r[1] for r in store.all(
        "SELECT card, COUNT(*) FROM card_events WHERE card IN ('blue','yellow','red') "
        "AND threshold_at >= :start AND threshold_at < :end AND threshold_at <= :at GROUP BY card",
        p.params())}
    return CardFigures(open={c: current.get(c, 0) for c in (*CARDS, "none")},
                       raised={c: raised.get(c, 0) for c in CARDS})


def _monday(day: _dt.date) -> _dt.date:
    return day - _dt.timedelta(days=day.weekday())


def appeals_per_week(store: Store, until: _dt.date | str | None = None, *,
                     weeks: int = WEEKS) -> list[WeekFigure]:
    """Appeals submitted per ISO week (Monday start, Asia/Shanghai) for the ``weeks`` weeks
    ending with the week of ``until`` (a date or ISO time; default: today), counted up to the
    end of ``until``; weeks with none are 0. The last week ends at ``until`` (its
    ``week_end``): a past month's last days, or this week so far, are not labelled as a
    whole week."""
    if until is None:
        until = timeutil.now()
    if not isinstance(until, _dt.date) or isinstance(until, _dt.datetime):
        until = timeutil.local_date(until)
    first = _monday(until) - _dt.timedelta(weeks=weeks - 1)
    per_day = store.all("SELECT day, TOTAL(submitted) FROM appeal_day_figures WHERE day >= ? AND day <= ? "
                        "GROUP BY day", (first.isoformat(), until.isoformat()))
    counts = [0] * weeks
    for day, n in per_day:
        counts[(_dt.date.fromisoformat(day) - first).days // 7] += int(n)
    out = []
    for i, n in enumerate(counts):
        start = first + _dt.timedelta(weeks=i)
        y, wk, _ = start.isocalendar()
        out.append(WeekFigure(start.isoformat(), min(start + _dt.timedelta(days=6), until).isoformat(),
                              f"{y}-W{wk:02d}", n))
    return out


_SATISFIED_SQL = ", ".join(f"'{r}'" for r in SATISFIED)
_RATE_COLUMNS = ("resp_n", "resp_d", "res_n", "res_d", "sat_n", "sat_d")
# whole days: the sums per day
_RATES_OF_DAYS = """
SELECT unit_code, TOTAL(due_met) AS resp_n, TOTAL(due) AS resp_d, TOTAL(closed_clean) AS res_n,
       TOTAL(closed) AS res_d, TOTAL(satisfied) AS sat_n, TOTAL(evaluated) AS sat_d
FROM appeal_day_figures WHERE day >= :lo AND day < :hi AND unit_code != '' GROUP BY unit_code
"""
# the as-of day up to the moment: the appeals that fell due, were closed or were evaluated in it
# (each part by its own index; every state is named so that the deadline's index serves)
_STATES_SQL = ", ".join(f"'{s}'" for s in APPEAL_STATES)
_RATES_OF_TODAY = f"""
SELECT unit_code, TOTAL(resp_n), TOTAL(resp_d), TOTAL(res_n), TOTAL(res_d), TOTAL(sat_n), TOTAL(sat_d) FROM (
    SELECT unit_code, IFNULL(answered_at <= deadline, 0) AS resp_n, 1 AS resp_d, 0 AS res_n, 0 AS res_d,
           0 AS sat_n, 0 AS sat_d
    FROM appeals WHERE state IN ({_STATES_SQL}) AND deadline >= :day AND deadline <= :at
    UNION ALL
    SELECT unit_code, 0, 0, NOT EXISTS (SELECT 1 FROM supervision_orders o WHERE o.appeal_id = a.id
                                        AND o.opened_at >= COALESCE(a.arrived_at, '')), 1, 0, 0
    FROM appeals a WHERE state = 'closed' AND closed_at >= :day AND closed_at <= :at
    UNION ALL
    SELECT unit_code, 0, 0, 0, 0, rating IN ({_SATISFIED_SQL}), 1
    FROM appeals WHERE rating IS NOT NULL AND evaluated_at >= :day AND evaluated_at <= :at
) WHERE unit_code IS NOT NULL GROUP BY unit_code
"""
def _rate(n: Any, d: Any) -> Rate:
    return Rate(int(n or 0), int(d or 0))


def rank_units(units: list[UnitRates]) -> list[UnitRates]:
    """Worst first: by the mean of the available rates, then the lowest single rate, then
    name; units with no rate last, by name. Sets ``rank`` (1-based) and returns a new list."""
    def key(u: UnitRates) -> tuple:
        score = u.score
        if score is None:
            return (1, 0.0, 0.0, u.name, u.code)
        return (0, score, min(u.rates), u.name, u.code)
    ranked = sorted(units, key=key)
    for i, u in enumerate(ranked, start=1):
        u.rank = i
    return ranked


def city_rates(units: list[UnitRates]) -> dict[str, Rate]:
    """响应率, 解决率, 满意率 of all the units together (sums of numerators and denominators)."""
    return {k: Rate(sum(getattr(u, k).numerator for u in units),
                    sum(getattr(u, k).denominator for u in units)) for k in RATE_LABELS}


def unit_rates(store: Store, p: Period | str | None = None) -> list[UnitRates]:
    """响应率, 解决率 and 满意率 per handling unit for the period, ranked worst first (a unit of
    another kind is listed when it has a figure in the period)."""
    p = _period(p)
    lo, hi, today = _days(p)
    sums: dict[str, list[float]] = {}
    parts = [(_RATES_OF_DAYS, {"lo": lo, "hi": hi})]
    if today is not None:
        parts.append((_RATES_OF_TODAY, {"day": today, "at": p.at}))
    for sql, params in parts:
        for r in store.all(sql, params):
            got = sums.setdefault(r[0], [0.0] * len(_RATE_COLUMNS))
            for i in range(len(_RATE_COLUMNS)):
                got[i] += r[i + 1]
    units = []
    for r in store.all("SELECT code, name, kind FROM units ORDER BY rowid"):
        n = sums.get(r["code"])
        if r["kind"] not in HANDLING_UNIT_KINDS and not any(n or ()):
            continue
        resp_n, resp_d, res_n, res_d, sat_n, sat_d = n or [0] * len(_RATE_COLUMNS)
        units.append(UnitRates(r["code"], r["name"], r["kind"], _rate(resp_n, resp_d),
                               _rate(res_n, res_d), _rate(sat_n, sat_d)))
    return rank_units(units)


# -- the whole dashboard ------------------------------------------------------------------------
@dataclass
class Dashboard:
    period: Period
    projects_by_county: list[CountyFigure]
    projects_by_stage: list[StageFigure]
    projects_by_library: list[LibraryFigure]
    appeals_by_category: list[CategoryFigure]
    cards: CardFigures
    appeals_per_week: list[WeekFigure]
    unit_rates: list[UnitRates]
    forecast: escalation.Forecast | None = None   # the cards ahead of ``period.at``

    @property
    def city_rates(self) -> dict[str, Rate]:
        """The whole city's 三率: the units' numerators and denominators summed."""
        return city_rates(self.unit_rates)

    def as_dict(self) -> dict[str, Any]:
        """What ``taian stats --json`` prints."""
        return {
            "month": self.period.month,
            "at": self.period.at,
            "period": self.period.as_dict(),
            "projects_counted": list(LIBRARY_IN),
            "projects_by_county": [asdict(x) for x in self.projects_by_county],
            "projects_by_stage": [asdict(x) for x in self.projects_by_stage],
            "projects_by_library": [asdict(x) for x in self.projects_by_library],
            "appeals_by_category": [asdict(x) for x in self.appeals_by_category],
            "cards": asdict(self.cards),
            "appeals_per_week": [asdict(x) for x in self.appeals_per_week],
            "unit_rates": [u.as_dict() for u in self.unit_rates],
            "city_rates": {k: r.as_dict() for k, r in self.city_rates.items()},
            "forecast": self.forecast.as_dict() if self.forecast is not None else None,
        }


@contextlib.contextmanager
def snapshot(store: Store) -> Iterator[None]:
    """One read transaction, so that every figure sees the same state of the file (WAL); inside
    one already open, nothing more (the dashboard, the exports of ``read.exports``)."""
    if store.conn.in_transaction:
        yield
        return
    store.conn.execute("BEGIN")
    try:
        yield
    finally:
        if store.conn.in_transaction:
            store.conn.execute("COMMIT")


def dashboard(store: Store, month: str | None = None, at: str | None = None, *,
              forecast: bool = True) -> Dashboard:
    """Every figure for ``month`` (default: the current month) as of ``at`` (default: now),
    and (``forecast``) the cards ahead of ``at``, city-wide (``escalation.forecast``)."""
    p = period(month, at)
    with snapshot(store):
        return Dashboard(
            forecast=escalation.forecast(store, p.at) if forecast else None,
            period=p,
            projects_by_county=projects_by_county(store),
            projects_by_stage=projects_by_stage(store),
            projects_by_library=projects_by_library(store),
            appeals_by_category=appeals_by_category(store, p),
            cards=cards_by_colour(store, p),
            appeals_per_week=appeals_per_week(store, p.last_day),
            unit_rates=unit_rates(store, p),
        )


# -- text ---------------------------------------------------------------------------------------
def pct(rate: Rate | float | None) -> str:
    value = rate.value if isinstance(rate, Rate) else rate
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def summary_lines(d: Dashboard) -> list[str]:
    """The plain-text summary of ``taian stats``."""
    p = d.period
    state = "complete" if p.complete else f"to {p.last_day.isoformat()}"
    lines = [f"taian stats for {p.month} ({state}; as of {p.at})"]
    total = sum(c.projects for c in d.projects_by_county)
    inv = sum(c.investment_wan for c in d.projects_by_county)
    lines.append(f"projects in the library (市重点+省重点): {total}, investment {_num(inv)} 万元")
    lines.append("  by county: " + (", ".join(
        f"{c.county} {c.projects} ({_num(c.investment_wan)} 万元)"
        for c in d.projects_by_county if c.projects) or "none"))
    lines.append("  by stage: " + ", ".join(
        f"{s.stage} {s.projects} ({_num(s.investment_wan)} 万元)" for s in d.projects_by_stage))
    lines.append("  all projects by library: " + ", ".join(
        f"{lv.label} {lv.projects}" for lv in d.projects_by_library))
    lines.append("appeals by category (all / unresolved / submitted this month): " + ", ".join(
        f"{c.label} {c.appeals}/{c.unresolved}/{c.in_month}" for c in d.appeals_by_category))
    lines.append("cards of open appeals now: " + ", ".join(
        f"{CARD_LABELS[k]} {v}" for k, v in d.cards.open.items()))
    lines.append(f"cards raised in {p.month}: " + ", ".join(
        f"{CARD_LABELS[k]} {v}" for k, v in d.cards.raised.items()))
    lines += forecast_lines(d.forecast)
    weeks = d.appeals_per_week
    lines.append(f"appeals per week, {weeks[0].week_start} to {weeks[-1].week_end}: "
                 + " ".join(str(w.appeals) for w in weeks))
    lines.append(f"三率 of the whole city in {p.month}: " + ", ".join(
        f"{RATE_LABELS[k]} {pct(r)} ({r.numerator}/{r.denominator})" for k, r in d.city_rates.items()))
    lines.append(f"三率 ranking for {p.month}, worst first (rate, numerator/denominator):")
    with_data = [u for u in d.unit_rates if u.score is not None]
    for u in with_data:
        parts = [f"{RATE_LABELS[k]} {pct(getattr(u, k))} ({getattr(u, k).numerator}/"
                 f"{getattr(u, k).denominator})" for k in RATE_LABELS]
        lines.append(f"  {u.rank:>2}. {u.name}  " + "  ".join(parts) + f"  mean {pct(u.score)}")
    nodata = len(d.unit_rates) - len(with_data)
    if nodata:
        lines.append(f"  ({nodata} units with no appeal due, closed or evaluated in {p.month})")
    return lines


def forecast_lines(f: escalation.Forecast | None, units: int = 5) -> list[str]:
    """``taian stats``'s lines of the cards ahead: one per horizon, with the units to call
    first (at most ``units``, worst first)."""
    if f is None:
        return []
    lines = []
    for i, h in enumerate(f.horizons):
        what = "next working day" if h.working_days == 1 else f"{h.working_days} working days"
        line = (f"cards ahead by {h.day} 00:00 ({what}; if nothing is answered): "
                + ", ".join(f"{CARD_LABELS[k]} {n}" for k, n in h.total.as_dict().items()))
        first = f.units_for(i)
        if first:
            line += "; by unit, worst first: " + ", ".join(
                f"{u.name} (" + ", ".join(f"{CARD_LABELS[k]} {n}" for k, n in u.counts[i].as_dict().items()
                                          if n) + ")"
                for u in first[:units])
            if len(first) > units:
                line += f" and {len(first) - units} more"
        lines.append(line)
    for w in f.warnings:
        lines.append(f"  warning: {w}")
    return lines


def dashboard_months(store: Store, at: str | None = None, *, limit: int = 36) -> list[str]:
    """``YYYY-MM`` of the months the dashboard can show, newest first: from the first appeal's
    month (at most ``limit`` months back) to the month of ``at``."""
    at = timeutil.iso(at)
    first = store.scalar("SELECT MIN(submitted_at) FROM appeals") or at
    y, m = int(at[:4]), int(at[5:7])
    fy, fm = int(first[:4]), int(first[5:7])
    out = []
    while len(out) < limit and (y, m) >= (fy, fm):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out or [at[:7]]
