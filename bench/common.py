"""Shared by the benchmarks: a throwaway PostgreSQL schema, so a run never touches real tables."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage.database import make_engine


def postgres_url() -> str | None:
    url = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    return url if url.startswith("postgresql") else None


@asynccontextmanager
async def scratch_schema(url: str) -> AsyncIterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()
