"""API tokens: random, shown once, stored as a SHA-256 hash (a 256-bit random token needs no salt)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from .db import Catalog
from .models import ROLES, Token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(catalog: Catalog, role: str, name: str | None = None) -> str:
    """A new token for ``role`` (uploader, reviewer or admin); only its hash is stored."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not known; expected one of {', '.join(ROLES)}")
    token = "schouw_" + secrets.token_urlsafe(32)
    with catalog.session() as s:
        s.add(Token(name=name or role, role=role, token_hash=hash_token(token), revoked=False))
    return token


def lookup(catalog: Catalog, token: str) -> Token | None:
    """The token's record, or None when it is unknown or revoked."""
    with catalog.session() as s:
        return s.scalar(select(Token).where(Token.token_hash == hash_token(token), Token.revoked.is_(False)))
