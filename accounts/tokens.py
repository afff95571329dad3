"""Secret tokens that stand for a user (calendar feed addresses, API tokens): 256 random bits,
of which only the SHA-256 is stored, so neither the database nor a backup reveals one."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
# Longer than any token we issue (43 characters, plus a short prefix); anything longer is
# refused without hashing it.
TOKEN_MAX_LENGTH = 64


def token_new(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
