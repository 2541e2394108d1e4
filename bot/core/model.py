"""The base of every state shape: saved as JSON after each event, read back after a restart."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StateModel(BaseModel):
    """Ignores fields it doesn't know, so state saved by another version still loads."""

    model_config = ConfigDict(extra="ignore")
