"""Secrets Willow must read back (a staff member's second-factor key), encrypted at rest.

Fernet (AES-128-CBC with an HMAC-SHA256, from the `cryptography` library) with a key derived
from `WILLOW_SECRET_KEY` by HKDF for this one purpose, so a copy of the database (a backup,
a leaked dump) does not hold the key to anyone's authenticator codes. A value written before
sealing existed is read as it is until `seal_plain` rewrites it (`willow migrate` and a
housekeeping job do); Fernet tokens start with `gAAAAA`, which a base32 key never does.

Changing `WILLOW_SECRET_KEY` makes sealed values unreadable: the people concerned set up
two-step login again (docs/OPERATIONS.md).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PURPOSE = b"willow: staff second factor secret, v1"
_TOKEN_START = "gAAAAA"  # noqa: S105 (the start of every Fernet token, not a password)


class Unreadable(ValueError):
    """A sealed value this server's key cannot open (the secret key was changed)."""


@lru_cache(maxsize=8)
def _fernet(secret_key: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(key))


def is_sealed(value: str) -> bool:
    return value.startswith(_TOKEN_START)


def seal(value: str, secret_key: bytes) -> str:
    return _fernet(secret_key).encrypt(value.encode()).decode("ascii")


def unseal(value: str, secret_key: bytes) -> str:
    """The secret; a value from before sealing is returned as it is."""
    if not is_sealed(value):
        return value
    try:
        return _fernet(secret_key).decrypt(value.encode("ascii")).decode()
    except InvalidToken:
        raise Unreadable("sealed with another secret key") from None
