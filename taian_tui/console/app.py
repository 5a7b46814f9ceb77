"""The terminal console (Textual): ``TaianApp(db_path, username=None, lang="zh")``.

Signed in as ``username`` (or chosen from a short list of active users), the console opens
on the screen that fits the role: a liaison, a leader and the admin on the appeal inbox of
their scope, the supervision office on the escalation board, the discipline commission on
the red-card leads, the editor on the policy editor. A one-line header shows who is signed
in, the unit, the date and today's counts; the footer shows the keys; ``?`` explains the
screen; ``ctrl+p`` opens a command palette whose commands follow the active screen.

Screens, one function key each, offered only to the roles they are for (``ROLE_MODES``):
F2 inbox, F3 escalation board, F4 red cards, F5 project board, F6 leader instructions,
F7 policy editor, F8 dashboard. Ctrl+Q asks first while an editor holds unsaved changes.

Reads run in worker threads, each on its own ``Store``; the app's own connection only
looks up the signed-in user and polls ``PRAGMA data_version`` every 2 s to refresh what is
shown when another process (or a form) changed the file.
"""
from __future__ import annotations

import os
import weakref
from typing import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import get_current_worker

from taian_tui.read import appeals
from taian_tui.domain import timeutil
from taian_tui.console.strings import error_text, get_lang, set_lang, t
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError
from taian_tui.console.widgets import ScreenCommands, localise_bindings

POLL_SECONDS = 2.0
#: Below this width the footer leaves out the screens' function keys (they still work, and
#: ``?`` and the command palette list them).
NAV_KEYS_MIN_WIDTH = 100

#: Every screen (mode), in the order of its function key (F2..F8).
MODES = ("inbox", "board", "redcards", "projects", "instructions", "editor", "dashboard")
MODE_KEYS = {"inbox": "f2", "board": "f3", "redcards": "f4", "projects": "f5",
             "instructions": "f6", "editor": "f7", "dashboard": "f8"}

#: The screens (modes) of each role; the first one opens at sign-in.
ROLE_MODES = {
    "liaison": ("inbox", "projects", "instructions"),
    "leader": ("inbox", "board", "projects", "instructions", "dashboard"),
    "admin": ("inbox", "board", "redcards", "projects", "instructions", "editor", "dashboard"),
    "supervisor": ("board", "inbox", "projects", "instructions", "dashboard"),
    "discipline": ("redcards",),
    "editor": ("editor", "dashboard"),
}


class TaianApp(App[None]):
    """泰安市重大项目督导服务平台 — government console."""

    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ScreenCommands}

    BINDINGS = [
        Binding("question_mark", "help", "k.help", id="app.help"),
        Binding("f2", "goto('inbox')", "k.inbox", id="app.inbox"),
        Binding("f3", "goto('board')", "k.board", id="app.board"),
        Binding("f4", "goto('redcards')", "k.redcards", id="app.redcards"),
        Binding("f5", "goto('projects')", "k.projects", id="app.projects"),
        Binding("f6", "goto('instructions')", "k.instructions", id="app.instructions"),
        Binding("f7", "goto('editor')", "k.editor", id="app.editor"),
        Binding("f8", "goto('dashboard')", "k.dashboard", id="app.dashboard"),
        Binding("ctrl+q", "quit", "k.quit", id="app.quit", show=False, priority=True),
        Binding("ctrl+p", "command_palette", "palette", id="app.palette", show=False,
                priority=True),
        Binding("ctrl+c", "help_quit", show=False, system=True, id="app.help_quit"),
    ]

    counts: reactive[appeals.HeaderCounts | None] = reactive(None)
    clock_tick: reactive[str] = reactive("")

    class CountsLoaded(Message):
        """Today's header counts were read."""

        def __init__(self, counts: appeals.HeaderCounts) -> None:
            super().__init__()
            self.counts = counts

    def __init__(self, db_path: str | os.PathLike, username: str | None = None,
                 lang: str = "zh", *, poll: bool = True, theme: str | None = None) -> None:
        set_lang(lang)
        super().__init__()
        localise_bindings(self)
        self.db_path = str(db_path)
        self.lang = lang
        self.username: str | None = None
        self.requested_user = username
        self.user = None
        self.actor = None
        self.unit_name = ""
        self.poll = poll
        self._theme_name = theme or os.environ.get("TAIAN_THEME") or "textual-dark"
        self._data_version: int | None = None
        self._live: "weakref.WeakSet[Screen]" = weakref.WeakSet()
        self.modes_available: tuple[str, ...] = ()
        self.title = t("app.title")
        self.sub_title = t("app.sub")
        # The app's own connection (main thread only): the signed-in user and the poll.
        self.store = Store(self.db_path)

    # -- start and sign-in ------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._show_nav_keys(self.size.width >= NAV_KEYS_MIN_WIDTH)
        try:
            self.theme = self._theme_name
        except Exception:
            self.theme = "textual-dark"
        self._data_version = self._read_data_version()
        if self.requested_user:
            self.sign_in(self.requested_user)
        else:
            self._show_sign_in()
        if self.poll:
            self.set_interval(POLL_SECONDS, self.poll_changes)

    def on_resize(self) -> None:
        self._show_nav_keys(self.size.width >= NAV_KEYS_MIN_WIDTH)

    def _show_nav_keys(self, show: bool) -> None:
        """Show the function keys of the screens in the footer, or not (narrow terminal)."""
        import dataclasses

        bindings = self._bindings.key_to_bindings
        changed = False
        for key in MODE_KEYS.values():
            items = bindings.get(key, [])
            if any(b.show != show for b in items):
                bindings[key] = [dataclasses.replace(b, show=show) for b in items]
                changed = True
        if changed:
            self.refresh_bindings()

    def on_unmount(self) -> None:
        try:
            self.store.close()
        except Exception:
            pass

    def _show_sign_in(self, error: str | None = None) -> None:
        from taian_tui.screens.common import SignInScreen

        users = []
        units = {u.code: u.name for u in self.store.units()}
        for user in self.store.users():
            users.append((user, units.get(user.unit_code or "", "")))
        self.push_screen(SignInScreen(users, error))

    def sign_in(self, username: str) -> None:
        """Sign in as ``username`` and open the screen that fits the role."""
        from taian_tui.domain.actors import actor

        try:
            act = actor(self.store, username)
        except DomainError as exc:
            self._show_sign_in(t("err.unknown_user", user=username, msg=error_text(exc)))
            return
        self.username = username
        self.actor = act
        self.user = act.user
        self.unit_name = ""
        if act.user and act.user.unit_code:
            try:
                self.unit_name = self.store.unit(act.user.unit_code).name
            except DomainError:
                self.unit_name = act.user.unit_code
        self.modes_available = ROLE_MODES.get(act.role, ("inbox",))
        factories = {"inbox": self._make_inbox, "board": self._make_board,
                     "redcards": self._make_redcards, "projects": self._make_projects,
                     "instructions": self._make_instructions, "editor": self._make_editor,
                     "dashboard": self._make_dashboard}
        for mode in self.modes_available:
            self.add_mode(mode, factories[mode])
        self.switch_mode(self.modes_available[0])
        self.refresh_bindings()
        self.refresh_counts()

    @staticmethod
    def _make_inbox() -> Screen:
        from taian_tui.screens.inbox import InboxScreen

        return InboxScreen()

    @staticmethod
    def _make_board() -> Screen:
        from taian_tui.screens.escalation import BoardScreen

        return BoardScreen()

    @staticmethod
    def _make_redcards() -> Screen:
        from taian_tui.screens.escalation import RedCardScreen

        return RedCardScreen()

    @staticmethod
    def _make_projects() -> Screen:
        from taian_tui.screens.projects import ProjectBoardScreen

        return ProjectBoardScreen()

    @staticmethod
    def _make_instructions() -> Screen:
        from taian_tui.screens.instructions import InstructionsScreen

        return InstructionsScreen()

    @staticmethod
    def _make_editor() -> Screen:
        from taian_tui.screens.content import ContentScreen

        return ContentScreen()

    @staticmethod
    def _make_dashboard() -> Screen:
        from taian_tui.screens.dashboard import DashboardScreen

        return DashboardScreen()

    def session_actor(self, store: Store):
        """The signed-in user as an ``Actor`` on ``store`` (a worker's own store)."""
        from taian_tui.domain.actors import actor

        return actor(store, self.username)

    # -- live refresh -------------------------------------------------------------------------------
    def register_live(self, screen: Screen) -> None:
        self._live.add(screen)

    def unregister_live(self, screen: Screen) -> None:
        self._live.discard(screen)

    def _read_data_version(self) -> int | None:
        try:
            return self.store.scalar("PRAGMA data_version")
        except Exception:
            return None

    def poll_changes(self) -> None:
        """Every POLL_SECONDS: a new day refreshes the header; a changed file, the data."""
        day = timeutil.now().format("YYYY-MM-DD")
        if day != self.clock_tick:
            self.clock_tick = day
        version = self._read_data_version()
        if version != self._data_version:
            self._data_version = version
            self.data_changed(from_poll=True)

    def data_changed(self, *, from_poll: bool = False) -> None:
        """Refresh the counts and every live screen (open forms are left alone)."""
        if not from_poll:
            self._data_version = self._read_data_version()
        if self.username is None:
            return
        self.refresh_counts()
        for screen in list(self._live):
            handler = getattr(screen, "data_changed", None)
            if handler is not None:
                handler()

    @work(thread=True, exclusive=True, group="header-counts")
    def refresh_counts(self) -> None:
        worker = get_current_worker()
        try:
            with Store(self.db_path, migrate=False) as store:
                counts = appeals.header_counts(store, self.session_actor(store))
        except Exception:
            return
        if not worker.is_cancelled:
            self.post_message(self.CountsLoaded(counts))

    def on_taian_app_counts_loaded(self, message: "TaianApp.CountsLoaded") -> None:
        self.counts = message.counts

    # -- actions --------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "goto":
            mode = parameters[0] if parameters else None
            if mode not in self.modes_available or len(self.modes_available) < 2:
                return False
            try:
                return mode != self.current_mode
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
            self.push_screen(CommandPalette(placeholder=t("palette.placeholder"),
                                            id="--command-palette"))

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

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for mode in self.modes_available:
            if mode != self.current_mode:
                yield SystemCommand(t(f"cmd.goto_{mode}"), t("cmd.goto.help", fkey=MODE_KEYS[mode].upper()),
                                    lambda m=mode: self.action_goto(m))
        yield SystemCommand(t("k.help"), t("cmd.help"), self.action_help)
        yield SystemCommand(t("cmd.theme"), t("cmd.theme.help"), self.action_change_theme)
        yield SystemCommand(t("cmd.screenshot"), t("cmd.screenshot.help"),
                            lambda: self.set_timer(0.1, self.deliver_screenshot))
        yield SystemCommand(t("k.quit"), t("cmd.quit"), self.action_quit)

    @property
    def language(self) -> str:
        return get_lang()
