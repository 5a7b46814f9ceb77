"""Widgets and helpers shared by the console screens.

Safe display: every piece of user text (titles, bodies, names, comments, replies) goes
through :func:`plain`, which builds a ``rich.text.Text`` (never parsed as markup) after
turning control characters into visible escapes (``\\x1b``), so a title like ``[/b]``,
``[red]x[/red]`` or ``\\x1b[2J`` shows literally and cannot drive the terminal.
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from typing import Any, Callable, Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

from taian_tui.domain import timeutil
from taian_tui.domain.text import printable
from taian_tui.console.modes import MODES
from taian_tui.console.strings import STRINGS, history_field, code_label, labelled, t, weekday

#: The screens' keys (``modes.MODES``): greyed, such a key is the screen shown.
MODE_BINDING_IDS = frozenset(m.binding_id for m in MODES)

CARD_STYLES = {"blue": "bold white on blue", "yellow": "bold black on yellow",
               "red": "bold white on red"}
CARD_FG = {"blue": "bold blue", "yellow": "bold yellow", "red": "bold red"}


def visible(value: Any, *, multiline: bool = False) -> str:
    """``value`` as text safe to put on screen (``text.printable``): controls shown as
    ``\\x..`` escapes; newlines and tabs kept only in multi-line text."""
    return printable(value, multiline=multiline)


def plain(value: Any, style: str = "", *, multiline: bool = False) -> Text:
    """A ``Text`` of user data: literal, never markup."""
    return Text(visible(value, multiline=multiline), style=style, end="")


def cut(text: Text, width: int) -> Text:
    """``text`` cut to at most ``width`` cells with an ellipsis, styles kept: never a blank
    cell before the ellipsis (a wide character that does not fit is left out, and the cell
    goes after it: Rich wrote "股 …"), and not inside a run of digits or Latin letters when
    going back to its start loses at most a third ("年产10万吨" is cut before "10", not
    after "1"). Chinese words have no marked boundary: a title is cut at a character."""
    if text.cell_len <= width:
        return text
    if width <= 1:
        return Text("…"[:width], end="")
    plain_text, used, n = text.plain, 0, 0
    for ch in plain_text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        used, n = used + w, n + 1

    def word(ch: str) -> bool:
        return ch.isascii() and ch.isalnum()

    if 0 < n < len(plain_text) and word(plain_text[n - 1]) and word(plain_text[n]):
        k = n
        while k > 0 and word(plain_text[k - 1]):
            k -= 1
        if k >= n - n // 3 and k > 0:
            n = k
    out = text[:n]
    out.rstrip()
    out.end = ""
    out.append("…")
    return out


def cell(value: Any, width: int | None = None, style: str = "") -> Text:
    """One table cell: single line, cut to ``width`` cells with an ellipsis (``cut``)."""
    text = plain(value, style)
    text.no_wrap = True
    text.overflow = "ellipsis"
    if width is not None and text.cell_len > width:
        text = cut(text, width)
        text.no_wrap = True
        text.overflow = "ellipsis"
    return text


def card_cell(card: str | None) -> Text:
    from taian_tui.console.strings import code_label

    if not card:
        return Text("", end="")
    return Text(code_label("card_short", card), style=CARD_FG.get(card, ""), end="")


_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00")
_YEAR: list = [0.0, 0, None]


def _this_year() -> int:
    """The current year in Shanghai, re-read at most once a minute (a table fill asks per
    cell) or when ``TAIAN_NOW`` changes."""
    import os
    import time as _time

    fixed = os.environ.get("TAIAN_NOW")
    if _time.monotonic() - _YEAR[0] > 60 or fixed != _YEAR[2]:
        _YEAR[:] = [_time.monotonic(), timeutil.now().year, fixed]
    return _YEAR[1]


def short_date(value: str | None, *, with_time: bool = False) -> str:
    """``MM-DD`` (``YYYY-MM-DD`` in another year than today), optionally with ``HH:MM``."""
    if not value:
        return ""
    if _CANONICAL.fullmatch(value):  # the store's own format: no parsing needed
        day = value[5:10] if value[:4] == str(_this_year()) else value[:10]
        return f"{day} {value[11:16]}" if with_time else day
    try:
        dt = timeutil.parse(value)
    except ValueError:
        return visible(value)
    this_year = _this_year()
    day = dt.format("MM-DD") if dt.year == this_year else dt.format("YYYY-MM-DD")
    return f"{day} {dt.format('HH:mm')}" if with_time else day


def full_time(value: str | None) -> str:
    if not value:
        return ""
    try:
        return timeutil.parse(value).format("YYYY-MM-DD HH:mm")
    except ValueError:
        return visible(value)


def fit_columns(total: int, specs: list[tuple[str, str, int]],
                drop: tuple[str, ...] = ()) -> list[tuple[str, str, int]]:
    """Column widths for a table ``total`` cells wide (padding 1 each side, scrollbar 2):
    ``specs`` is ``(key, label key, width)``, a negative width being a flexible column's
    weight; flexible columns share what the fixed ones leave. On a narrow terminal the
    columns named in ``drop`` are left out, in that order, until the rest fits."""
    specs = list(specs)
    for key in drop:
        flex = sum(1 for _, _, w in specs if w < 0)
        room = total - 2 - 2 * len(specs) - sum(w for _, _, w in specs if w > 0)
        if room >= 12 * max(flex, 1):
            break
        specs = [s for s in specs if s[0] != key]
    available = total - 2 - 2 * len(specs)
    fixed = sum(w for _, _, w in specs if w > 0)
    weights = sum(-w for _, _, w in specs if w < 0)
    free = max(available - fixed, 8 * max(1, sum(1 for _, _, w in specs if w < 0)))
    out = []
    for key, label, w in specs:
        out.append((key, label, w if w > 0 else max(8, free * -w // max(weights, 1))))
    return out


def set_columns(table: Any, columns: list[tuple[str, str, int]]) -> None:
    """Empty ``table`` for new rows under ``columns`` (key, label key, width). Columns equal to
    those it shows are kept (another page, count or filter of the same list): adding them
    again empties DataTable's caches of the header and measures every column once more."""
    wanted = [(key, t(label), width) for key, label, width in columns]
    if getattr(table, "_taian_columns", None) == wanted and len(table.columns) == len(wanted):
        table.clear()
        return
    table.clear(columns=True)
    for key, label, width in wanted:
        table.add_column(cell(label, width), width=width, key=key)
    table._taian_columns = wanted


def words(key: str) -> str:
    """A binding's description or tooltip in the active language: a key of the console's
    strings, or ``label:KIND:CODE`` for a code's label (``label:library:city``)."""
    if key.startswith("label:"):
        _, kind, code = key.split(":", 2)
        return code_label(kind, code)
    return t(key)


def localise_bindings(node: Any) -> None:
    """Replace the description (see ``words``) of each of ``node``'s bindings by its text in
    the active language. Called from the ``__init__`` of every screen and of the app."""
    bindings = node._bindings
    for key, items in list(bindings.key_to_bindings.items()):
        bindings.key_to_bindings[key] = [
            dataclasses.replace(b, description=words(b.description) if b.description else "",
                                tooltip=words(b.tooltip) if b.tooltip else "")
            for b in items]


# -- footer -----------------------------------------------------------------------------------------
class KeysFooter(Footer):
    """The footer of every screen: the stock ``Footer``, except that it is rebuilt only when
    the keys it shows change. A key that is only enabled or greyed (the cursor moved to a row
    where another action applies) is updated in place. The stock footer rebuilds every key on
    every ``refresh_bindings()``, which the console calls on each page, count and highlight,
    and each rebuild leaves its keys' ``data_bind`` watchers behind (memory grows all day);
    these keys are not data-bound: the footer sets their ``compact`` itself."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._layout: tuple | None = None      # what the shown keys are (not their states)
        self._update_pending = False           # an update of the keys is scheduled

    def _keys(self, active: dict) -> list[tuple[tuple, bool, str, Any]]:
        """(identity, enabled, tooltip, group) of each key to show, in the order shown
        (``active``: the screen's ``active_bindings``, which Textual computes anew on every
        read: the focus chain and every key's ``check_action``)."""
        out = []
        seen_actions: dict[str, int] = {}
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions[binding.action] = len(out)
            # a screen's key greyed (the screen shown) is its key alone: the footer keeps
            # the same keys on every screen without a word more than before
            description = binding.description
            if not enabled and binding.id in MODE_BINDING_IDS:
                description = ""
            elif f"textual.{description}" in STRINGS:
                # a stock widget's key (a Select's open list: its words in English), in the
                # console's language
                description = tooltip = t(f"textual.{description}")
            out.append(((binding.key, self.app.get_key_display(binding), description,
                         binding.action), enabled, tooltip or binding.description, binding.group))
        return out

    def compose(self) -> ComposeResult:
        # the keys at once, as the screen has them now (the stock footer waits for the
        # screen's first bindings signal, then composes them all again: a second mount,
        # styling and layout of every key in each screen's first visit); the signal then
        # only updates them in place, unless the focus has brought other keys
        active = self.screen.active_bindings
        keys = self._keys(active)
        palette = self._palette_key(active)
        self._layout = self._layout_of(keys, palette)
        for group, run in itertools.groupby(keys, key=lambda k: k[3]):
            items = list(run)
            if group is not None and len(items) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for (key, display, desc, action), enabled, tooltip, _ in items:
                        yield self._key(key, display, "", action, enabled, tooltip or desc, "-grouped")
                yield FooterLabel(group.description)
            else:
                for (key, display, desc, action), enabled, tooltip, _ in items:
                    yield self._key(key, display, desc, action, enabled, tooltip)
        if palette is not None:
            (key, display, desc, action), enabled, tooltip = palette
            yield self._key(key, display, desc, action, enabled, tooltip, "-command-palette")

    def _palette_key(self, active: dict) -> tuple | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        try:
            _node, binding, enabled, tooltip = active[self.app.COMMAND_PALETTE_BINDING]
        except KeyError:
            return None
        return ((binding.key, self.app.get_key_display(binding), binding.description, binding.action),
                enabled, binding.tooltip or binding.description)

    def _layout_of(self, keys: list, palette: tuple | None) -> tuple:
        """Which keys are shown, in which groups (not their words or states: those are
        updated in place)."""
        return (tuple((k[0][0], k[0][1], k[0][3], id(k[3])) for k in keys),
                palette[0] if palette else None)

    def _shown(self, keys: list, palette: tuple | None) -> list[tuple[str, bool, str]]:
        """(description, enabled, tooltip) of each ``FooterKey`` as ``compose`` makes them, in
        their order (a grouped key's description is its group's label, not its own)."""
        out = []
        for group, run in itertools.groupby(keys, key=lambda k: k[3]):
            items = list(run)
            grouped = group is not None and len(items) > 1
            for (_key, _display, desc, _action), enabled, tooltip, _ in items:
                out.append(("", enabled, tooltip or desc) if grouped else (desc, enabled, tooltip))
        if palette is not None:
            (_key, _display, desc, _action), enabled, tooltip = palette
            out.append((desc, enabled, tooltip))
        return out

    def _key(self, key: str, display: str, description: str, action: str, enabled: bool,
             tooltip: str, classes: str = "") -> FooterKey:
        # the classes given to the constructor: ``set_class`` on each key restyled the
        # footer's nodes once per key (a tenth of a second per rebuild)
        widget = FooterKey(key, display, description, action, disabled=not enabled, tooltip=tooltip,
                           classes=f"{classes} -compact" if self.compact else classes)
        widget.set_reactive(FooterKey.compact, self.compact)
        return widget

    async def _rekey(self, keys: list, palette: tuple | None) -> bool:
        """Show other keys in the footer's own widgets (the focus moved to a widget with
        other keys: a filter's list closed, the table focused), mounting or removing only
        the difference; ``False`` (nothing done) when groups are involved or the palette's
        key comes or goes: then the footer is composed again. A recompose removes, mounts,
        styles and lays out every key: about 10 ms and a layout of the screen on a filter
        chosen, between the key and its page."""
        if any(group is not None and len(list(run)) > 1
               for group, run in itertools.groupby(keys, key=lambda k: k[3])):
            return False
        children = list(self.children)
        if not all(isinstance(w, FooterKey) for w in children):
            return False
        shown = [w for w in children if not w.has_class("-command-palette")]
        palette_widget = next((w for w in children if w.has_class("-command-palette")), None)
        if (palette is None) != (palette_widget is None):
            return False
        for widget, ((key, display, desc, action), enabled, tooltip, _) in zip(shown, keys):
            if (widget.key, widget.key_display, widget.action) != (key, display, action):
                widget.key, widget.key_display, widget.action = key, display, action
                widget.refresh(layout=True)
            # the description, tooltip and state: the in-place update that follows
        extra = shown[len(keys):]
        if extra:
            await self.remove_children(extra)
        new = [self._key(key, display, desc, action, enabled, tooltip or desc)
               for (key, display, desc, action), enabled, tooltip, _ in keys[len(shown):]]
        if new:
            await self.mount_all(new, before=palette_widget)
        return True

    def watch_compact(self, compact: bool) -> None:
        for widget in self.query(FooterKey):
            widget.compact = compact

    # -- fitting the line ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """Keep the keys on one line beside the palette's key: when they do not all fit (80
        columns in English), the screens' F-keys go first (the palette opens them too), then
        ? help, then the last keys; the palette's key was drawn over what overflowed (a
        stray "p" after it, "f8 Dashbo▏^p Commands")."""
        if not self.is_attached or not self.size.width:
            return
        children = list(self.children)
        keys = [w for w in children if isinstance(w, FooterKey) and not w.has_class("-command-palette")]
        palette = next((w for w in children if w.has_class("-command-palette")), None)
        if len(keys) + (palette is not None) != len(children):
            return                                   # (groups of keys: left as they are)
        natural = getattr(self, "_natural", {})
        for w in keys:
            if w.display and w.outer_size.width:
                natural[w] = w.outer_size.width
        self._natural = natural = {w: n for w, n in natural.items() if w in keys}
        if len(natural) < len(keys):
            for w in keys:                           # (measured once shown)
                w.display = True
            self.call_after_refresh(self._fit)
            return
        # the keys' room: up to the palette's key; a cell between two keys (as laid out)
        room = (palette.region.x - self.region.x) if palette is not None and palette.region.width else self.size.width
        shown = [w for w in keys if w.display and w.region.width]
        gap = max(0, shown[1].region.x - shown[0].region.right) if len(shown) > 1 else 1
        order = ([w for w in reversed(keys) if "goto(" in w.action]
                 + [w for w in reversed(keys) if w.action in ("help", "app.help")]
                 + [w for w in reversed(keys) if "goto(" not in w.action and w.action not in ("help", "app.help")])
        hidden: set = set()
        total = sum(natural.values()) + gap * (len(keys) - 1)
        for w in order:
            if total <= room:
                break
            hidden.add(w)
            total -= natural[w] + gap
        for w in keys:
            if w.display == (w in hidden):
                w.display = w not in hidden

    def bindings_changed(self, screen: Any) -> None:
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._update_pending:
            # one update for all the signals before the next refresh (a page, its count
            # and the cursor each signal; the keys are read once, when it runs)
            self._update_pending = True
            self.call_after_refresh(self._update_keys)

    async def _update_keys(self) -> None:
        self._update_pending = False
        if not self.is_attached:
            return
        pending = getattr(self.screen, "page_pending", None)
        if pending is not None and pending():
            # a page is on its way (a filter chosen, a search sent): the keys are updated
            # after its frame (it signals again), not drawn in it (a tenth of its frame)
            return
        active = self.screen.active_bindings
        keys = self._keys(active)
        palette = self._palette_key(active)
        layout = self._layout_of(keys, palette)
        self.call_after_refresh(self._fit)          # (cheap when nothing has to change)
        if self._layout is None or layout != self._layout:
            if not await self._rekey(keys, palette):
                await self.recompose()
                return
            self._layout = layout
        changed = False
        for widget, (description, enabled, tooltip) in zip(self.query(FooterKey), self._shown(keys, palette)):
            if widget.description != description:
                widget.description = description
                widget.refresh(layout=True)
                changed = True
                getattr(self, "_natural", {}).pop(widget, None)     # (measured again)
            if (widget.tooltip or "") != (tooltip or ""):
                widget.tooltip = tooltip or None
            if widget._disabled == enabled:          # it shows the other state
                widget._disabled = not enabled
                widget.set_class(not enabled, "-disabled")
                widget.refresh()


# -- header -----------------------------------------------------------------------------------------
class HeaderBar(Horizontal):
    """Who is signed in, their unit, today's date, and today's counts (one line)."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; dock: top; background: $primary-background; color: $text; }
    HeaderBar #hb-user { width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; padding: 0 1; }
    HeaderBar #hb-right { width: auto; height: 1; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="hb-user", markup=False)
        yield Static(id="hb-right", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "counts", self._update, init=True)
        self.watch(self.app, "clock_tick", self._update, init=False)
        self.watch(self.app, "session", self._update, init=False)

    def on_resize(self) -> None:
        self._update()

    def _update(self, *_: Any) -> None:
        app = self.app
        user = getattr(app, "user", None)
        left = Text(end="")
        if user is not None:
            unit = getattr(app, "unit_name", "") or ""
            key = "header.user" if unit else "header.user_nounit"
            left.append(t(key, name=visible(user.name), role=code_label("role", user.role),
                          unit=visible(unit)), style="bold")
        now = timeutil.now()
        right = Text(end="")
        right.append(f"{now.format('YYYY-MM-DD')} {weekday(now)}")
        counts = getattr(app, "counts", None)
        if user is not None and user.role == "editor":
            pass  # the policy editor handles no appeals: no appeal counts
        elif counts is None:
            right.append("  │  ")
            right.append(t("header.counts_loading"))
        else:
            right.append("  │  ")
            right.append(t("header.counts", open=counts.open, due=counts.due_today,
                           carded=counts.carded), style="bold")
        # a narrow terminal: the unit rather than the role (who is signed in is the name; which
        # unit is what the "…" took: "（管理员·市发展和 …"), then cut after what fits
        room = (self.size.width or self.app.size.width) - right.cell_len - 4
        if user is not None and left.cell_len > room and getattr(app, "unit_name", ""):
            left = Text(t("header.user_norole", name=visible(user.name), unit=visible(app.unit_name)),
                        style="bold", end="")
        if left.cell_len > room > 0:
            left = cut(left, room)
        self.query_one("#hb-user", Static).update(left)
        self.query_one("#hb-right", Static).update(right)


# -- the appeal detail ---------------------------------------------------------------------------
def _line(out: Text, label: str, value: Any, style: str = "") -> None:
    out.append(labelled(label, ""), style="bold")
    if isinstance(value, Text):
        out.append_text(value)
    else:
        out.append_text(plain(value, style))
    out.append("\n")


def _cjk() -> bool:
    from taian_tui.console.strings import get_lang

    return get_lang() == "zh"


def _section(out: Text, title: str) -> None:
    out.append("\n")
    out.append(f"── {title} ", style="bold")
    out.append("\n")


def _history_detail(item: dict, units: dict[str, str], action: str = "") -> str:
    """What an audit row's ``after`` adds to its line; a field named as its action (a reply's
    答复) is given without its name ("答复  答复 已协调" read twice)."""
    after = item.get("after") or {}
    parts = []
    for key, value in after.items():
        label = history_field(key)
        if label is None or value in (None, "", [], {}):
            continue
        if key in ("due_at", "order_due", "deadline", "threshold_at"):
            value = full_time(str(value))
        elif key == "unit_code":
            value = visible(units.get(value, value))        # the unit's name, not its code
        parts.append(str(value) if label == action else f"{label} {value}")
    return "；".join(parts) if _cjk() else "; ".join(parts)


def render_detail(detail: Any) -> Text:
    """The whole appeal (``boards.AppealDetail``) as one literal ``Text``."""
    r = detail.record
    out = Text(end="")
    head = Text(end="")
    head.append(visible(r["ref"]), style="bold")
    head.append("  ")
    if r.get("card"):
        head.append(f" {code_label('card', r['card'])} ", style=CARD_STYLES.get(r["card"], ""))
        head.append("  ")
    head.append(code_label("state", r["state"]), style="bold")
    head.append("  ")
    head.append(code_label("category", r["category"]))
    out.append_text(head)
    out.append("\n")
    _line(out, t("detail.title"), r["title"])
    _line(out, t("detail.county"), r["county"])
    unit = r.get("unit_name") or t("detail.no_unit")
    _line(out, t("detail.unit"), unit)
    if detail.contacts:
        who = "；".join(f"{c.name}（{t('detail.head') if c.role == 'head' else code_label('role', c.role)}）"
                       f"{c.mobile or t('detail.no_mobile')}" for c in detail.contacts)
        _line(out, t("detail.contacts"), who)
    _line(out, t("detail.submitted"), full_time(r["submitted_at"]))
    if r.get("arrived_at"):
        _line(out, t("detail.arrived"), full_time(r["arrived_at"]))
    if r.get("deadline"):
        dl = plain(full_time(r["deadline"]))
        if detail.days_left is not None:
            n = detail.days_left
            if n < 0:
                dl.append(f"  {t('detail.days_overdue', n=-n)}", style="bold red")
            elif n == 0:
                dl.append(f"  {t('detail.due_today')}", style="bold yellow")
            else:
                dl.append(f"  {t('detail.days_left', n=n)}")
        if r.get("deadline_estimated"):
            dl.append(f"  {t('detail.deadline_estimated').strip()}", style="italic")
        _line(out, t("detail.deadline"), dl)
    _section(out, t("detail.body"))
    out.append_text(plain(r.get("body") or t("detail.none"), multiline=True))
    out.append("\n")
    if r.get("reply"):
        _section(out, t("detail.reply"))
        out.append_text(plain(r["reply"], multiline=True))
        out.append("\n")
        if r.get("answered_at"):
            _line(out, t("detail.answered"), full_time(r["answered_at"]))
    if r.get("return_reason") and r["state"] == "returned":
        _line(out, t("detail.return_reason"), r["return_reason"])
    if r.get("rating"):
        rating = plain(code_label("rating", r["rating"]))
        if r.get("rating_comment"):
            rating.append("  ")
            rating.append_text(plain(r["rating_comment"]))
        _line(out, t("detail.rating"), rating)
    if r.get("close_note"):
        _line(out, t("detail.close_note"), r["close_note"])

    _section(out, t("detail.enterprise"))
    ent = detail.enterprise
    if ent:
        out.append_text(plain(ent["name"], "bold"))
        out.append("\n")
        _line(out, t("detail.uscc"), ent["uscc"])
        _line(out, t("detail.county"), ent["county"])
        if ent.get("industry"):
            _line(out, t("detail.industry"), ent["industry"])
        if ent.get("tags"):
            _line(out, t("detail.tags"), ent["tags"])
        contact = " ".join(x for x in (ent.get("contact"), ent.get("phone")) if x)
        if contact:
            _line(out, t("detail.contact"), contact)
        if ent.get("address"):
            _line(out, t("detail.address"), ent["address"])
    else:
        out.append_text(plain(r.get("enterprise_uscc")))
        out.append("\n")
    _section(out, t("detail.project"))
    p = detail.project
    if p:
        out.append_text(plain(f"{p['name']}（{p['ref']}）" if _cjk() else f"{p['name']} ({p['ref']})",
                              "bold"))
        out.append("\n")
        out.append_text(plain(t("detail.project_line", category=p["category"],
                                investment=money(p["investment_wan"]), stage=p["stage"],
                                percent=f"{p['percent']:g}")))
        out.append("\n")
    else:
        out.append(t("detail.no_project"))
        out.append("\n")
    if detail.orders:
        _section(out, t("detail.orders"))
        for o in detail.orders:
            out.append_text(plain(t("detail.order_line", id=o["id"], origin=code_label("order_origin", o["origin"]),
                                    opened=full_time(o["opened_at"]), due=full_time(o["due_at"]),
                                    state=t(f"order.{o['state']}"))))
            if o.get("note"):
                out.append("  ")
                out.append_text(plain(o["note"], "italic"))
            out.append("\n")
    if detail.extensions:
        _section(out, t("detail.extensions"))
        for x in detail.extensions:
            out.append_text(plain(t("detail.ext_line", id=x["id"], days=x["days"],
                                    state=code_label("ext_state", x["state"]),
                                    reason=visible(x["reason"]))))
            out.append("\n")
    if detail.cards:
        _section(out, t("detail.cards"))
        for c in detail.cards:
            out.append(f" {code_label('card', c['card'])} ", style=CARD_STYLES.get(c["card"], ""))
            out.append(" ")
            out.append_text(plain(t("detail.card_line", card="", threshold=full_time(c["threshold_at"]),
                                    applied=full_time(c["applied_at"])).lstrip(" ·")))
            if c.get("taken_up_at"):
                who = detail.users.get(c["taken_up_by"], c["taken_up_by"])
                out.append_text(plain(t("detail.taken_up", by=who, at=full_time(c["taken_up_at"]))))
                if c.get("taken_up_note"):
                    out.append("  ")
                    out.append_text(plain(c["taken_up_note"], "italic"))
            out.append("\n")
    _section(out, t("detail.timeline"))
    for item in r.get("history", []):
        out.append(full_time(item["at"]), style="dim")
        out.append("  ")
        actor = item["actor"]
        name = detail.users.get(actor) or code_label("actor", actor)
        out.append_text(plain(name))
        out.append("  ")
        action = code_label("action", item["action"])
        out.append(action, style="bold")
        extra = _history_detail(item, detail.units, action)
        if item["action"] in ("assign", "reassign") and (item.get("after") or {}).get("unit_code"):
            code = item["after"]["unit_code"]
            extra = visible(detail.units.get(code, code))
        if extra:
            out.append("  ")
            out.append_text(plain(extra))
        out.append("\n")
    return out


class DetailPane(VerticalScroll):
    """The selected appeal: the whole record, enterprise, project and timeline."""

    BINDINGS = [Binding("escape", "leave_zoom", "k.back", id="detail.back", show=False)]

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        localise_bindings(self)

    def action_leave_zoom(self) -> None:
        """Esc in the detail shown over the whole screen (``z``): back to the list."""
        if self.screen.has_class("-zoomed"):
            self.screen.action_zoom_detail()
        else:
            self.screen.query_one("#table").focus()

    DEFAULT_CSS = """
    DetailPane { border-top: solid $primary; padding: 0 1; }
    DetailPane > Static { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static(t("detail.empty"), id="detail-body", markup=False)

    def show_detail(self, detail: Any) -> None:
        self.query_one("#detail-body", Static).update(render_detail(detail))

    def show_text(self, text: str) -> None:
        self.query_one("#detail-body", Static).update(plain(text, multiline=True))


# -- command palette ------------------------------------------------------------------------------
Command = tuple[str, str, Callable[[], Any]]


class ScreenCommands(Provider):
    """Commands of the active screen: each screen offers ``palette_commands()`` ->
    ``[(label, help, callback), ...]``; the palette shows those of the screen it was
    opened from, so the commands follow the active screen."""

    def _commands(self) -> Iterable[Command]:
        get = getattr(self.screen, "palette_commands", None)
        return list(get()) if get else []

    async def discover(self) -> Hits:
        for label, help_text, callback in self._commands():
            yield DiscoveryHit(label, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, callback in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, _highlight(matcher, label), callback, text=label, help=help_text)


def _highlight(matcher: Any, label: str) -> Content:
    """Like ``Matcher.highlight`` but without parsing ``label`` as markup."""
    content = Content(label)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, label)
    for offset in offsets:
        if not label[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


# -- bars, money, percentages ---------------------------------------------------------------------
EIGHTHS = " ▏▎▍▌▋▊▉█"
COLUMN_EIGHTHS = " ▁▂▃▄▅▆▇█"


def hbar(value: float, maximum: float, width: int, style: str = "", *,
         track: str = " ", track_style: str = "") -> Text:
    """A horizontal bar ``width`` cells long (eighth-block resolution) for ``value`` out of
    ``maximum``; a value above 0 always shows at least a sliver."""
    width = max(int(width), 0)
    out = Text(end="", no_wrap=True)
    if width == 0:
        return out
    eighths = 0
    if maximum > 0 and value > 0:
        eighths = max(1, round(min(value / maximum, 1.0) * width * 8))
    full, rem = divmod(eighths, 8)
    out.append("█" * full, style=style)
    used = full
    if rem:
        out.append(EIGHTHS[rem], style=style)
        used += 1
    if used < width:
        out.append(track * (width - used), style=track_style)
    return out


def progress_bar(percent: float | None, width: int) -> Text:
    """``███▌░░░░  45%``: a bar ``width`` cells wide then the percentage (5 cells)."""
    p = max(0.0, min(float(percent or 0), 100.0))
    style = "green" if p >= 100 else ("bold cyan" if p >= 50 else "cyan")
    out = hbar(p, 100, max(width - 5, 1), style, track="░", track_style="dim")
    out.append(f"{p:4.0f}%", style="bold" if p >= 100 else "")
    return out


def money_unit(*amounts: float | None) -> str:
    """The one unit of a view's amounts (in 万元): ``亿`` when the largest is at least 1亿,
    else ``万`` (English: ``bn`` / ``M`` / ``k``), so that a column or a line never mixes them
    (``1.1亿`` above ``8,650万``)."""
    from taian_tui.console.strings import get_lang

    top = max((float(a or 0) for a in amounts), default=0.0)
    if get_lang() == "en":
        cny = top * 10_000
        return "bn" if cny >= 1e9 else "M" if cny >= 1e6 else "k"
    return "亿" if top >= 10_000 else "万"


def money_decimals(unit: str, *amounts: float | None) -> int | None:
    """The decimals of a column's amounts in 亿 (``money``'s ``decimals``): two when one of
    them is under 1亿, else one, so that a column reads 19.23亿 / 8.00亿 / 0.70亿 rather than
    19.2亿 / 8亿 / 0.70亿; ``None`` for the other units."""
    if unit != "亿":
        return None
    return 2 if any(0 < float(a or 0) < 10_000 for a in amounts) else 1


def money(wan: float | None, unit: str | None = None, decimals: int | None = None) -> str:
    """An amount in 万元 as people say it, in ``unit`` (``money_unit`` of the view's amounts;
    by default the amount's own): ``12.3亿``, ``0.87亿``, ``860万`` (English: ¥1.23bn, ¥8.6M);
    ``decimals``: the same number of them for every amount of a column in 亿."""
    value = float(wan or 0)
    unit = unit or money_unit(value)
    if unit == "亿" and decimals is not None:
        return f"{value / 10_000:.{decimals}f}亿"
    if unit == "bn":
        return f"¥{value * 10_000 / 1e9:.2f}bn"
    if unit == "M":
        return f"¥{value * 10_000 / 1e6:.1f}M"
    if unit == "k":
        return f"¥{value * 10_000 / 1e3:,.0f}k"
    if unit == "亿":
        yi = value / 10_000
        return (f"{yi:.1f}亿".replace(".0亿", "亿") if yi >= 1 or yi == 0 else f"{yi:.2f}亿")
    return f"{value:,.0f}万"




def pad(text: str | Text, width: int, *, right: bool = False) -> Text:
    """``text`` cut or padded to exactly ``width`` cells (CJK counts two)."""
    out = text.copy() if isinstance(text, Text) else plain(text)
    out.no_wrap = True
    if out.cell_len > width:
        out = cut(out, width)
        out.no_wrap = True
    short = width - out.cell_len
    if short > 0:
        if right:
            out = Text(" " * short, end="") + out
        else:
            out.append(" " * short)
    out.end = ""
    return out
