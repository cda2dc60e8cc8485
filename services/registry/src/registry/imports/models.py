"""Bulk intake (拉网式摸底): an uploaded file, its progress and its per-row errors."""

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, ForeignKey, LargeBinary, String, func
from sqlmodel import Field, SQLModel


class ImportState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ImportJob(SQLModel, table=True):
    __tablename__ = "import_job"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    filename: str
    file_format: str = Field(max_length=8)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: ImportState = Field(sa_column=Column(String(10), nullable=False))
    rows_total: int | None = None
    rows_done: int = 0
    households_total: int | None = None
    households_created: int = 0
    households_rejected: int = 0
    error_count: int = 0
    failure: str | None = None
    created_by: str
    # stamped by the database on INSERT (server default): None only until the flush
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))
    finished_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class ImportRowError(SQLModel, table=True):
    __tablename__ = "import_row_error"

    id: int | None = Field(default=None, primary_key=True)
    import_id: uuid.UUID = Field(sa_column=Column(ForeignKey("import_job.id"), nullable=False, index=True))
    row: int
    field: str
    code: str
    message: str


class RowErrorPublic(BaseModel):
    row: int
    field: str
    code: str
    message: str


class ImportPublic(BaseModel):
    import_id: uuid.UUID
    state: ImportState
    status: ImportState
    filename: str
    file_format: str
    rows_total: int | None
    rows_done: int
    households_total: int | None
    households_created: int
    households_rejected: int
    error_count: int
    errors: list[RowErrorPublic]
    errors_truncated: bool
    failure: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
