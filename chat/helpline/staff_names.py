"""Staff usernames and display names: one spelling per person, nothing that pretends.

A username is compared after Unicode NFKC folding, trimming and lower-casing, and may hold
only ASCII letters, digits and `.`, `_`, `-`: so `"admin1 "`, `"Admin1"` and a Cyrillic
look-alike cannot sit beside `admin1`. A display name is what women see; it may not carry
markup or control characters, nor be a role word (a mentor called "Mentor", an adviser
called "Supervisor") that would make her think she is talking to someone else.
"""

from __future__ import annotations

import re
import unicodedata

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
ROLE_WORDS = frozenset(
    {
        "admin", "administrator", "adviser", "advisor", "counsellor", "counselor", "helpline",
        "manager", "mentor", "moderator", "staff", "supervisor", "support", "system", "willow",
    }
)  # fmt: skip
_MARKUP = set("<>&\"'`\\/{}[]")


class NameRefused(ValueError):
    """A name is refused; the message says why (without repeating the name)."""


def normalise_username(raw: str) -> str:
    """The one spelling a username is stored and looked up by; raises if it cannot be one."""
    name = unicodedata.normalize("NFKC", raw).strip().lower()
    if not USERNAME.fullmatch(name):
        raise NameRefused(
            "a username is 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
        )
    return name


def lookup_username(raw: str) -> str:
    """The spelling to look an account up by, for a login form (never raises)."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


def clean_display_name(raw: str) -> str:
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not 1 <= len(name) <= 64:
        raise NameRefused("a display name is 1 to 64 characters")
    if any(c in _MARKUP or unicodedata.category(c).startswith("C") for c in name):
        raise NameRefused("a display name may not hold markup, symbols like < > & or controls")
    letters = "".join(c for c in name.casefold() if c.isalnum())
    if letters in ROLE_WORDS or any(
        letters == word + "s" or letters.rstrip("0123456789") == word for word in ROLE_WORDS
    ):
        raise NameRefused("a display name may not be a role word such as Mentor or Adviser")
    return name


def check_shown_to_participants(role: str, username: str, display_name: str | None) -> None:
    """A mentor is named in rooms by her display name alone: she must choose one at creation,
    and it may not be her username in any spelling (a username is a login, never shown)."""
    if role != "mentor":
        return
    if display_name is None or not display_name.strip():
        raise NameRefused("a mentor needs a display name, the name participants see")
    shown = "".join(
        c for c in unicodedata.normalize("NFKC", display_name).casefold() if c.isalnum()
    )
    login = "".join(c for c in username.casefold() if c.isalnum())
    if shown == login:
        raise NameRefused("a mentor's display name may not be her username: choose another name")
