"""Engine creation and migrations; the only place that knows SQLite from PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
READONLY = "mock_interviewer_readonly"  # an execution option: a transaction that only reads


class DatabaseConfigError(Exception):
    """A DATABASE_URL or data folder that cannot work; the message is shown to the operator as is."""


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'mock-interviewer.db'}"


def make_engine(url: str, *, pool_size: int = 10, pg_schema: str | None = None) -> AsyncEngine:
    """`pg_schema` confines a PostgreSQL engine to one schema (tests use a throwaway one)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseConfigError(f"DATABASE_URL is not a valid database URL ({exc})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            raise DatabaseConfigError("DATABASE_URL for SQLite must use the async driver: sqlite+aiosqlite:///path")
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().resolve().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
                probe = folder / ".write-test"
                probe.write_bytes(b"")
                probe.unlink()
            except OSError as exc:
                raise DatabaseConfigError(f"data folder {folder} is not writable ({exc.strerror})") from None
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _sqlite_pragmas(engine)
        return engine
    if backend == "postgresql":
        if parsed.drivername != "postgresql+asyncpg":
            raise DatabaseConfigError("DATABASE_URL for PostgreSQL must use the async driver: postgresql+asyncpg://...")
        connect_args: dict[str, Any] = {"server_settings": {"search_path": pg_schema}} if pg_schema else {}
        return create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, connect_args=connect_args
        )
    raise DatabaseConfigError(
        f"DATABASE_URL names an unsupported database {backend!r}; use sqlite+aiosqlite or postgresql+asyncpg"
    )


def connection_slots(engine: AsyncEngine) -> int:
    """How many units of work may hold a pooled connection at once: the pool's whole capacity but two,
    kept for the scheduling leader's connection and maintenance."""
    pool = engine.pool
    capacity = pool.size() + getattr(pool, "_max_overflow", 0) if isinstance(pool, QueuePool) else 1
    return max(1, capacity - 2)


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    """WAL for concurrent readers; BEGIN IMMEDIATE so writers queue instead of failing on upgrade
    (a read-only unit of work uses a plain BEGIN: it never upgrades)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READONLY) else "BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # alembic loads only when there is migrating to do

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


MIGRATION_LOCK = 0x6D6F636D  # "mocm": one instance migrates at a time


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """On PostgreSQL, instances starting together take turns (a transaction-scoped advisory lock):
    the first migrates, the others then find the schema current. SQLite's BEGIN IMMEDIATE already queues."""

    if revision == "head" and await _at_head(engine):
        return  # the usual start: nothing to migrate, so no need to load alembic and every script

    def run(connection: Connection) -> None:
        from alembic import command

        command.upgrade(_alembic_config(connection), revision)

    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        await conn.run_sync(run)


def head_revision() -> str:
    """The newest migration, read from the scripts' `revision =` lines without importing alembic."""
    revisions, parents = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        text = script.read_text()
        if found := re.search(r'^revision = "([^"]+)"', text, re.M):
            revisions.add(found[1])
        parents.update(re.findall(r'^down_revision = "([^"]+)"', text, re.M))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations should have one head, found {sorted(heads)}")
    return heads.pop()


async def _at_head(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execution_options(**{READONLY: True})  # SQLite: a plain BEGIN, not the write lock
            version = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            return [row[0] for row in version] == [head_revision()]
    except Exception:  # no table yet (a new database) or one this dialect words differently: migrate
        return False


async def check_connection(engine: AsyncEngine, limit: float = 10.0) -> None:
    """Fail fast with one clear line instead of a stack trace when the database is unreachable."""
    try:
        async with asyncio.timeout(limit):
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
    except TimeoutError:
        raise DatabaseConfigError(f"database did not answer within {limit:.0f} s") from None
    except Exception as exc:  # driver errors differ per backend; all mean "cannot use this database"
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseConfigError(f"cannot connect to the database: {_redact(message)}") from None


def _redact(message: str) -> str:
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", message)
