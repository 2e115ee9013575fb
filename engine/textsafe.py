"""User text made safe for every output: terminal, rich markup, Markdown, HTML, CSV.

A company id, name, region or evidence reference is the user's text: it is
shown as written, but it can never start markup, run a formula, move the
cursor or reverse the line.  Control characters (C0, C1, DEL), format
characters (the bidi overrides and isolates U+202A–U+202E and U+2066–U+2069,
zero-width characters) and line or paragraph separators are shown visibly as
escapes (``\\x1b``, ``\\n``, ``\\u202e``), never raw.

>>> visible("ACME\\u202e\\x1b[31m")
'ACME\\\\u202e\\\\x1b[31m'
>>> md_text("# Heading | <script>")
'\\\\# Heading \\\\| \\\\<script\\\\>'
>>> md_code("a`b")
'``a`b``'
>>> csv_cell("=HYPERLINK(1)")
"'=HYPERLINK(1)"
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["visible", "terminal", "rich_text", "md_text", "md_code", "html_text", "csv_cell", "json_text"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value, keep: str = "") -> str:
    """``value`` as text with every control, format and separator character escaped visibly.

    Ordinary spaces (category Zs) stay; the characters in ``keep`` (e.g.
    ``"\\n"`` for HTML, where a newline is just white space) stay too.
    """
    text = str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep or unicodedata.category(ch) == "Zs"
                   else _escape_char(ch) for ch in text)


def terminal(value) -> str:
    """Text for a terminal: nothing that moves the cursor, recolours or reverses the line."""
    return visible(value)


def rich_text(value) -> str:
    """Text inside a rich markup string: visible, and ``[bold]`` or ``[/bad]`` printed as written."""
    from rich.markup import escape
    return escape(visible(value))


# characters that can start inline markup anywhere in a line
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&!])")
# what starts a block at the start of a line: heading, quote, list, rule, setext underline, table
_MD_LEADING = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def md_text(value) -> str:
    """Literal Markdown inline text (one line; safe in a GFM table cell).

    Line breaks and tabs in prose are white space: they become one space (no
    heading or list can start); every other control character is shown.
    """
    text = _MD_SPECIAL.sub(r"\\\1", visible(" ".join(str(value).split())))
    return _MD_LEADING.sub(lambda m: m.group(1) + "\\" + m.group(2) if len(m.group(2)) == 1
                           else m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


def md_code(value, in_table: bool = False) -> str:
    """A Markdown code span showing ``value`` exactly (backticks included), on one line.

    In a GFM table a ``|`` ends the cell even inside a code span: with
    ``in_table`` it is written ``\\|`` (which the table reads as ``|``).
    """
    text = visible(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ") and text.strip()):
        text = f" {text} "
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


def html_text(value) -> str:
    """Text for HTML before autoescaping: control and bidi characters visible (new lines and tabs stay)."""
    return visible(value, keep="\n\t")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value):
    """A CSV cell a spreadsheet shows as text: visible characters, and a leading ``'`` before a formula."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = visible(value)
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_START) else text


def _invisible_class() -> str:
    # C1 controls, DEL, format characters (bidi, zero-width), line and paragraph separators; C0 is JSON's own job
    chars = [chr(c) for c in range(0x7f, 0x10000)
             if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp") and not 0xd800 <= c <= 0xdfff]
    return "[" + "".join(re.escape(ch) for ch in chars) + "\U000110bd\U0001bca0-\U0001bca3\U0001d173-\U0001d17a" \
           "\U000e0001\U000e0020-\U000e007f]"


_JSON_INVISIBLE = None   # compiled when first needed: building the class takes a tenth of a second (issue 13)


def json_text(text: str) -> str:
    """JSON text (``ensure_ascii=False``) with every invisible character written as a ``\\uXXXX`` escape.

    The data stay exactly the same (a JSON reader gets the same strings back);
    only a person reading the file no longer sees a reversed or hidden line.
    """
    global _JSON_INVISIBLE
    # nothing invisible: every character the class holds is unprintable, and a new line in JSON text is
    # indentation (inside a string the encoder writes it as \n) — so an indented report skips the class too
    if text.isascii() or text.isprintable() or text.replace("\n", "").isprintable():
        return text
    if _JSON_INVISIBLE is None:
        _JSON_INVISIBLE = re.compile(_invisible_class())

    def escaped(match):
        code = ord(match.group(0))
        if code < 0x10000:
            return f"\\u{code:04x}"
        code -= 0x10000
        return f"\\u{0xd800 + (code >> 10):04x}\\u{0xdc00 + (code & 0x3ff):04x}"
    return _JSON_INVISIBLE.sub(escaped, text)
