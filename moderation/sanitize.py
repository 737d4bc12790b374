"""Cleaning text before Willow stores or shows it.

Message bodies are plain text (pages insert them with textContent), so `plain_text` only
removes characters that could hide or disguise content. The small rich snippets that staff
and admins write (resources, canned responses, room descriptions) go through `clean_rich`,
the one place HTML is allowed in, so that an allow-list is enforced in a single spot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import bleach

# bleach's stubs do not re-export html5lib's filter base class, though bleach provides it.
from bleach.html5lib_shim import Filter  # type: ignore[attr-defined]

from moderation.normalize import strip_invisible

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "tel", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

# bleach strips disallowed tags but keeps their text; the body of a script or style is
# never meant to be read, so it goes before bleach runs. Safety still rests on bleach.
_HIDDEN_CONTENT = re.compile(
    r"<(script|style|template|noscript|iframe|object|textarea)\b[^>]{0,1000}>.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
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
# Resources and room descriptions are a few paragraphs; the HTML parser is slow on megabytes.
MAX_RICH_LENGTH = 20_000


class RichTextTooLong(ValueError):
    """Rich text beyond MAX_RICH_LENGTH characters; the editor should say so, not cut it."""


class _LinkRelFilter(Filter):  # type: ignore[misc]
    """Give every remaining link a rel that stops referrer leaks and opener access."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                attrs = dict(token.get("data") or {})
                attrs[(None, "rel")] = LINK_REL
                token["data"] = attrs
            yield token


_CLEANER = bleach.sanitizer.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_LinkRelFilter],
)


def clean_rich(html: str) -> str:
    """Staff-authored rich text reduced to Willow's small allow-list of tags and links.

    Raises RichTextTooLong for more than MAX_RICH_LENGTH characters.
    """
    if len(html) > MAX_RICH_LENGTH:
        raise RichTextTooLong(
            f"rich text is {len(html)} characters long; the most allowed is {MAX_RICH_LENGTH}"
        )
    text = _drop_unencodable(html).replace("\x00", "")
    text = _HIDDEN_CONTENT.sub("", text)
    return _CLEANER.clean(text).strip()


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
