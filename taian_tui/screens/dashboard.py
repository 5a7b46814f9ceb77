"""The dashboard (数据看板): pictures of ``stats.dashboard()`` for a chosen month.

Projects and investment by county and by stage, appeals by category, cards by colour,
appeals per week over the last six months, and the 三率 ranking of the units, worst first.
Every chart is drawn with block characters (rich ``Text``, eighth-block resolution) for the
width it has, so it reads at 80×24 as well as on a wide terminal, in Chinese or English.
The figures are read in a worker thread with its own ``Store``.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Select, Static

from taian_tui.read import exports, stats
from taian_tui.domain import timeutil
from taian_tui.console.messages import FiguresLoaded, WorkFailed
from taian_tui.console.strings import code_label, get_lang, t
from taian_tui.console.widgets import (KeysFooter, COLUMN_EIGHTHS, HeaderBar, hbar, localise_bindings, money, money_unit, pad, plain,
                       visible)
from taian_tui.screens.common import LiveScreen
from taian_tui.screens.exporting import ExportsList

CARD_COLOURS = {"blue": "bold bright_blue", "yellow": "bold yellow", "red": "bold red", "none": "dim"}
PROJECTS_STYLE = "cyan"
INVEST_STYLE = "magenta"


def short_name(name: str) -> str:
    """A unit's name as a chart label: without the city's prefix, zones abbreviated."""
    out = visible(name)
    for prefix in ("泰安市", "泰安"):
        if out.startswith(prefix) and len(out) > len(prefix) + 2:
            out = out[len(prefix):]
            break
    return out.replace("高新技术产业开发区", "高新区")


def _label_width(labels: list[str], width: int, cap: int) -> int:
    return max(4, min(max((cell_len(x) for x in labels), default=4), cap, max(width // 3, 4)))


def _rate_style(value: float | None) -> str:
    if value is None:
        return "dim"
    if value < 0.6:
        return "bold red"
    if value < 0.85:
        return "yellow"
    return "green"


# -- charts ----------------------------------------------------------------------------------------
def paired_bars(rows: list[tuple[str, int, float]], width: int, *, first: str, second: str) -> Text:
    """Per row: label, a bar of the count and its number, a bar of the investment and the
    amount (each bar scaled to its own largest value)."""
    out = Text(end="", no_wrap=True)
    if not rows:
        return out
    labels = [r[0] for r in rows]
    lw = _label_width(labels, width, 12)
    counts = [str(r[1]) for r in rows]
    unit = money_unit(*(r[2] for r in rows))              # one unit down the column
    amounts = [money(r[2], unit) for r in rows]
    nw = max(max(len(c) for c in counts), 3)
    aw = max(max(cell_len(a) for a in amounts), 4)
    bars = max(width - lw - nw - aw - 5, 4)
    b1 = max(bars * 2 // 5, 2)
    b2 = max(bars - b1, 2)
    max_n = max(r[1] for r in rows)
    max_a = max(r[2] for r in rows)
    out.append_text(pad("", lw + 1))
    out.append_text(pad(first, b1 + 1 + nw, right=False))
    out.append("  ")
    out.append_text(pad(second, b2 + 1 + aw))
    for (label, n, amount), count, amt in zip(rows, counts, amounts):
        out.append("\n")
        out.append_text(pad(label, lw))
        out.append(" ")
        out.append_text(hbar(n, max_n, b1, PROJECTS_STYLE))
        out.append(f" {count:>{nw}}", style="bold" if n else "dim")
        out.append("  ")
        out.append_text(hbar(amount, max_a, b2, INVEST_STYLE))
        out.append(" ")
        out.append_text(pad(amt, aw, right=True))
    return out


def county_chart(d: stats.Dashboard, width: int) -> Text:
    rows = [(short_name(c.county), c.projects, c.investment_wan) for c in d.projects_by_county]
    out = paired_bars(rows, width, first=t("dash.projects"), second=t("dash.investment"))
    total = sum(c.projects for c in d.projects_by_county)
    inv = sum(c.investment_wan for c in d.projects_by_county)
    out.append("\n")
    out.append(t("dash.library_total", n=total, amount=money(inv)), style="dim")
    return out


def stage_chart(d: stats.Dashboard, width: int) -> Text:
    rows = [(code_label("stage", s.stage), s.projects, s.investment_wan) for s in d.projects_by_stage]
    out = paired_bars(rows, width, first=t("dash.projects"), second=t("dash.investment"))
    out.append("\n\n")
    out.append(t("dash.library") + " ", style="bold")
    parts = [f"{code_label('library', lv.library)} {lv.projects}" for lv in d.projects_by_library]
    line = Text(" · ".join(parts), end="")
    line.truncate(max(width - cell_len(t("dash.library")) - 1, 8), overflow="ellipsis")
    out.append_text(line)
    return out


def category_chart(d: stats.Dashboard, width: int) -> Text:
    """Stacked bars: closed (cyan) and not yet closed (yellow), with the month's new ones."""
    rows = d.appeals_by_category
    out = Text(end="", no_wrap=True)
    labels = [code_label("category", c.category) for c in rows]
    lw = _label_width(labels, width, 12)
    cols = [t("dash.cat.all"), t("dash.cat.open"), t("dash.cat.month")]
    nw = max(max((len(str(c.appeals)) for c in rows), default=3), max(cell_len(x) for x in cols))
    bar = max(width - lw - 3 * (nw + 1) - 1, 4)
    top = max((c.appeals for c in rows), default=0)
    out.append_text(pad("", lw + 1 + bar))
    for head in cols:
        out.append(" ")
        out.append_text(pad(head, nw, right=True))
    for c, label in zip(rows, labels):
        out.append("\n")
        out.append_text(pad(label, lw))
        out.append(" ")
        closed = c.appeals - c.unresolved
        bar_text = hbar(c.appeals, top, bar, "yellow")
        # the closed share of the bar in another colour (the bar is stacked)
        filled = len(bar_text.plain.rstrip())
        closed_cells = round(filled * closed / c.appeals) if c.appeals else 0
        if closed_cells:
            bar_text.stylize("cyan", 0, closed_cells)
        out.append_text(bar_text)
        for n, style in ((c.appeals, "bold"), (c.unresolved, "yellow"), (c.in_month, "")):
            out.append(" ")
            out.append(f"{n:>{nw}}", style=style if n else "dim")
    out.append("\n")
    out.append("█", style="cyan")
    out.append(" " + t("dash.cat.closed") + "  ")
    out.append("█", style="yellow")
    out.append(" " + t("dash.cat.unresolved"))
    return out


def card_chart(d: stats.Dashboard, width: int) -> Text:
    out = Text(end="", no_wrap=True)
    groups = [(t("dash.cards.open"), [(c, d.cards.open.get(c, 0)) for c in ("blue", "yellow", "red", "none")]),
              (t("dash.cards.raised", month=d.period.month), [(c, d.cards.raised.get(c, 0))
                                                                for c in ("blue", "yellow", "red")])]
    labels = [code_label("card", c) if c != "none" else t("dash.cards.none") for c in ("blue", "yellow", "red", "none")]
    lw = _label_width(labels, width, 8)
    nw = max(len(str(n)) for _, items in groups for _, n in items)
    bar = max(width - lw - nw - 2, 4)
    for gi, (title, items) in enumerate(groups):
        if gi:
            out.append("\n")
        out.append(title, style="bold")
        top = max((n for _, n in items), default=0)
        for card, n in items:
            out.append("\n")
            label = code_label("card", card) if card != "none" else t("dash.cards.none")
            out.append_text(pad(label, lw))
            out.append(" ")
            out.append_text(hbar(n, top, bar, CARD_COLOURS[card]))
            out.append(f" {n:>{nw}}", style="bold" if n else "dim")
    return out


def week_chart(d: stats.Dashboard, width: int, height: int = 7) -> Text:
    """A column per ISO week (eighth-block resolution), the weeks of the chosen month bright,
    with the largest value on the axis and the months under the columns."""
    weeks = d.appeals_per_week
    out = Text(end="", no_wrap=True)
    if not weeks:
        return out
    top = max(w.appeals for w in weeks) or 1
    axis = max(len(str(top)), 1) + 1
    cw = max(1, min(4, (width - axis) // len(weeks)))
    bar_w = cw - 1 if cw > 1 else 1
    first, last = d.period.first_day.isoformat(), d.period.last_day.isoformat()
    levels = [w.appeals / top * height * 8 for w in weeks]
    for row in range(height, 0, -1):
        if row == height:
            out.append(f"{top:>{axis - 1}}┤", style="dim")
        elif row == 1:
            out.append(f"{0:>{axis - 1}}┤", style="dim")
        else:
            out.append(" " * (axis - 1) + "│", style="dim")
        for w, level in zip(weeks, levels):
            filled = level - (row - 1) * 8
            if filled >= 8:
                ch = "█"
            elif filled > 0:
                ch = COLUMN_EIGHTHS[max(1, int(round(filled)))] if round(filled) < 8 else "█"
            else:
                ch = " "
            in_month = w.week_end >= first and w.week_start <= last
            out.append(ch * bar_w, style="bold bright_cyan" if in_month else "cyan")
            if cw > 1:
                out.append(" ")
        out.append("\n")
    # the month under the first week that starts in it
    axis_line = [" "] * (axis + len(weeks) * cw + 8)
    previous = None
    pos = axis
    for w in weeks:
        month = int(w.week_start[5:7])
        if month != previous:
            label = f"{month}月" if get_lang() == "zh" else _dt.date(2000, month, 1).strftime("%b")
            if all(ch == " " for ch in axis_line[pos:pos + cell_len(label) + 1]):
                for i, ch in enumerate(label):
                    axis_line[pos + i] = ch
                if cell_len(label) > len(label):  # CJK: two cells for 月
                    axis_line[pos + len(label)] = ""
            previous = month
        pos += cw
    text = "".join(axis_line).rstrip()
    line = Text(text, style="dim", end="")
    line.truncate(width, overflow="crop")
    out.append_text(line)
    out.append("\n")
    total = sum(w.appeals for w in weeks)
    out.append(t("dash.weeks_total", first=weeks[0].week_start, last=weeks[-1].week_end, n=total,
                 avg=f"{total / len(weeks):.0f}"), style="dim")
    return out


def rank_chart(d: stats.Dashboard, width: int) -> Text:
    """三率 of each unit with data, worst first: the mean as a bar, then the three rates."""
    out = Text(end="", no_wrap=True)
    city = d.city_rates
    out.append(t("dash.city") + " ", style="bold")
    for i, key in enumerate(("response", "resolution", "satisfaction")):
        rate = city[key]
        if i:
            out.append(" · ")
        out.append(t(f"dash.rate.{key}") + " ")
        out.append(stats.pct(rate), style=_rate_style(rate.value))
    with_data = [u for u in d.unit_rates if u.score is not None]
    if not with_data:
        out.append("\n")
        out.append(t("dash.rank.none", month=d.period.month), style="dim")
        return out
    names = [short_name(u.name) for u in with_data]
    lw = _label_width(names, width, 16)
    rates_w = 3 * (cell_len(t("dash.rate.short.response")) + 5)
    bar = max(width - 3 - lw - 1 - 5 - rates_w - 2, 0)
    if bar < 6:
        bar = 0
    out.append("\n")
    for u, name in zip(with_data, names):
        out.append("\n")
        out.append(f"{u.rank:>2} ", style="dim")
        out.append_text(pad(name, lw))
        out.append(" ")
        score = u.score
        if bar:
            out.append_text(hbar(score, 1.0, bar, _rate_style(score), track="░", track_style="dim"))
        out.append(f"{score * 100:4.0f}%", style=_rate_style(score))
        out.append(" ")
        for key in ("response", "resolution", "satisfaction"):
            rate = getattr(u, key)
            out.append(" " + t(f"dash.rate.short.{key}"), style="dim")
            value = rate.value
            out.append("   —" if value is None else f"{value * 100:4.0f}", style=_rate_style(value))
    nodata = len(d.unit_rates) - len(with_data)
    if nodata:
        out.append("\n")
        out.append(t("dash.rank.nodata", n=nodata, month=d.period.month), style="dim")
    return out


class Chart(Widget):
    """One chart in a frame; drawn for the width it has (``draw(dashboard, width)``)."""

    DEFAULT_CSS = """
    Chart { height: auto; border: round $primary 40%; padding: 0 1; border-title-color: $text;
            border-title-style: bold; }
    """

    def __init__(self, title_key: str, draw: Callable[[stats.Dashboard, int], Text], **kw: Any) -> None:
        super().__init__(**kw)
        self.title_key = title_key
        self.draw = draw
        self.figures: stats.Dashboard | None = None
        self._drawn: dict[int, Text] = {}       # the figures' text per width
        self.border_title = t(title_key)

    def set_figures(self, figures: stats.Dashboard) -> None:
        self.figures = figures
        self._drawn = {}
        self.refresh(layout=True)

    def _text(self, width: int) -> Text:
        # drawn once per figures and width: the layout asks for the height and the paint
        # for the text, for each chart; a chart across both columns of the grid is measured
        # at a column's width and at its own, in turn, at every layout
        text = self._drawn.get(width)
        if text is not None:
            return text
        if self.figures is None:
            text = Text(t("status.loading"), style="dim", end="")
        else:
            try:
                text = self.draw(self.figures, max(width, 10))
            except Exception as exc:  # a drawing bug must not take the console down
                text = plain(t("err.unexpected", msg=f"{type(exc).__name__}: {exc}"))
        if len(self._drawn) >= 4:          # (a resize: the widths of before go)
            self._drawn.clear()
        self._drawn[width] = text
        return text

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return self._text(width).plain.count("\n") + 1

    def render(self) -> Text:
        return self._text(self.content_size.width)


class DashboardScreen(ExportsList, LiveScreen):
    """数据看板."""

    HELP_KEY = "help.dashboard"
    TITLE_KEY = "dash.title"
    EXPORT_NAME = "rates"
    EXPORT_COMMAND = "cmd.export.rates"

    BINDINGS = [
        Binding("left_square_bracket", "month(1)", "k.prev_month", id="dash.prev_month"),
        Binding("right_square_bracket", "month(-1)", "k.next_month", id="dash.next_month"),
        Binding("m", "choose_month", "k.month", id="dash.month"),
        Binding("x", "export", "k.export", id="dash.export", show=False),
        Binding("ctrl+r", "reload", "k.refresh", id="dash.refresh", show=False),
    ]

    DEFAULT_CSS = """
    DashboardScreen #dash-bar { height: 1; background: $panel; }
    DashboardScreen #dash-bar Select { width: 14; }
    DashboardScreen #dash-caption { width: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    DashboardScreen #charts { height: 1fr; layout: vertical; scrollbar-gutter: stable; }
    /* (room kept for the scroll bar: when the figures come and the charts outgrow the
       screen, the bar does not narrow them into a second layout, drawing and paint) */
    DashboardScreen #charts.-wide { layout: grid; grid-size: 2; grid-rows: auto; grid-gutter: 0 1; }
    DashboardScreen #charts.-wide #chart-rank { column-span: 2; }
    DashboardScreen #charts.-wide #chart-weeks { column-span: 2; }
    """

    CHARTS = (("chart-county", "dash.c.county", county_chart),
              ("chart-stage", "dash.c.stage", stage_chart),
              ("chart-category", "dash.c.category", category_chart),
              ("chart-cards", "dash.c.cards", card_chart),
              ("chart-weeks", "dash.c.weeks", week_chart),
              ("chart-rank", "dash.c.rank", rank_chart))

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        localise_bindings(self)
        self.months: list[str] = []
        self.month: str | None = None
        self.figures: stats.Dashboard | None = None
        self.generation = 0

    def compose(self) -> ComposeResult:
        # the months with data are read with the figures (in the worker); until then, this one
        self.months = [timeutil.iso()[:7]]
        self.month = self.months[0]
        yield HeaderBar()
        with Horizontal(id="dash-bar"):
            yield Select([(m, m) for m in self.months], value=self.month, allow_blank=False,
                         compact=True, id="dash-month")
            yield Static(t("status.loading"), id="dash-caption", markup=False)
        with VerticalScroll(id="charts"):
            for id_, key, draw in self.CHARTS:
                yield Chart(key, draw, id=id_)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self._layout()
        self.query_one("#charts").focus()
        self.reload()

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        self.query_one("#charts").set_class(self.app.size.width >= 110, "-wide")

    def reload(self) -> None:
        self.stale = False
        self.generation += 1
        self._load(self.generation, self.month)

    def _load(self, generation: int, month: str | None) -> None:
        self.run_in_store("dashboard", lambda job: FiguresLoaded(
            generation, stats.dashboard(job.store, month, forecast=False),    # (not shown here)
            stats.dashboard_months(job.store)))

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.task == "dashboard":
            message.stop()
            self.query_one("#dash-caption", Static).update(plain(t("err.load", msg=message.text), "bold red"))

    def on_figures_loaded(self, message: FiguresLoaded) -> None:
        if message.generation != self.generation:
            return
        caption = self.query_one("#dash-caption", Static)
        if message.months and message.months != self.months:
            self.months = message.months
            select = self.query_one("#dash-month", Select)
            with self.prevent(Select.Changed):
                select.set_options([(m, m) for m in self.months])
                if self.month in self.months:
                    select.value = self.month
            self.refresh_bindings()
        self.figures = message.figures
        p = self.figures.period
        key = "dash.caption_complete" if p.complete else "dash.caption_partial"
        self._caption = t(key, month=p.month, last=p.last_day.isoformat())
        caption.update(plain(self.with_export_note(self._caption)))
        for id_, _key, _draw in self.CHARTS:
            self.query_one(f"#{id_}", Chart).set_figures(self.figures)

    @on(Select.Changed, "#dash-month")
    def _month_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL and event.value != self.month:
            self.month = str(event.value)
            self.reload()
            self.refresh_bindings()

    def set_month(self, month: str) -> None:
        self.query_one("#dash-month", Select).value = month

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "month":
            step = parameters[0] if parameters else 0
            index = self.months.index(self.month) + int(step) if self.month in self.months else -1
            return True if 0 <= index < len(self.months) else None
        return True

    def action_month(self, step: int) -> None:
        if self.month not in self.months:
            return
        index = self.months.index(self.month) + step
        if 0 <= index < len(self.months):
            self.set_month(self.months[index])

    def action_choose_month(self) -> None:
        select = self.query_one("#dash-month", Select)
        select.focus()
        select.action_show_overlay()

    def action_reload(self) -> None:
        self.reload()

    # -- export ---------------------------------------------------------------------------------------
    _caption = ""

    def export_builder(self):
        """The units' 三率 ranking of the month shown, worst first, as of now (the ranking
        chart's order, with the units without data last): ``read.exports.rates_table``."""
        month = self.month
        return lambda store, act: exports.rates_table(store, stats.period(month))

    def export_command(self) -> str:
        return t(self.EXPORT_COMMAND, month=self.month or "")

    def export_note_changed(self) -> None:
        self.query_one("#dash-caption", Static).update(plain(self.with_export_note(self._caption)))

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = [(t("k.refresh"), "", self.action_reload),
                                            self.export_palette_command()]
        for month in self.months:
            cmds.append((t("cmd.dash_month", month=month), "", lambda m=month: self.set_month(m)))
        return cmds
