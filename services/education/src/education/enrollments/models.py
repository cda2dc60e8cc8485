"""Enrolments registered by the education department's systems (one per person, stage and academic year)."""

import datetime as dt
import uuid

from pydantic import BaseModel, field_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, DateTime, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from education.academic_years import AcademicYear
from education.grants.models import GrantPublic
from education.school_stages import Stage


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("person_ref", "stage", "academic_year",
                                       name="uq_enrollment_person_stage_year"),)

    enrollment_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_ref: str = Field(max_length=64, index=True)
    masked_id_number: str = Field(max_length=18)
    school_code: str = Field(max_length=40)
    stage: str = Field(max_length=30)
    grade: str = Field(max_length=20)
    boarding: bool
    academic_year: str = Field(max_length=9, index=True)
    recorded_by: str = Field(max_length=100)
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class EnrollmentCreate(BaseModel):
    """Body of POST /education/enrollments. The ID number is checked by the service (422 invalid_id_number)."""

    id_number: str = PydanticField(min_length=1, max_length=40)
    school_code: str = PydanticField(min_length=1, max_length=40, json_schema_extra={"pattern": r"^[^\u0000]*$"})
    stage: Stage
    grade: int | str
    boarding: bool = False
    academic_year: AcademicYear

    @field_validator("school_code")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return _refuse_nul(value)

    @field_validator("grade")
    @classmethod
    def _grade_as_text(cls, value: int | str) -> str:
        text = _refuse_nul(str(value).strip())
        if not text or len(text) > 20:
            raise ValueError("must be a grade of 1 to 20 characters, e.g. 1")
        return text


def _refuse_nul(value: str) -> str:
    """PostgreSQL text cannot hold U+0000: refused here (422 naming the field), not in the database (500)."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


class EnrollmentPublic(BaseModel):
    enrollment_id: uuid.UUID
    masked_id_number: str
    school_code: str
    stage: str
    grade: str
    boarding: bool
    academic_year: str
    registered_poor: bool
    created_at: dt.datetime
    grants: list[GrantPublic]
