"""Which room names may be used in a room: on top of validate_pseudonym, no name that could
pass for staff, and no name already taken in the room. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable

from moderation.normalize import normalise


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that would make a participant look like someone speaking for the service, in the
# languages the rooms are held in. Compared after normalising (so "M3nt0r" counts).
STAFF_WORDS = _word_set(
    """
    mentor mentors mentorka admin admins administrator administratorka administracja
    moderator moderators moderatorka mod mods willow staff team adviser advisor advisers
    advisors doradca doradczyni supervisor supervisors official support helpline
    counsellor counselor therapist
    مرشدة مرشده مرشد مشرفة مشرفه مشرف ادارة اداره مسؤول
    منتظم ایڈمن مشیر
    """
)
_WORD = re.compile(r"\w+")


def name_key(name: str) -> str:
    """What makes two names the same for people reading them: case, accents, spacing."""
    return " ".join(_WORD.findall(normalise(name)))


def looks_like_staff(name: str, staff_names: Iterable[str] = ()) -> bool:
    """True when the name contains a staff word or is a staff member's display name."""
    key = name_key(name)
    words = key.split()
    joined = "".join(words)
    if any(word in STAFF_WORDS for word in words) or joined in STAFF_WORDS:
        return True
    return any(key == name_key(staff) for staff in staff_names if staff.strip())


def is_taken(name: str, names_in_use: Iterable[str]) -> bool:
    key = name_key(name)
    return any(key == name_key(other) for other in names_in_use)
