"""The console's screens (modes), declared once: name, function key, screen class, the
roles that have it, and the roles for which it is the home screen. The app's bindings, the
command palette's "open" commands and each role's menu are all made from ``MODES``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Mode:
    name: str
    key: str                      # its function key
    screen: str                   # "module:Class" under taian_tui.screens (imported when first shown)
    roles: tuple[str, ...]        # who has it
    home_of: tuple[str, ...] = ()  # the roles that open the console on it
    city_only: bool = False       # only for users of city scope (its figures are the city's)

    @property
    def binding_id(self) -> str:
        return f"app.{self.name}"

    @property
    def label_key(self) -> str:   # the footer's word (console strings)
        return f"k.{self.name}"

    @property
    def command_key(self) -> str:  # the palette's "open ..." (console strings)
        return f"cmd.goto_{self.name}"

    def screen_class(self) -> type:
        """The screen's class (its module imported on first use)."""
        module, _, cls = self.screen.partition(":")
        return getattr(importlib.import_module(f"taian_tui.screens.{module}"), cls)

    def make_screen(self):
        return self.screen_class()()


MODES: tuple[Mode, ...] = (
    Mode("inbox", "f2", "inbox:InboxScreen", ("liaison", "leader", "admin", "supervisor"),
         home_of=("liaison", "leader", "admin")),
    Mode("board", "f3", "escalation:BoardScreen", ("leader", "admin", "supervisor"), home_of=("supervisor",)),
    Mode("redcards", "f4", "escalation:RedCardScreen", ("admin", "discipline"), home_of=("discipline",)),
    Mode("projects", "f5", "projects:ProjectBoardScreen", ("liaison", "leader", "admin", "supervisor")),
    Mode("instructions", "f6", "instructions:InstructionsScreen", ("liaison", "leader", "admin", "supervisor")),
    Mode("editor", "f7", "content:ContentScreen", ("admin", "editor"), home_of=("editor",)),
    # the city's figures (every county's projects, every unit's 三率): not a county leader's
    Mode("dashboard", "f8", "dashboard:DashboardScreen", ("leader", "admin", "supervisor", "editor"),
         city_only=True),
)
MODE_BY_NAME = {m.name: m for m in MODES}


def modes_of(role: str, scope: str = "city") -> tuple[str, ...]:
    """The screens of ``role`` (a user of ``scope``: ``unit`` has no city-only screen): its
    home screen first, then the others in ``MODES`` order."""
    mine = [m.name for m in MODES if role in m.roles and (scope == "city" or not m.city_only)]
    home = next((m.name for m in MODES if role in m.home_of), mine[0] if mine else "inbox")
    return (home, *[m for m in mine if m != home]) if mine else (home,)
