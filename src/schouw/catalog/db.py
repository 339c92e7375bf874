"""Open the catalog database: SQLite in the data directory by default, or any SQLAlchemy URL (PostgreSQL).

:func:`open_catalog` upgrades the schema to the newest Alembic revision before anything
else touches it, so a new server version migrates an existing catalog on start.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(data_dir: Path, url: str | None = None) -> str:
    """``url`` as given (``postgresql+psycopg://user:pw@host/db``), else SQLite at ``data_dir/catalog.db``."""
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]  # the driver installed with schouw
        return url
    return f"sqlite:///{(Path(data_dir) / 'catalog.db').resolve()}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con, _record) -> None:
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (runs ingest while reviews go on)
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged review survives a crash of the machine, too
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic; the migration scripts ship in this package)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.upgrade(cfg, revision)


class Catalog:
    """The catalog database: an engine, its schema migrated, and sessions on it (``with`` closes it)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        with self._sessions.begin() as s:
            yield s

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_catalog(data_dir: Path, url: str | None = None) -> Catalog:
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    return Catalog(database_url(data_dir, url))
