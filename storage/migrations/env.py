"""Alembic environment: runs on the connection the app hands over (see storage.database.upgrade)."""

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through storage.database.upgrade
    raise RuntimeError("run migrations with `mock-interviewer db upgrade`, which supplies the connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
