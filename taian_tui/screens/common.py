"""What several screens share: the live-refresh base; the sign-in list and the help screen."""
from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from taian_tui.console.app import InConsole
from taian_tui.console.strings import code_label, t
from taian_tui.domain.models import User
from taian_tui.read import changes
from taian_tui.console.widgets import KeysFooter, localise_bindings, plain, visible


class LiveScreen(InConsole, Screen):
    """A screen the app refreshes when the database file changes (the live poll, or a form
    saved here): at once while it is in the screen stack, else when it is shown again; and
    only when the change concerns what it reads."""

    def refusal_of(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """Why ``action`` (its key greyed) is refused for the highlighted row, in words (the
        screens whose keys a rule greys say it)."""
        return None

    def on_key(self, event: events.Key) -> None:
        """A greyed key pressed: its reason, said where the user looks (Textual runs no action
        for it, and a list's line under it has room for the first reason only)."""
        from textual.actions import parse

        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            _, action, parameters = parse(binding.action)
            if self.check_action(action, parameters) is None:
                reason = self.refusal_of(action, parameters)
                if reason:
                    event.stop()
                    self.app.notify(reason, severity="warning", markup=False)
                return

    stale = False
    #: The kinds of change that concern this screen (``read.changes``); ``None``: every kind.
    READS: ClassVar[frozenset[str] | None] = None

    #: ``TaianApp.style_state()`` as the screen's nodes were last styled.
    _styled_as: tuple | None = None

    def on_mount(self) -> None:
        self.console.register_live(self)
        self._styled_as = self.console.style_state()

    def on_unmount(self) -> None:
        self.console.unregister_live(self)

    def on_screen_suspend(self) -> None:
        self._styled_as = self.console.style_state()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every node of a screen shown again (after this handler: the event
        # is Screen's too); not needed when nothing its styles depend on changed meanwhile
        if event.refresh_styles and self._styled_as == self.console.style_state():
            event.refresh_styles = False
        if self.stale:
            self.refresh_data()

    def reads_units(self) -> frozenset[str] | None:
        """The units whose appeals are all this screen shows (``None``: any unit's)."""
        return None

    def data_changed(self, change: changes.Change = changes.ANYTHING) -> None:
        """``change``: what another connection (or a form) committed."""
        if not change.concerns(self.READS, self.reads_units()):
            return
        if self in self.app.screen_stack:
            self.refresh_data()
        else:
            self.stale = True

    def refresh_data(self) -> None:
        """Read what is shown again."""
        self.reload()


class SignInScreen(InConsole, Screen):
    """A small list of the active users; Enter signs in as the highlighted one."""

    BINDINGS = [
        Binding("enter", "choose", "k.choose", id="signin.choose", show=False),
    ]

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen > Vertical { width: 72; max-width: 100%; height: auto; max-height: 90%;
                              border: thick $primary; padding: 0 1; }
    SignInScreen .signin-title { text-style: bold; }
    SignInScreen #signin-error { color: $text-error; }
    SignInScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, users: list[tuple[User, str]], error: str | None = None) -> None:
        super().__init__()
        localise_bindings(self)
        self.users = users
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(t("app.title"), classes="signin-title", markup=False)
            yield Static(t("signin.title"), markup=False)
            if self.error:
                yield Static(plain(self.error), id="signin-error")
            options = []
            for user, unit in self.users:
                prompt = Text(end="")
                prompt.append(visible(user.username), style="bold")
                prompt.append("  ")
                prompt.append_text(plain(user.name))
                prompt.append(f"  {code_label('role', user.role)}", style="italic")
                if unit:
                    prompt.append("  ")
                    prompt.append_text(plain(unit, "dim"))
                options.append(Option(prompt, id=user.username))
            yield OptionList(*options, id="signin-users")
            yield Static(t("signin.hint"), markup=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.console.sign_in(event.option.id)

    def action_choose(self) -> None:
        lst = self.query_one(OptionList)
        if lst.highlighted is not None:
            option = lst.get_option_at_index(lst.highlighted)
            if option.id:
                self.console.sign_in(option.id)


class HelpScreen(ModalScreen[None]):
    """What the screen underneath is for, and its keys (those that apply now)."""

    BINDINGS = [
        Binding("escape", "close", "k.close", id="help.close"),
        Binding("question_mark", "close", "k.close", id="help.close_q", show=False),
        Binding("q", "close", "k.close", id="help.close_qq", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: auto; max-height: 90%;
                                  border: thick $primary; background: $surface; padding: 0 1; }
    HelpScreen .help-title { text-style: bold; }
    """

    def __init__(self, title: str, text: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        localise_bindings(self)
        self.help_title = title
        self.text = text
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(t("help.title", screen=self.help_title), classes="help-title", markup=False)
            yield Static(self.text, markup=False)
            body = Text(end="")
            body.append(f"\n{t('help.keys')}\n", style="bold")
            width = max((len(k) for k, _ in self.keys), default=4) + 2
            for key, description in self.keys:
                body.append(f"  {key:<{width}}", style="bold")
                body.append(f"{description}\n")
            yield Static(body)
            yield Static(t("help.live"), markup=False)
        yield KeysFooter(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)


def binding_summary(screen: Any) -> list[tuple[str, str]]:
    """(key, description) of the bindings active on ``screen`` that are enabled now."""
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    app = screen.app
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or not binding.id:  # only the console's own keys
            continue
        display = app.get_key_display(binding)
        item = (display, binding.description)
        if item in seen:
            continue
        seen.add(item)
        out.append(item)
    return out


def toggle_zoom(screen: Any, detail_key: str | None, read_detail: Any) -> None:
    """``z`` on a list with a detail pane (``#detail``): the detail over the whole screen,
    focused (PageUp/PageDown and arrows scroll it; the screen's ``-zoomed`` class hides the
    rest), or back, the focus where it was. A hidden detail is shown and read first
    (``read_detail(detail_key)``)."""
    zoomed = not screen.has_class("-zoomed")
    if zoomed and not screen.detail_visible:
        screen.detail_visible = True
        if detail_key:
            read_detail(detail_key)
    screen.set_class(zoomed, "-zoomed")
    if zoomed:
        screen._zoom_from = screen.focused
        screen.query_one("#detail").focus()
    else:
        back, screen._zoom_from = getattr(screen, "_zoom_from", None), None
        if back is not None and back.is_attached and back.display:
            back.focus()


def step_button_focus(screen: Screen, step: int) -> None:
    """Left and right arrows in a dialog: the focus to the previous or next button (round),
    when a button has it (in a text field the arrows move the cursor)."""
    from textual.widgets import Button

    buttons = list(screen.query(Button))
    if screen.focused in buttons:
        buttons[(buttons.index(screen.focused) + step) % len(buttons)].focus()


class ChoiceScreen(ModalScreen[str | None]):
    """A question with a few answers (buttons); Esc answers ``None`` (carry on as before).
    Used before leaving unsaved work and to offer restoring an autosave."""

    BINDINGS = [
        Binding("escape", "cancel", "k.cancel", id="choice.cancel"),
        Binding("left", "button_step(-1)", show=False, id="choice.left"),
        Binding("right", "button_step(1)", show=False, id="choice.right"),
    ]

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical { width: 80%; max-width: 76; height: auto; max-height: 90%;
                              border: thick $warning; background: $surface; padding: 0 1; }
    ChoiceScreen .choice-title { text-style: bold; }
    ChoiceScreen .choice-text { margin: 1 0; }
    ChoiceScreen Horizontal { height: auto; align-horizontal: right; }
    ChoiceScreen Button { margin-left: 1; min-width: 10; }
    """

    def __init__(self, title: str, text: Any, choices: list[tuple[str, str, str]],
                 default: str | None = None) -> None:
        """``choices``: (answer, label, variant) in the order shown; ``default`` (else the
        first) has the focus, so Enter picks it."""
        super().__init__()
        localise_bindings(self)
        self.choice_title = title
        self.text = text
        self.choices = choices
        self.default = default or choices[0][0]

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal
        from textual.widgets import Button

        with Vertical():
            yield Static(plain(self.choice_title), classes="choice-title")
            text = self.text if isinstance(self.text, Text) else plain(self.text, multiline=True)
            yield Static(text, classes="choice-text")
            with Horizontal():
                for answer, label, variant in self.choices:
                    yield Button(label, id=f"choice-{answer}", variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        from textual.widgets import Button

        self.query_one(f"#choice-{self.default}", Button).focus()

    def on_button_pressed(self, event: Any) -> None:
        event.stop()
        self.dismiss(event.button.id.removeprefix("choice-"))

    def action_button_step(self, step: int) -> None:
        step_button_focus(self, step)

    def action_cancel(self) -> None:
        self.dismiss(None)
