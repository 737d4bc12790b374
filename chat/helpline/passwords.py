"""Whether a staff password is strong enough: long, and not a common or guessable pattern.

Staff can read any transcript, so a password that a list of common passwords, a keyboard
walk, a repeated character or the person's own name would find is refused. zxcvbn estimates
how many guesses a password would take against those patterns.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 12
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from offline attack".
MIN_SCORE = 3
# zxcvbn's time grows with length; the start of a long password says enough about it.
_CHECKED_LENGTH = 100


def password_problem(password: str, *personal: str) -> str | None:
    """Why the password is refused, or None if it is strong enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    words = [w for w in personal if w] + ["willow", "staff", "admin", "adviser", "supervisor"]
    if zxcvbn(password[:_CHECKED_LENGTH], user_inputs=words)["score"] < MIN_SCORE:
        return "password is too easy to guess (a common word, pattern or name); choose another"
    return None
