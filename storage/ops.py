"""What an operator's checks read from the database: schema revision, outbox depth, active use, doctor lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ops.doctor import Check, fail, ok
from storage.database import DatabaseConfigError, _alembic_config, check_connection, make_engine
from storage.models import OutboxRow, RoundRow, SubscriptionRow


@dataclass(frozen=True)
class Schema:
    current: str | None
    head: str
    pending: tuple[str, ...]  # revisions this code would apply, oldest first
    unknown: bool  # the database is at a revision this code does not know (a newer release ran on it)

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


async def schema_state(engine: AsyncEngine) -> Schema:
    from alembic.runtime.migration import MigrationContext  # only the doctor and /readyz ask
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        at = await conn.run_sync(current)
    newest_first = [rev.revision for rev in script.walk_revisions()]
    if at is not None and at not in newest_first:
        return Schema(at, head, (), True)
    pending = newest_first[: newest_first.index(at)] if at is not None else newest_first
    return Schema(at, head, tuple(reversed(pending)), False)


@dataclass
class Figures:
    outbox: dict[str, int] = field(default_factory=dict)  # status -> rows
    oldest_pending_seconds: float = 0.0
    active_rounds: int = 0
    daily_subscriptions: int = 0


async def operational_figures(engine: AsyncEngine, now: datetime) -> Figures:
    """A few aggregate counts, cheap enough to read at every metrics scrape."""
    figures = Figures()
    async with engine.connect() as conn:
        rows = await conn.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        figures.outbox = {status: int(n) for status, n in rows}
        # From when the row was planned, not its next attempt: a send that keeps being retried grows old.
        oldest = await conn.scalar(select(func.min(OutboxRow.created_at)).where(OutboxRow.status == "pending"))
        if oldest is not None:
            if oldest.tzinfo is None:  # SQLite hands back naive datetimes
                oldest = oldest.replace(tzinfo=now.tzinfo)
            figures.oldest_pending_seconds = max(0.0, (now - oldest).total_seconds())
        figures.active_rounds = int(
            await conn.scalar(select(func.count()).select_from(RoundRow).where(RoundRow.status == "active")) or 0
        )
        figures.daily_subscriptions = int(
            await conn.scalar(
                select(func.count())
                .select_from(SubscriptionRow)
                .where(SubscriptionRow.kind == "daily", SubscriptionRow.active.is_(True))
            )
            or 0
        )
    return figures


async def database_checks(url: str, within: float) -> list[Check]:
    """`mock-interviewer doctor`'s database lines: reachable, and how its schema compares with this release."""
    try:
        engine = make_engine(url)
    except DatabaseConfigError as exc:
        return [fail("database", str(exc), "fix DATABASE_URL (see .env.example)")]
    try:
        await check_connection(engine, within)
        schema = await schema_state(engine)
    except DatabaseConfigError as exc:
        return [fail("database", str(exc), "start the database or fix host, port, user and password in DATABASE_URL")]
    finally:
        await engine.dispose()
    found = [ok("database", f"{engine.dialect.name} reachable")]
    if schema.unknown:
        found.append(
            fail(
                "migrations",
                f"the database is at revision {schema.current}, which this release does not know (its newest is {schema.head})",
                "run the release that migrated it, or restore a backup taken before",
            )
        )
    elif schema.pending:
        found.append(
            ok(
                "migrations",
                f"{len(schema.pending)} to apply ({', '.join(schema.pending)}); `run` applies them at start, "
                "or run `mock-interviewer db upgrade` now",
            )
        )
    else:
        found.append(ok("migrations", f"schema current ({schema.head})"))
    return found
