"""The terminal console (Textual): ``TaianApp(db_path, username=None, lang="zh")``.

Signed in as ``username`` (or, on a demo database, chosen from a short list of its users),
the console opens on the home screen of the role (``modes.MODES``): a liaison, a leader and
the admin on the appeal inbox of their scope, the supervision office on the escalation
board, the discipline commission on the red-card leads, the editor on the policy editor. A
one-line header shows who is signed in, the unit, the date and today's counts; the footer
shows the keys; ``?`` explains the screen; ``ctrl+p`` opens a command palette whose
commands follow the active screen. Ctrl+Q asks first while a screen holds unsaved work.

The app is thin: it keeps the session (``session.Session``, read at sign-in), the table of
modes, the header counts and the live refresh. Every read and write runs in a worker on its
``Store`` of the app's pool (``workers.run_in_store``: connections are kept open between
reads); nothing reads the database on the UI thread. A watcher thread looks at the file
every 2 s (``read.changes.ChangeWatch``: ``PRAGMA data_version``, then the kinds of the
audit rows written since) and refreshes the header counts and the screens whose reads the
change concerns; a form that saved refreshes them at once.
"""
from __future__ import annotations

import ctypes
import dataclasses
import gc
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Callable, Iterable, cast

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.reactive import var
from textual.screen import Screen
from textual.worker import get_current_worker

from taian_tui.console.messages import (CountsLoaded, DayChanged, FileChanged, SessionLoaded,
                                        UsersListed, WorkFailed)
from taian_tui.console.modes import MODE_BY_NAME, MODES
from taian_tui.console.session import Session, load_session
from taian_tui.console.strings import get_lang, set_lang, t
from taian_tui.console.styles import (SharedStylesheet, chinese_line_breaks, css_state, css_unchanged,
                                      release_styles_caches, drawing_freed_at_once)
from taian_tui.console.widgets import ScreenCommands, localise_bindings
from taian_tui.console.workers import Job, StorePool, run_in_store
from taian_tui.domain import timeutil
from taian_tui.domain.actors import Actor
from taian_tui.read import appeals, changes
from taian_tui.domain.actors import appeal_scope_units
from taian_tui.read.changes import ANYTHING, Change, ChangeWatch
from taian_tui.store import Store

if TYPE_CHECKING:
    from taian_tui.domain.escalation import Forecast

POLL_SECONDS = 2.0
#: The share of a core a console may spend on refreshing for other processes' commits
#: (``LiveBudget``), and the longest it waits for it.
LIVE_SHARE = 0.02
LIVE_MAX_WAIT = 30.0
#: Below this width the footer leaves out the screens' function keys (they still work, and
#: ``?`` and the command palette list them).
NAV_KEYS_MIN_WIDTH = 100
#: Seconds after sign-in at which the other screens' modules are imported (``_warm_up``):
#: after the first screen's reads (not to slow them), before a user's first switch.
WARM_UP_AFTER = 2.0
#: The cyclic collector's thresholds once the heap is settled (``TaianApp._settle_heap``):
#: Python's (700, 10, 10), but a full pass considered after every pass of the middle
#: generation instead of every tenth (it still runs only when the old generation has grown
#: by a quarter). Textual's restyles leave reference cycles (a virtual node per component
#: class of each widget restyled, with its styles: some forty per search) that waited for
#: the rarer full passes, raising a liaison's console by 3 MB over a day's keys; the passes
#: take 3 ms (median) each (benchmarks/console_memory.py).
GC_THRESHOLDS = (700, 10, 1)


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``); nothing
    where there is no such function."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)

release_styles_caches()         # Textual's drawing kept every gone widget's lines (textual#6665)
drawing_freed_at_once()         # cleared caches and drawn lines waited for the cyclic collector
chinese_line_breaks()           # no wrapped line begins with 。，、 or ends with （《


class Palette(CommandPalette):
    """Textual's command palette, its "no matches" in the console's language (Textual writes
    it in English, in the body of its countdown: this is that countdown, word for word but
    the words)."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        from rich.align import Align
        from rich.text import Text
        from textual.command import CommandList
        from textual.widgets.option_list import Option

        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(Align.center(Text(t("palette.no_matches"), style="not bold")), disabled=True,
                           id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


class LiveBudget:
    """When a console may refresh for other processes' commits: once the CPU it used since
    its last refresh is at most ``share`` of the time since (a token bucket on CPU). A
    liaison's refresh (a page of one unit) comes at once; a city-wide view on a million
    appeals (a page, its count, the header's counts: about 0.15 s of CPU) beside a writer
    committing every second refreshes every seven seconds or so instead of every two, so a
    hundred consoles stay under one core. Never later than ``max_wait``."""

    def __init__(self, share: float = LIVE_SHARE, max_wait: float = LIVE_MAX_WAIT,
                 wall=time.monotonic, cpu=time.process_time) -> None:
        self.share, self.max_wait, self._wall, self._cpu = share, max_wait, wall, cpu
        self.spent()

    def spent(self) -> None:
        """A refresh starts now: count from here."""
        self.since_wall, self.since_cpu = self._wall(), self._cpu()

    def wait(self) -> float:
        """Seconds until a refresh is within the budget (0: now)."""
        elapsed = self._wall() - self.since_wall
        used = self._cpu() - self.since_cpu
        return max(0.0, min(self.max_wait, used / self.share) - elapsed)


class TaianApp(App[None]):
    """泰安市重大项目督导服务平台 — government console."""

    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ScreenCommands}

    BINDINGS = [
        Binding("question_mark", "help", "k.help", id="app.help"),
        *(Binding(m.key, f"goto('{m.name}')", m.label_key, id=m.binding_id) for m in MODES),
        Binding("ctrl+q", "quit", "k.quit", id="app.quit", show=False, priority=True),
        Binding("ctrl+p", "command_palette", "palette", id="app.palette", show=False,
                priority=True),
        Binding("ctrl+c", "help_quit", show=False, system=True, id="app.help_quit"),
        # Tab moves the focus as it arrives (priority), so that keys typed right after it go to
        # the field it moves to: handled by the focused field instead, it waited in that
        # field's queue behind the keys the app had already handed to the same field (a
        # reason typed after an extension's days was dropped by the days field)
        Binding("tab", "focus_next", show=False, priority=True, id="app.focus_next"),
        Binding("shift+tab", "focus_previous", show=False, priority=True, id="app.focus_previous"),
    ]

    counts: var[appeals.HeaderCounts | None] = var(None)
    clock_tick: var[str] = var("")
    session: var[Session | None] = var(None)

    def __init__(self, db_path: str | os.PathLike, username: str | None = None,
                 lang: str = "zh", *, poll: bool = True, theme: str | None = None,
                 sign_in_list: bool = True) -> None:
        set_lang(lang)
        super().__init__()
        self.stylesheet = SharedStylesheet(variables=self.get_css_variables())
        self._css_applied: tuple | None = None
        self._css_generation = 0
        localise_bindings(self)
        self.db_path = str(db_path)
        self.lang = lang
        self.requested_user = username
        self.sign_in_list = sign_in_list
        self.poll = poll
        self._theme_name = theme or os.environ.get("TAIAN_THEME") or "textual-dark"
        self._live: "weakref.WeakSet[Screen]" = weakref.WeakSet()
        self.stores = StorePool(self.db_path)
        self._watch: ChangeWatch | None = None
        self._watch_lock = threading.Lock()
        self._rebase = threading.Event()
        self._budget = LiveBudget()
        self._pending: Change | None = None     # commits seen, not yet refreshed for
        self._pending_timer = None
        #: commits that concerned the appeals, counted (``data_changed``): how the cards ahead
        #: read at start know whether they are still as of now (``prefetched_ahead``)
        self.appeal_changes = 0
        self._ahead_prefetch: tuple[int, Forecast, float] | None = None
        self._ahead_prefetching = False
        self._ahead_asked = False               # the board has read them (or asked for these)
        self._ahead_waiter: Callable[[Forecast | None, float, bool], None] | None = None
        self.title = t("app.title")
        self.sub_title = t("app.sub")

    # -- the session ------------------------------------------------------------------------------
    @property
    def user(self):
        return self.session.user if self.session else None

    @property
    def username(self) -> str | None:
        return self.session.username if self.session else None

    @property
    def unit_name(self) -> str:
        return self.session.unit_name if self.session else ""

    @property
    def modes_available(self) -> tuple[str, ...]:
        return self.session.modes if self.session else ()

    @property
    def actor(self) -> Actor | None:
        """The signed-in user as signed in (no read): to decide what to offer."""
        return self.session.actor_now() if self.session else None

    # -- start and sign-in --------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._show_nav_keys(self.size.width >= NAV_KEYS_MIN_WIDTH)
        try:
            self.theme = self._theme_name
        except Exception:
            self.theme = "textual-dark"
        if self.requested_user:
            self.sign_in(self.requested_user)
        elif self.sign_in_list:
            self._list_users()
        if self.poll:
            self._watch_file()

    def on_resize(self, event: events.Resize) -> None:
        # the event's size: the app's own is the old one still while this handler runs (the
        # footer kept the keys of the width it started at)
        self._show_nav_keys(event.size.width >= NAV_KEYS_MIN_WIDTH)

    def _show_nav_keys(self, show: bool) -> None:
        """Show the function keys of the screens in the footer, or not (narrow terminal)."""
        bindings = self._bindings.key_to_bindings
        changed = False
        for mode in MODES:
            items = bindings.get(mode.key, [])
            if any(b.show != show for b in items):
                bindings[mode.key] = [dataclasses.replace(b, show=show) for b in items]
                changed = True
        if changed:
            self.refresh_bindings()

    def on_unmount(self) -> None:
        self.stores.close()
        if self._watch is not None:
            self._watch.store.close()

    def _list_users(self, error: str | None = None) -> None:
        from taian_tui.read import directory

        def read(job: Job) -> UsersListed:
            return UsersListed(directory.sign_in_choices(job.store), error)
        run_in_store(self, "sign-in-list", read)

    def on_users_listed(self, message: UsersListed) -> None:
        from taian_tui.screens.common import SignInScreen

        self.push_screen(SignInScreen(message.users, message.error))

    def sign_in(self, username: str) -> None:
        """Sign in as ``username`` (read in a worker); the role's home screen opens then."""
        def read(job: Job) -> SessionLoaded:
            session = load_session(job.store, username)
            self._changes()          # what is shown from now on is as of this point
            return SessionLoaded(session)
        run_in_store(self, "sign-in", read)

    @on(WorkFailed)
    def _work_failed(self, message: WorkFailed) -> None:
        if message.task == "sign-in":
            if self.sign_in_list:
                self._list_users(t("err.unknown_user", user=self._signing_in_as(), msg=message.text))
            else:
                self.exit(result=t("err.unknown_user", user=self._signing_in_as(), msg=message.text),
                          return_code=2)
        elif message.task != "header-counts":
            self.notify(message.text, severity="error", markup=False)

    def _signing_in_as(self) -> str:
        return self.requested_user or ""

    def on_session_loaded(self, message: SessionLoaded) -> None:
        session: Session = message.session
        self.requested_user = session.username
        self.session = session
        for name in session.modes:
            self.add_mode(name, MODE_BY_NAME[name].make_screen)
        self.switch_mode(session.modes[0])
        self.refresh_bindings()
        self.refresh_counts()
        self.set_timer(WARM_UP_AFTER, self._start_warm_up)

    def _start_warm_up(self) -> None:
        # the board's cards ahead are read ahead of its first visit unless it came already
        self._ahead_prefetching = "board" in self.modes_available[1:] and not self._ahead_asked
        self._warm_up()

    @work(thread=True, exclusive=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        """Import the modules of the session's other screens, once the first one is shown:
        a screen's first visit imported them on the UI thread (the policy editor's, with
        Textual's Markdown, a quarter of a second)."""
        prefetch: tuple[int, Forecast, float] | None = None
        try:
            for name in self.modes_available[1:]:
                if get_current_worker().is_cancelled:
                    return
                MODE_BY_NAME[name].screen_class()
            if self._ahead_prefetching and not get_current_worker().is_cancelled:
                prefetch = self._prefetch_ahead()
        finally:
            if self._ahead_prefetching:
                try:
                    self.call_from_thread(self._ahead_prefetched, prefetch)
                except RuntimeError:
                    pass                    # (the console has ended)
        if self.SETTLE_HEAP and not get_current_worker().is_cancelled:
            self.call_from_thread(self._settle_heap)

    def _prefetch_ahead(self) -> tuple[int, Forecast, float] | None:
        """Read the board's cards ahead (``board.board_forecast``) once, at start, for a
        session whose board is not its first screen, so that the board's first visit shows
        them with its columns: after a catch-up sweep on a million appeals they take about
        0.4 s to read, longer than the columns. In the warm-up's thread; the board takes them
        (``prefetched_ahead``), or reads them itself if this read failed (``None``)."""
        from taian_tui.read import board

        seq = self.appeal_changes
        started = time.perf_counter()
        try:
            with self.stores.store() as store:
                forecast = board.board_forecast(store, self.session.actor(store))
        except Exception:
            return None             # (the board reads them, and says what failed)
        return seq, forecast, time.perf_counter() - started

    def _ahead_prefetched(self, result: tuple[int, Forecast, float] | None) -> None:
        self._ahead_prefetching = False
        self._ahead_prefetch = result
        waiter, self._ahead_waiter = self._ahead_waiter, None
        if waiter is not None and not self.prefetched_ahead(waiter):
            waiter(None, 0.0, True)         # none: the board reads them itself

    def prefetched_ahead(self, deliver: Callable[[Forecast | None, float, bool], None]) -> bool:
        """The board's first read of its cards ahead: ``deliver(forecast, seconds, stale)``
        with the ones read at start (now, or when that read ends; ``None``: it failed, the
        board reads them), ``stale`` when a commit concerning the appeals came since that
        read began (the board shows them and reads them again, as after a refresh);
        ``False`` when there are none to take (none read, or read on another day)."""
        self._ahead_asked = True
        if self._ahead_prefetching:
            self._ahead_waiter = deliver
            return True
        if self._ahead_prefetch is None:
            return False
        (seq, forecast, seconds), self._ahead_prefetch = self._ahead_prefetch, None
        if timeutil.local_date(forecast.at) != timeutil.local_date(timeutil.iso(None)):
            return False
        deliver(forecast, seconds, seq != self.appeal_changes)
        return True

    #: Whether ``_settle_heap`` runs (the console's own process; tests that run many consoles
    #: in one process turn it off: what it keeps from the collector stays kept)
    SETTLE_HEAP = True
    _heap_settled = False

    def _settle_heap(self) -> None:
        """Once, after the first screen and the other screens' modules are in: collect, then
        keep every object alive now (the modules, Textual's and the parsed CSS's objects, the
        first screen) out of the cyclic collector's full passes (``gc.freeze``). Those passes
        walked them all again whenever a screen's new objects tipped the balance: a first
        visit spent about a fifth of its time there. The collection takes 50–60 ms, once.
        They are long-lived; anything frozen that later becomes garbage is freed by its
        reference count, a cycle among them never (a few screens' worth at most, once). Then
        the collector's thresholds become ``GC_THRESHOLDS`` and the memory the start freed
        goes back to the system (``release_free_memory``: the warm-up's reads left 2-3 MB
        free in the C heap). (Collecting the youngest generation less often
        as well, after 10,000 allocations instead of 700, saved nothing more and held 12 MB
        more after 400 cursor moves: the cycles that wait hold the drawing's buffers.)"""
        if not self._heap_settled and self.is_running:
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
            release_free_memory()
            self._heap_settled = True

    def refresh_css(self, animate: bool = True) -> None:
        """Textual's, unless it would change no node's styles (``styles.css_unchanged``): a
        mode switch calls it for every screen it shows for the first time, and it re-parses
        the CSS and re-applies it to every node of every screen."""
        variables = self.get_css_variables()
        if css_unchanged(self.stylesheet, self._css_applied, self._css_update_count, variables):
            self.stylesheet.rules           # (parses the new sources, if any)
            for screen in (self.screen, *self.screen_stack):
                screen._css_update_count = self._css_update_count
        else:
            super().refresh_css(animate)
            self._css_generation += 1
        self._css_applied = css_state(self.stylesheet, self._css_update_count, variables)

    def style_state(self) -> tuple:
        """What a node's styles depend on beyond its own screen: the CSS applied (its full
        refreshes counted) and the app's classes and pseudo-classes (theme, focus). A screen
        that comes back to the same state needs no restyling of its nodes."""
        return (self._css_generation, self.classes, self.pseudo_classes)

    # -- live refresh -------------------------------------------------------------------------------
    def register_live(self, screen: Screen) -> None:
        self._live.add(screen)

    def unregister_live(self, screen: Screen) -> None:
        self._live.discard(screen)

    def _changes(self) -> ChangeWatch:
        """The app's look at the file (made on first use, by whichever thread: its making
        records the point from which changes are news)."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = ChangeWatch(Store(self.db_path, migrate=False))
            return self._watch

    @work(thread=True, exclusive=True, group="data-version", exit_on_error=False)
    def _watch_file(self) -> None:
        """Every POLL_SECONDS: a new day refreshes the header; a changed file, the data. A
        form that saved asks for a rebase (its own write is not news)."""
        worker = get_current_worker()
        watch = self._changes()
        day = timeutil.now().format("YYYY-MM-DD")
        self.post_message(DayChanged(day))
        while not worker.is_cancelled:
            rebase = self._rebase.wait(POLL_SECONDS)
            if worker.is_cancelled:
                break
            try:
                if rebase:
                    self._rebase.clear()
                    watch.rebase()
                    continue
                change = watch.look()
            except Exception:           # (a busy or vanished file: look again next time)
                continue
            if change:
                self.post_message(FileChanged(change))
            today = timeutil.now().format("YYYY-MM-DD")
            if today != day:
                day = today
                self.post_message(DayChanged(day))

    def poll_changes(self) -> None:
        """Look at the file now (what the watcher does every 2 s)."""
        change = self._changes().look()
        if change:
            self.data_changed(change, from_poll=True)

    def on_file_changed(self, message: FileChanged) -> None:
        self._pending = message.change if self._pending is None else self._pending.merge(message.change)
        if self._pending_timer is None:
            self._refresh_when_due()

    def _timer_fired(self) -> None:
        self._pending_timer = None
        self._refresh_when_due()

    def _refresh_when_due(self) -> None:
        """Refresh for the pending commits now, or when the budget allows (``LiveBudget``)."""
        if self._pending is None:
            return
        wait = self._budget.wait()
        if wait > 0:
            self._pending_timer = self.set_timer(wait, self._timer_fired)
            return
        change, self._pending = self._pending, None
        self._budget.spent()
        self.data_changed(change, from_poll=True)

    def on_day_changed(self, message: DayChanged) -> None:
        self.clock_tick = message.day

    def data_changed(self, change: Change = ANYTHING, *, from_poll: bool = False) -> None:
        """Refresh the counts and the live screens that ``change`` concerns (open forms are
        left alone). Called by the watcher, and by a form that saved (anything may have
        changed; its own write is then not refreshed twice)."""
        if not from_poll:
            self._rebase.set()
        if self.session is None:
            return
        if change.concerns(changes.APPEALS, appeal_scope_units(self.session.actor_now())):
            self.appeal_changes += 1
            self.refresh_counts()
        for screen in list(self._live):
            handler = getattr(screen, "data_changed", None)
            if handler is not None:
                handler(change)

    def refresh_counts(self) -> None:
        def read(job: Job) -> CountsLoaded:
            return CountsLoaded(appeals.header_counts(job.store, job.actor))
        run_in_store(self, "header-counts", read)

    def on_counts_loaded(self, message: CountsLoaded) -> None:
        self.counts = message.counts

    # -- actions --------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "goto":
            mode = parameters[0] if parameters else None
            if mode not in self.modes_available or len(self.modes_available) < 2:
                return False
            # the current screen's key greyed, not hidden: the footer then shows the same
            # keys on every screen and only changes their states, where hiding it rebuilt
            # the footer of the screen left and of the screen shown at every switch
            try:
                return None if mode == self.current_mode else True
            except Exception:
                return True
        return True

    def action_goto(self, mode: str) -> None:
        if mode in self.modes_available and self.current_mode != mode:
            self.switch_mode(mode)

    def action_help_quit(self) -> None:
        """ctrl+c does not quit (it copies in a text field): say which key does."""
        self.notify(t("quit.hint"), title=t("quit.title"), markup=False)

    def action_help(self) -> None:
        from taian_tui.screens.common import HelpScreen, binding_summary

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        key = getattr(screen, "HELP_KEY", None)
        title = t(getattr(screen, "TITLE_KEY", "app.title"))
        self.push_screen(HelpScreen(title, t(key) if key else "", binding_summary(screen)))

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(Palette(placeholder=t("palette.placeholder"), id="--command-palette"))

    # -- leaving with unsaved work ----------------------------------------------------------------------
    def unsaved_screens(self) -> list[Screen]:
        """Open screens (in any mode) holding typed text that is not saved."""
        out = []
        for stack in self._screen_stacks.values():
            for screen in stack:
                check = getattr(screen, "has_unsaved_changes", None)
                if check is not None and check():
                    out.append(screen)
        return out

    async def action_quit(self) -> None:
        """Ctrl+Q: quit, but ask first when an editor holds unsaved changes."""
        from taian_tui.screens.common import ChoiceScreen

        unsaved = self.unsaved_screens()
        if not unsaved:
            self.exit()
            return
        if any(isinstance(s, ChoiceScreen) for s in self.screen_stack):
            return

        def answered(answer: str | None) -> None:
            if answer == "quit":
                for screen in unsaved:
                    flush = getattr(screen, "flush_autosave", None)
                    if flush is not None:
                        flush()
                self.exit()

        self.push_screen(ChoiceScreen(t("quit.unsaved.title"), t("quit.unsaved.text"),
                                      [("quit", t("quit.unsaved.quit"), "error"),
                                       ("stay", t("quit.unsaved.stay"), "primary")],
                                      default="stay"), answered)

    def screenshot_to_exports(self) -> None:
        """The screen as an SVG file in the person's own export folder (``exports/USER/``,
        private, as a list exported from the console), fetched with ``ssh taian@server
        exports get NAME``: Textual's own screenshot wrote it into the working directory, the
        service account's, shared by everyone and out of their reach."""
        from taian_tui.dataio import export as writing
        from taian_tui.store import private_output

        try:
            target = writing.personal_export(self.db_path, self.username or "", "screenshot", timeutil.iso(),
                                             ext="svg")
            svg = self.export_screenshot()
            with private_output(target) as partial:
                partial.write_text(svg, encoding="utf-8")
        except (OSError, ValueError) as exc:
            self.notify(t("screenshot.failed", msg=str(exc)), severity="error", markup=False)
            return
        self.notify(t("screenshot.saved", name=target.name), markup=False, timeout=20)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for name in self.modes_available:
            if name != self.current_mode:
                mode = MODE_BY_NAME[name]
                yield SystemCommand(t(mode.command_key), t("cmd.goto.help", fkey=mode.key.upper()),
                                    lambda m=name: self.action_goto(m))
        yield SystemCommand(t("k.help"), t("cmd.help"), self.action_help)
        yield SystemCommand(t("cmd.theme"), t("cmd.theme.help"), self.action_change_theme)
        yield SystemCommand(t("cmd.screenshot"), t("cmd.screenshot.help"),
                            lambda: self.set_timer(0.1, self.screenshot_to_exports))
        yield SystemCommand(t("k.quit"), t("cmd.quit"), self.action_quit)

    @property
    def language(self) -> str:
        return get_lang()


class InConsole:
    """Mixin of the console's screens and forms: ``self.console``, the app as a
    ``TaianApp`` (typed), and ``self.run_in_store(task, fn)`` (``workers.run_in_store``)."""

    @property
    def console(self) -> TaianApp:
        return cast(TaianApp, self.app)  # type: ignore[attr-defined]

    def run_in_store(self, task: str, fn, *, exclusive: bool = True):
        return run_in_store(self, task, fn, exclusive=exclusive)  # type: ignore[arg-type]

    def after_typed(self, callback) -> None:
        """Run ``callback`` once the focused widget has handled every key that came before the
        one handled now. A priority key (ctrl+s) is handled by the app as it arrives, while
        keys typed just before it (a burst: a paste, an input method's phrase) may still wait
        in the focused text box's queue: a save then read a shorter text than the screen
        showed (one character of a review's note was stored)."""
        focused = self.app.focused  # type: ignore[attr-defined]
        if focused is None or focused is self:
            callback()
        else:
            focused.call_later(callback)
