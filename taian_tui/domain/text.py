"""Cleaning of text as it comes in: control characters, full-width forms, whitespace."""
from __future__ import annotations

import re
import unicodedata

# C0 and C1 control characters except tab and newline; DEL too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# ANSI/VT escape sequences (CSI, OSC, and two-character escapes), removed whole so that
# no stray "[2J" is left behind when ESC itself is stripped.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"          # CSI ... final
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL/ST
    r"|\x1b[@-Z\\-_]"                    # 2-char escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"            # 8-bit CSI
)


def strip_escapes(text: str) -> str:
    """Remove terminal escape sequences (whole, so no stray ``[2J`` is left)."""
    return _ESCAPES.sub("", text)


def clean(value: object) -> str:
    """Text safe to store and to show: CR/LF normalised to LF, escape sequences and
    control characters (but newline and tab) removed, surrounding whitespace trimmed."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = strip_escapes(text)
    text = _CONTROL.sub("", text)
    return text.strip()


def clean_line(value: object) -> str:
    """Like :func:`clean` for single-line fields: inner newlines and tabs become spaces,
    full-width spaces are trimmed too."""
    text = clean(value).replace("\n", " ").replace("\t", " ")
    return text.strip(" \u3000")


def half_width(value: str) -> str:
    """Full-width ASCII forms (ＡＢＣ１２３, full-width space) to half-width."""
    return unicodedata.normalize("NFKC", value) if value else value


def normalise_code(value: object) -> str:
    """Credit codes and similar identifiers: cleaned, half-width, upper case, no spaces."""
    text = half_width(clean_line(value))
    return re.sub(r"\s+", "", text).upper()


def normalise_phone(value: object) -> str:
    """Phone numbers stay text (leading zeros kept): cleaned, half-width, no spaces; the
    ".0" a spreadsheet number exported as a decimal gets is dropped (13800000000.0: its
    digits are whole; a landline's lost leading 0 is refused by the registry's check)."""
    text = re.sub(r"\s+", "", half_width(clean_line(value)))
    return re.sub(r"^(\d{5,})\.0+$", r"\1", text)


# (with the full-width and half-width stops, and the invisible characters a pasted text from
# WeChat or Word ends with: zero-width space/joiners, BOM)
_CLAUSE_END = "，。！？；：、,.!?;: \u3000．｡\u200b\u200c\u200d\u2060\ufeff"


def clip(value: object, limit: int) -> str:
    """``value`` on one line, at most ``limit`` characters: a longer one is cut at a word
    boundary (between two Chinese characters, or before a Latin word or number that would be
    split, unless that leaves less than half) and ends with an ellipsis, as a title in an SMS."""
    text = clean_line(value)
    if len(text) <= limit:
        return text
    cut = limit - 1
    if text[cut - 1].isascii() and text[cut - 1].isalnum() and text[cut].isascii() and text[cut].isalnum():
        start = cut
        while start > 0 and text[start - 1].isascii() and text[start - 1].isalnum():
            start -= 1
        if start >= limit // 2:
            cut = start
    return text[:cut].rstrip(_CLAUSE_END) + "…"


def clause(value: object, limit: int) -> str:
    """``value`` as a clause that a message goes on after (``…：{clause}，请登录``): clipped
    (:func:`clip`), without the punctuation it ended with, so that the message's own comma
    never follows a full stop (``。，``)."""
    return clip(value, limit).rstrip(_CLAUSE_END)


# C0/C1 control characters (tab and newline handled apart), DEL, and the bidi overrides and
# isolates that could reorder what a terminal shows.
_SHOW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c"
                   r"\u2028\u2029]")
_SHOW_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\u2028\u2029]")


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, *, multiline: bool = False, literal: bool = False) -> str:
    """``value`` safe to put on a terminal (the console's screen or the command line's
    output): every control character shown as a visible escape (ESC as ``\\x1b``), so a
    stored or received text can never drive the terminal (clear it, set its clipboard with
    OSC 52, reorder what it shows...). Newlines and tabs are kept in multi-line text and
    become spaces otherwise; ``literal`` escapes them too (``\\x0a``), for one output line
    per record that shows the data exactly."""
    text = "" if value is None else str(value)
    if literal:
        return _SHOW_ALL.sub(_escaped, text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        text = text.replace("\t", "    ")
    else:
        text = text.replace("\n", " ").replace("\t", " ")
    return _SHOW.sub(_escaped, text)
