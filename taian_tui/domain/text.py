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
    """Phone numbers stay text (leading zeros kept): cleaned, half-width, no spaces."""
    text = half_width(clean_line(value))
    return re.sub(r"\s+", "", text)
