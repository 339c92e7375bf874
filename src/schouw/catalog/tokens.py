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


def list_tokens(catalog: Catalog) -> list[dict]:
    """Every token's id, name, role, creation time and whether it is revoked (never the token itself)."""
    from .models import iso

    with catalog.session() as s:
        return [{"id": t.id, "name": t.name, "role": t.role, "created_at": iso(t.created_at), "revoked": t.revoked}
                for t in s.scalars(select(Token).order_by(Token.id))]


def revoke_token(catalog: Catalog, token_id: int) -> None:
    """Revoke a token by its id: requests with it get 401 from then on. LookupError if there is no such token."""
    with catalog.session() as s:
        t = s.get(Token, token_id)
        if t is None:
            raise LookupError(f"token {token_id} does not exist (see schouw token list)")
        t.revoked = True
