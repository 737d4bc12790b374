"""Cleaning text before Willow stores or shows it.

Everything Willow shows, from her or from staff, is plain text that the pages insert with
textContent, so no HTML is ever rendered and no HTML sanitiser is needed: `plain_text` only
removes characters that could hide or disguise content. Should staff-authored rich text with
links ever be rendered as HTML, its one cleaning function belongs here, behind an allow-list.
"""

from __future__ import annotations

import re

from moderation.normalize import strip_invisible

_KEPT_CONTROLS = frozenset("\n\t")
# Every control (Cc) and surrogate (Cs) code point except those kept, as one character class,
# so a body is cleaned in one pass rather than character by character.
_CONTROLS = re.compile(
    "["
    + "".join(
        re.escape(chr(code))
        for code in [*range(0x20), *range(0x7F, 0xA0)]
        if chr(code) not in _KEPT_CONTROLS
    )
    + "\ud800-\udfff]"
)


def plain_text(body: str) -> str:
    """A message body with invisible, override and control characters removed, trimmed."""
    text = _drop_unencodable(body)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_invisible(text)
    return _CONTROLS.sub("", text).strip()


def _drop_unencodable(text: str) -> str:
    """Remove lone surrogates, which cannot be stored, encoded as UTF-8 or shown."""
    if text.isascii():
        return text
    return text.encode("utf-8", "ignore").decode("utf-8")
