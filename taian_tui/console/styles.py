"""The console's stylesheet: Textual's, with its parsed rules shared and its no-op refreshes
skipped.

Textual parses the whole CSS again whenever a source is added (each widget class's
``DEFAULT_CSS``, the first time one is mounted) and on every ``refresh_css``, which a mode
switch calls for each new screen; its parse cache holds 64 entries and belongs to one
``Stylesheet``, and ``reparse`` makes a new one. A screen's first visit paid some hundred
milliseconds for parsing the same hundred sources again. Parsing is a pure function of the
CSS text, where it was read from, its scope and tie-breaker and the CSS variables, and the
parsed rule sets are only read afterwards (``RuleSet`` is not changed after its
``_post_parse``), so one cache for the process, keyed by all of these, gives the same rules
without parsing again (a theme change parses once more: its variables differ).

``css_unchanged`` tells ``TaianApp.refresh_css`` when a refresh would change no node's
styles (it would re-apply the CSS to every node of every screen: a tenth of a second at a
first visit), so that the refresh only parses the new sources.

``release_styles_caches`` mends a leak in Textual's drawing (textual#6665, open): every
widget's ``StylesCache`` (with the lines it last drew) stayed alive after the widget was
gone, held by an ``lru_cache`` of 1,024 entries keyed by the instance as well as by the two
colours it is given.

``drawing_freed_at_once`` breaks two reference cycles of Textual's drawing (a cache cleared,
a line cached in itself), so that what is no longer drawn is freed at once, not by the
cyclic collector.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

from textual._styles_cache import StylesCache
from textual.css.stylesheet import Stylesheet
from textual.cache import LRUCache
from textual.strip import Strip

#: Parsed rule sets by (css, read_from, is_default, tie_breaker, scope, variables). A few
#: hundred entries per theme used; cleared if it ever grows past this (a theme picker run
#: through every theme).
MAX_PARSED = 4096
_PARSED: dict[tuple, list] = {}


class SharedStylesheet(Stylesheet):
    """A ``Stylesheet`` whose parsed rules are shared by the process (see the module)."""

    _variables_seen: Any = None
    _variables_key: tuple = ()

    def _variables_signature(self) -> tuple:
        if self._variables_seen is not self._variables:
            self._variables_seen = self._variables
            self._variables_key = tuple(sorted(self._variables.items()))
        return self._variables_key

    def _parse_rules(self, css: str, read_from: Any, is_default_rules: bool = False,
                     tie_breaker: int = 0, scope: str = "") -> list:
        key = (css, read_from, is_default_rules, tie_breaker, scope, self._variables_signature())
        rules = _PARSED.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            if len(_PARSED) >= MAX_PARSED:
                _PARSED.clear()
            _PARSED[key] = rules
        return rules

    def reparse(self) -> None:
        """Textual's ``reparse``, parsing in a new stylesheet of this class (so through the
        shared cache) and keeping this one unchanged if the CSS is invalid."""
        fresh = type(self)(variables=self._variables)
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            fresh.add_source(css, read_from=read_from, is_default_css=is_defaults,
                             tie_breaker=tie_breaker, scope=scope)
        try:
            fresh.parse()
        except Exception:
            self._invalid_css.update(fresh._invalid_css)
            raise
        self._rules = fresh.rules
        self._rules_map = None
        self.source = fresh.source
        self._require_parse = False


def css_state(stylesheet: Stylesheet, update_count: int, variables: dict[str, str]) -> tuple:
    """What a ``refresh_css`` applied: the app's CSS update count, the variables and the
    sources (where read from -> text and scope)."""
    return (update_count, variables,
            {where: (src.content, src.scope) for where, src in stylesheet.source.items()})


def css_unchanged(stylesheet: Stylesheet, last: tuple | None, update_count: int,
                  variables: dict[str, str]) -> bool:
    """True when a refresh now would change no node's styles: the update count and the
    variables are those ``last`` (``css_state``) applied, and the sources are the same but
    for new scoped ones. A scoped source (a widget class's ``DEFAULT_CSS``, added when its
    first instance mounts) applies only inside instances of its class, all of which mounted
    after it was added and so had it applied; an unscoped one, or a changed one, may concern
    nodes mounted before, and needs the full refresh."""
    if last is None:
        return False
    count, seen, sources = last
    if count != update_count or seen != variables:
        return False
    now = stylesheet.source
    if any(where not in now for where in sources):
        return False
    for where, src in now.items():
        before = sources.get(where)
        if before is None:
            if not src.scope:
                return False
        elif before != (src.content, src.scope):
            return False
    return True


def release_styles_caches() -> None:
    """Cache ``StylesCache.get_inner_outer`` by its two colours alone. Textual decorates the
    method with ``lru_cache(1024)``, so each entry's key holds the instance: the caches of
    up to 1,024 widgets no longer on screen (a footer rebuilt, a form closed, a list's rows
    redrawn), with every line they drew, stayed alive; on a million appeals 50 searches left
    about 5 MB there. The result depends on the colours only (the method reads nothing of
    its instance). Once per process; idempotent. Nothing is replaced unless the method is
    still the ``lru_cache`` on the instance (done already, or a Textual that mends it)."""
    method = StylesCache.__dict__.get("get_inner_outer")
    if not hasattr(method, "cache_clear") or not hasattr(method, "__wrapped__"):
        return
    compute = method.__wrapped__
    StylesCache.get_inner_outer = staticmethod(lru_cache(1024)(
        lambda base_background, background: compute(None, base_background, background)))


def drawing_freed_at_once() -> None:
    """What Textual's drawing no longer uses is freed when its last reference goes, not by
    the cyclic collector. Two reference cycles made garbage that waited for the collector's
    full passes, which ran less often the more there was to collect (up to 25 ms each), and
    whose waiting garbage raised a console's memory by megabytes over a day's keys
    (benchmarks/console_memory.py):

    * ``LRUCache.clear`` dropped its dict but left its ring of entries linked, every value
      inside: a list's table clears its render caches on each page (the page's cells, rows
      and lines);
    * a ``Strip`` divided at its own end (``divide([len])``, the compositor's commonest cut)
      or cropped-and-extended to exactly itself (``crop_extend(0, len)``) returns itself, and
      cached that result in its own caches: every line of every frame so drawn, with its
      seven caches.

    The same results, without the cycles. Once per process; idempotent."""
    if getattr(Strip, "_freed_at_once", False):
        return
    divide, crop_extend, clear = Strip.divide, Strip.crop_extend, LRUCache.clear

    def divide_freed(self: Strip, cuts: Any) -> Any:
        cuts = list(cuts)
        length = self.cell_length
        if [cut for cut in cuts if cut <= length] == [length]:
            return [self]
        return divide(self, cuts)

    def crop_extend_freed(self: Strip, start: int, end: int, style: Any) -> Strip:
        if start <= 0 and end == self.cell_length:     # extended: itself; cropped: itself
            return self
        return crop_extend(self, start, end, style)

    def clear_freed(self: LRUCache) -> None:
        for entry in self._cache.values():
            entry.clear()                               # [prev, next, key, value]: unlinked
        clear(self)

    divide_freed.__doc__, crop_extend_freed.__doc__ = divide.__doc__, crop_extend.__doc__
    clear_freed.__doc__ = clear.__doc__
    Strip.divide, Strip.crop_extend, LRUCache.clear = divide_freed, crop_extend_freed, clear_freed
    Strip._freed_at_once = True


#: What never begins a wrapped line (the closing marks of Chinese typesetting, 行首禁则) and
#: what never ends one (the opening marks); the ASCII ones as well, in mixed text.
NO_LINE_START = frozenset("，。、；：？！）」』】》〉〕］｝’”…—％·～,.;:?!)]}%")
NO_LINE_END = frozenset("（「『【《〈〔［｛‘“([{")


#: Chinese (and full-width) characters: each may begin a line (no spaces between words).
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_HAS_CJK = re.compile(f"[{_CJK}]")
_CJK_WORDS = re.compile(f"\\s*(?:[{_CJK}]|[^\\s{_CJK}]+)\\s*")


def _cjk_aware(divide: Callable[..., list[int]]) -> Callable[..., list[int]]:
    """Rich's ``divide_line`` where every Chinese character is a word of its own: a line of
    Chinese breaks at any character, as Chinese is typeset, not only at the spaces around a
    number or a key (a help text left half-empty lines before "50 个" and "按 /"). Text
    without Chinese goes to ``divide`` as it is."""
    from rich.cells import cell_len, chop_cells

    def divide_line(text: str, width: int, fold: bool = True) -> list[int]:
        if not _HAS_CJK.search(text):
            return divide(text, width, fold)
        breaks: list[int] = []
        offset = 0
        for m in _CJK_WORDS.finditer(text):
            start, word = m.start(), m.group(0)
            length = cell_len(word.rstrip())
            if width - offset >= length:
                offset += cell_len(word)
            elif length > width:
                if fold:
                    pieces = chop_cells(word, width=width)
                    for i, piece in enumerate(pieces):
                        if start:
                            breaks.append(start)
                        if i == len(pieces) - 1:
                            offset = cell_len(piece)
                        else:
                            start += len(piece)
                else:
                    if start:
                        breaks.append(start)
                    offset = cell_len(word)
            elif offset and start:
                breaks.append(start)
                offset = cell_len(word)
        return breaks

    return divide_line


def _kinsoku(divide: Callable[..., list[int]]) -> Callable[..., list[int]]:
    def divide_line(text: str, width: int, fold: bool = True) -> list[int]:
        breaks = divide(text, width, fold)
        if not any(0 < b < len(text) and (text[b] in NO_LINE_START or text[b - 1] in NO_LINE_END)
                   for b in breaks):
            return breaks
        # again, line by line from the first break that starts a line with a closing mark (or
        # ends one with an opening mark): that break moves back a character, taking it along
        # (a line never holds more than it did), and the lines after are divided anew
        out: list[int] = []
        start = 0
        while True:
            rest = divide(text[start:], width, fold)
            if not rest:
                return out
            b = start + rest[0]
            while b - 1 > start and (text[b] in NO_LINE_START or text[b - 1] in NO_LINE_END):
                b -= 1
            out.append(b)
            start = b

    divide_line.__wrapped__ = divide        # type: ignore[attr-defined]
    return divide_line


def chinese_line_breaks() -> None:
    """Wrapped lines, in Rich's ``Text`` and in Textual's ``Content`` alike (both divide a line
    with ``rich._wrap.divide_line``), never begin with a closing mark (。，、）」…) nor end with an
    opening one: the break moves back a character (a long appeal's body, a help text, a
    dialog). Once per process; idempotent."""
    import rich.text
    import textual.content

    for module in (rich.text, textual.content):
        current = module.divide_line
        if not hasattr(current, "__wrapped__"):
            module.divide_line = _kinsoku(_cjk_aware(current))
