"""Switching screens does only what changed (issue 13, point 6; console/styles.py): the CSS
is parsed once per process and re-applied only when a change could concern a mounted node;
a screen shown again is restyled only when its styles' inputs changed while it was away;
the footers keep their keys (the current screen's key greyed and without its word, not
hidden)."""
from __future__ import annotations

from textual.css.stylesheet import CssSource, Stylesheet
from textual.widgets._footer import FooterKey

from taian_tui.console import styles
from taian_tui.console.app import TaianApp
from taian_tui.console.widgets import KeysFooter
from taian_tui.screens.escalation import BoardScreen
from taian_tui.screens.inbox import InboxScreen

SIZE = (120, 36)
CSS = "Static { color: red; }"


# -- the stylesheet ---------------------------------------------------------------------------------
def test_two_stylesheets_share_the_rules_parsed_once():
    a = styles.SharedStylesheet(variables={"primary": "#112233"})
    b = styles.SharedStylesheet(variables={"primary": "#112233"})
    for sheet in (a, b):
        sheet.add_source(CSS, read_from=("test.tcss", "one"))
        sheet.parse()
    assert a.rules[0] is b.rules[0]
    b.reparse()                                      # a refresh: same rules, not a new parse
    assert b.rules[0] is a.rules[0]


def test_other_variables_parse_again():
    a = styles.SharedStylesheet(variables={"primary": "#112233"})
    b = styles.SharedStylesheet(variables={"primary": "#445566"})
    for sheet in (a, b):
        sheet.add_source("Static { color: $primary; }", read_from=("test.tcss", "var"))
        sheet.parse()
    assert a.rules[0] is not b.rules[0]
    assert str(a.rules[0].styles.color) != str(b.rules[0].styles.color)


def _sheet(*sources: tuple[str, str, str]) -> Stylesheet:
    sheet = styles.SharedStylesheet(variables={})
    for name, css, scope in sources:
        sheet.add_source(css, read_from=("x.py", name), is_default_css=True, scope=scope)
    return sheet


def test_a_refresh_is_needed_only_when_a_mounted_node_could_change():
    variables = {"primary": "#112233"}
    base = ("A.DEFAULT_CSS", "A { color: red; }", "A")
    last = styles.css_state(_sheet(base), 7, variables)
    # nothing new
    assert styles.css_unchanged(_sheet(base), last, 7, variables) is True
    # a new class's scoped DEFAULT_CSS: only its own instances, mounted after it
    assert styles.css_unchanged(_sheet(base, ("B.DEFAULT_CSS", "B { color: blue; }", "B")),
                                last, 7, variables) is True
    # an unscoped new source may match nodes already mounted
    assert styles.css_unchanged(_sheet(base, ("M.DEFAULT_CSS", "Static { color: blue; }", "")),
                                last, 7, variables) is False
    # a source changed, a theme (variables, update count) changed, or never refreshed
    assert styles.css_unchanged(_sheet(("A.DEFAULT_CSS", "A { color: green; }", "A")),
                                last, 7, variables) is False
    assert styles.css_unchanged(_sheet(base), last, 7, {"primary": "#000000"}) is False
    assert styles.css_unchanged(_sheet(base), last, 8, variables) is False
    assert styles.css_unchanged(_sheet(base), None, 7, variables) is False
    assert isinstance(_sheet(base).source[("x.py", "A.DEFAULT_CSS")], CssSource)


# -- in the console ---------------------------------------------------------------------------------
async def test_the_footer_keeps_its_keys_across_switches_and_greys_the_current_screen(settle, tui_db):
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        keys = {k.key: k for k in inbox.query_one(KeysFooter).query(FooterKey)}
        assert keys["f2"].has_class("-disabled") is True and keys["f3"].has_class("-disabled") is False
        await pilot.press("f3")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)
        board_keys = {k.key: k for k in board.query_one(KeysFooter).query(FooterKey)}
        assert board_keys["f3"].has_class("-disabled") is True and board_keys["f2"].has_class("-disabled") is False
        assert (board_keys["f2"].description, board_keys["f3"].description) == ("诉求", "")
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is inbox
        again = {k.key: k for k in inbox.query_one(KeysFooter).query(FooterKey)}
        # the same widgets (not rebuilt), their states updated in place
        assert set(again) == set(keys) and all(again[k] is keys[k] for k in keys)
        assert again["f2"].has_class("-disabled") is True and again["f3"].has_class("-disabled") is False
        # the screen shown: its key alone; the others with their words (as on the board)
        assert (again["f2"].description, again["f3"].description) == ("", "督办看板")


async def test_a_theme_changed_while_a_screen_was_away_restyles_it_when_shown(settle, tui_db):
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        inbox = app.screen
        footer = inbox.query_one(KeysFooter)
        dark = footer.styles.background
        state = app.style_state()
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert app.style_state() == state                 # nothing changed: not restyled
        assert footer.styles.background == dark
        await pilot.press("f3")
        await settle(pilot)
        app.theme = "textual-light"                       # while the inbox is away
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert app.style_state() != state
        light = footer.styles.background
        assert light != dark
        # what a fresh console in that theme shows
        fresh = TaianApp(tui_db, username="admin", poll=False, theme="textual-light")
        async with fresh.run_test(size=SIZE) as pilot2:
            await settle(pilot2)
            assert fresh.screen.query_one(KeysFooter).styles.background == light


# -- the collector ----------------------------------------------------------------------------------
async def test_the_settled_console_keeps_its_objects_out_of_the_full_collections(monkeypatch, settle,
                                                                                  tui_db):
    """Once the other screens' modules are imported, a collection, then what is alive is
    frozen: the collector's full passes no longer walk it (the console's process, for good)."""
    import gc

    from taian_tui.console import app as app_module

    monkeypatch.setattr(app_module, "WARM_UP_AFTER", 0.05)
    monkeypatch.setattr(TaianApp, "SETTLE_HEAP", True)
    before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    app = TaianApp(tui_db, username="admin", poll=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for _ in range(100):
                if app._heap_settled:
                    break
                await pilot.pause(0.02)
            assert app._heap_settled
            assert gc.get_freeze_count() > before
            # a full pass considered after every pass of the middle generation
            assert gc.get_threshold() == app_module.GC_THRESHOLDS == (700, 10, 1)
            # the console's own objects among them (the app, its first screen): out of every
            # generation's list; a screen made after it is in one
            screen = app.screen
            assert not any(o is screen or o is app for o in gc.get_objects())
            await pilot.press("f3")
            await settle(pilot)
            assert any(o is app.screen for o in gc.get_objects())
    finally:
        gc.set_threshold(*thresholds)
        # this test process's own frozen set again (tests/conftest.py freezes after collection)
        gc.unfreeze()
        gc.collect()
        gc.freeze()


async def test_the_dashboard_draws_each_chart_for_one_width(monkeypatch, settle, tui_db):
    """The charts' column keeps room for its scroll bar (``scrollbar-gutter: stable``): when
    the figures come and the charts outgrow the screen, the bar does not narrow them, so the
    screen is laid out and painted once for them (it was twice: every chart drawn again a
    column narrower). A chart is drawn once per width it is measured at (the two across the
    grid's both columns are measured at a column's width as well)."""
    from taian_tui.screens.dashboard import DashboardScreen

    draws: dict[str, list[int]] = {}

    def counting(id_, draw):
        def wrapped(figures, width):
            draws.setdefault(id_, []).append(width)
            return draw(figures, width)
        return wrapped
    monkeypatch.setattr(DashboardScreen, "CHARTS", tuple(
        (id_, key, counting(id_, draw)) for id_, key, draw in DashboardScreen.CHARTS))
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert screen.query_one("#charts").max_scroll_y > 0     # they outgrow the screen
        final = {id_: screen.query_one(f"#{id_}").content_size.width for id_, _k, _d in screen.CHARTS}
        for id_, widths in draws.items():
            assert len(widths) == len(set(widths)), (id_, widths)   # never drawn twice for a width
        for id_ in ("chart-county", "chart-stage", "chart-category", "chart-cards"):
            assert draws[id_] == [final[id_]], (id_, draws[id_])      # one width: its own
        for id_ in ("chart-weeks", "chart-rank"):                      # across both columns
            assert final[id_] > 100 and [w for w in draws[id_] if w > 60] == [final[id_]], (id_, draws[id_])
