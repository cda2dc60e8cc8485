"""Checking intake rows and grouping them into whole households: a household with any bad row is rejected whole."""

import datetime as dt
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from asyncpg.pgproto import pgproto
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fupin_kit import clock
from fupin_kit.ids import InvalidResidentId, mask_id_number
from fupin_kit.money import FEN, Money
from fupin_kit.text import NUL, NUL_MESSAGE, has_nul, printable
from registry import persons
from registry.config import get_settings
from registry.households.models import Status
from registry.households.schemas import Cause, Health, IncomeYear, Labor, Relation, SchoolStage
from registry.imports.parsing import Row

# Statuses a file may set (historical data); anything else starts `identified` and goes through verification.
IMPORTABLE = (Status.identified, Status.town_verified, Status.registered, Status.exited, Status.returned)
HOUSEHOLD_COLUMNS = ("village_code", "annual_income", "income_year", "causes", "food_clothing_secure",
                     "compulsory_education_ok", "basic_medical_ok", "housing_safe", "drinking_water_safe",
                     "low_income_guarantee", "status")
_HOUSEHOLD_CELLS = itemgetter(*HOUSEHOLD_COLUMNS)
TRUE = {"true", "1", "yes", "y", "t", "是", "√"}
FALSE = {"false", "0", "no", "n", "f", "否", ""}


class _Entropy:
    """os.urandom read 4 KiB at a time and handed out 10 bytes per id: a getrandom call per id was a third of
    `new_id`. A forked process starts with an empty pool (an import's checking process is forked from the registry,
    and two children sharing the pool's bytes would build the same ids in the same millisecond)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.pool, self.at = b"", 0

    def take(self) -> bytes:
        with self.lock:
            if self.at + 10 > len(self.pool):
                self.pool, self.at = os.urandom(4000), 0
            self.at += 10
            return self.pool[self.at - 10:self.at]


_ENTROPY = _Entropy()
os.register_at_fork(after_in_child=_ENTROPY.reset)


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7, RFC 9562: Unix milliseconds, then 74 random bits from the OS's CSPRNG) for
    the rows an import creates: a chunk's new households and members land at the end of the primary-key and
    foreign-key indexes instead of on random pages. asyncpg's UUID (a `uuid.UUID`, built and printed in C) costs a
    tenth of `uuid.uuid4()` and its `str`, thousands of times per chunk."""
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + _ENTROPY.take())
    raw[6] = 0x70 | raw[6] & 0x0F  # version 7
    raw[8] = 0x80 | raw[8] & 0x3F  # RFC 9562 variant
    return pgproto.UUID(bytes(raw))  # type: ignore[no-any-return]


@dataclass
class RowError:
    row: int
    field: str
    code: str
    message: str


@dataclass
class MemberDraft:
    row: int
    person_ref: str
    masked_id_number: str
    birth_date: dt.date
    name: str
    relation: str
    health: str
    disability_grade: int | None
    labor: str
    school_stage: str | None
    boarding: bool
    id: uuid.UUID = field(default_factory=new_id)  # the member_id, chosen before COPY so events can carry it


@dataclass
class HouseholdDraft:
    key: str
    rows: list[int]
    village_code: str
    status: Status
    annual_income: Decimal
    income_year: int
    causes: list[str]
    indicators: dict[str, bool]
    low_income_guarantee: bool
    members: list[MemberDraft]
    id: uuid.UUID = field(default_factory=new_id)


def _flag(value: str) -> bool:
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError("must be true or false")


class MemberRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=50)
    relation: Relation
    health: Health = Health.healthy
    disability_grade: Literal[1, 2, 3, 4] | None = None
    labor: Labor
    school_stage: SchoolStage | None = None
    boarding: bool = False

    @field_validator("boarding", mode="before")
    @classmethod
    def _bool(cls, value: str) -> bool:
        return _flag(value) if isinstance(value, str) else bool(value)

    @field_validator("disability_grade", mode="before")
    @classmethod
    def _grade(cls, value: object) -> object:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value


class HouseholdRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    village_code: str = Field(pattern=r"^\d{12}$")
    annual_income: Money
    income_year: IncomeYear
    causes: list[Cause] = Field(min_length=1)
    food_clothing_secure: bool
    compulsory_education_ok: bool
    basic_medical_ok: bool
    housing_safe: bool
    drinking_water_safe: bool
    low_income_guarantee: bool = False
    status: Status = Status.identified

    @field_validator("status")
    @classmethod
    def _importable(cls, value: Status) -> Status:
        if value not in IMPORTABLE:
            raise ValueError(f"an import may set {', '.join(IMPORTABLE)}")
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("causes", mode="before")
    @classmethod
    def _split(cls, value: str) -> list[str]:
        parts = value.replace("|", ";").replace(",", ";").replace("，", ";").split(";")
        return list(dict.fromkeys(p.strip() for p in parts if p.strip()))

    @field_validator("food_clothing_secure", "compulsory_education_ok", "basic_medical_ok", "housing_safe",
                     "drinking_water_safe", "low_income_guarantee", mode="before")
    @classmethod
    def _bool(cls, value: str) -> bool:
        return _flag(value) if isinstance(value, str) else bool(value)


def _cells(row: Row, names: Iterable[str]) -> dict[str, str]:
    """Blank optional cells are left out so the model's defaults apply."""
    return {n: row[n] for n in names if row.get(n, "") != "" or n in ("causes",)}


def _pydantic_errors(number: int, exc: ValidationError) -> list[RowError]:
    return [RowError(number, str(e["loc"][0]) if e["loc"] else "row", "validation_error", e["msg"])
            for e in exc.errors()]


def check_member(number: int, row: Row) -> tuple[MemberDraft | None, list[RowError]]:
    # PostgreSQL text cannot hold U+0000: such a row is reported here, never written (it would fail the chunk).
    errors = [RowError(number, column, "validation_error", NUL_MESSAGE) for column, cell in row.items()
              if has_nul(cell)]
    member = None
    try:
        member = MemberRow.model_validate(_cells(row, MemberRow.model_fields))
    except ValidationError as exc:
        errors.extend(_pydantic_errors(number, exc))
    try:
        person = persons.identify(row.get("id_number", ""))
    except InvalidResidentId as exc:  # the number itself is never echoed back
        errors.append(RowError(number, "id_number", "invalid_id_number", str(exc)))
        return None, errors
    if member is None:
        return None, errors
    return MemberDraft(number, person.person_ref, person.masked_id_number, person.birth_date, member.name,
                       str(member.relation), str(member.health), member.disability_grade, str(member.labor),
                       str(member.school_stage) if member.school_stage else None, member.boarding), errors


RELATIONS = frozenset(Relation)
HEALTHS = frozenset(Health)
LABORS = frozenset(Labor)
SCHOOL_STAGES = frozenset(SchoolStage)
GRADES = {"1": 1, "2": 2, "3": 3, "4": 4}
_IPAD, _OPAD = bytes(b ^ 0x36 for b in range(256)), bytes(b ^ 0x5C for b in range(256))


@dataclass(frozen=True)
class QuickCheck:
    """What the quick member check needs once per import or chunk: the pseudonym key and China's date."""

    key: bytes
    today: dt.date

    @classmethod
    def now(cls) -> "QuickCheck":
        return cls(get_settings().pseudonym_key.get_secret_value().encode(), clock.today())

    @cached_property
    def _keyed(self) -> tuple[Any, Any]:
        """HMAC-SHA256's inner and outer hashes with the key already absorbed (RFC 2104)."""
        key = (self.key if len(self.key) <= 64 else hashlib.sha256(self.key).digest()).ljust(64, b"\0")
        return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))

    def pseudonym(self, number: str) -> str:
        """`hmac.digest(key, number, "sha256").hex()`, copying the keyed hashes instead of keying them per number
        (a quarter of the time, once per member of a file)."""
        inner_key, outer_key = self._keyed
        inner, outer = inner_key.copy(), outer_key.copy()
        inner.update(number.encode())
        outer.update(inner.digest())
        return outer.hexdigest()  # type: ignore[no-any-return]


def quick_member(number: int, row: Row, quick: QuickCheck) -> MemberDraft | None:
    """The member of a plainly valid row, as `check_member` would build it, with a few set lookups instead of a
    pydantic model and python-stdnum (bulk intake: most rows of a file are valid). None when anything is not plainly
    valid: the row is then checked by `check_member`, which reports its errors exactly."""
    name, relation, labor = row.get("name", ""), row.get("relation"), row.get("labor")
    if not 0 < len(name) <= 50 or relation not in RELATIONS or labor not in LABORS:
        return None
    health = row.get("health") or "healthy"
    stage = row.get("school_stage") or None
    grade_text = row.get("disability_grade", "")
    grade = GRADES.get(grade_text) if grade_text else None
    boarding_text = row.get("boarding", "").lower()
    if (health not in HEALTHS or (stage is not None and stage not in SCHOOL_STAGES) or (grade_text and grade is None)
            or (boarding_text and boarding_text not in TRUE and boarding_text not in FALSE)):
        return None
    number_text = row.get("id_number", "").strip().upper()
    if len(number_text) != 18 or not number_text[:17].isdigit() or not number_text[:17].isascii():
        return None
    check = (1 - 2 * int(number_text[:17], 13)) % 11  # ISO 7064 MOD 11-2, as python-stdnum computes it
    if number_text[17] != ("X" if check == 10 else str(check)):
        return None
    try:
        born = dt.date(int(number_text[6:10]), int(number_text[10:12]), int(number_text[12:14]))
    except ValueError:
        return None
    if born > quick.today or born.year < 1900 or NUL in "".join(row.values()):
        return None
    return MemberDraft(number, quick.pseudonym(number_text),
                       mask_id_number(number_text), born, name, relation, health, grade, labor, stage,
                       boarding_text in TRUE)


CAUSES = {str(c): c for c in Cause}
STATUSES = {str(s): s for s in IMPORTABLE}
INDICATORS = ("food_clothing_secure", "compulsory_education_ok", "basic_medical_ok", "housing_safe",
              "drinking_water_safe")


def _plain_flag(text: str) -> bool | None:
    lowered = text.lower()
    return True if lowered in TRUE else False if lowered in FALSE else None


class HouseholdValues(NamedTuple):
    """A household's checked columns, as a draft takes them (from `HouseholdRow`, or from `quick_values`)."""

    village_code: str
    status: Status
    annual_income: Decimal
    income_year: int
    causes: list[str]
    indicators: dict[str, bool]
    low_income_guarantee: bool

    @classmethod
    def of(cls, model: HouseholdRow) -> "HouseholdValues":
        return cls(model.village_code, model.status, model.annual_income, model.income_year,
                   [str(c) for c in model.causes], {name: getattr(model, name) for name in INDICATORS},
                   model.low_income_guarantee)


def quick_values(row: Row, quick: QuickCheck) -> HouseholdValues | None:
    """The household columns of a plainly valid head's row, as `HouseholdRow` would validate them, without pydantic
    (a household per three rows of a file); None when anything is doubtful: `HouseholdRow` then reports it."""
    village, income, year = row.get("village_code", ""), row.get("annual_income", ""), row.get("income_year", "")
    whole, point, fen = income.partition(".")
    if (len(village) != 12 or not village.isascii() or not village.isdigit()
            or not 0 < len(whole) <= 12 or not whole.isascii() or not whole.isdigit()
            or (point and (not 0 < len(fen) <= 2 or not fen.isascii() or not fen.isdigit()))
            or len(year) != 4 or not year.isascii() or not year.isdigit()
            or not 1990 <= int(year) <= quick.today.year):  # next year's bound is left to the model's clock
        return None
    parts = row.get("causes", "").replace("|", ";").replace(",", ";").replace("，", ";").split(";")
    causes = list(dict.fromkeys(p.strip() for p in parts if p.strip()))
    status = STATUSES.get(row.get("status", "").strip().lower() or "identified")
    flags = [_plain_flag(row.get(name, "")) if row.get(name, "") else None for name in INDICATORS]
    low_income = _plain_flag(row.get("low_income_guarantee", ""))
    if not causes or any(c not in CAUSES for c in causes) or status is None or None in flags or low_income is None:
        return None
    indicators: dict[str, Any] = dict(zip(INDICATORS, flags, strict=True))  # (no None left among the flags)
    return HouseholdValues(village, status, Decimal(income).quantize(FEN), int(year), causes, indicators, low_income)


def quick_household(row: Row, quick: QuickCheck) -> HouseholdRow | None:
    """`quick_values` as the model `HouseholdRow` would give them (None when doubtful)."""
    values = quick_values(row, quick)
    if values is None:
        return None
    indicators: dict[str, Any] = values.indicators
    return HouseholdRow.model_construct(
        village_code=values.village_code, annual_income=values.annual_income, income_year=values.income_year,
        causes=[CAUSES[c] for c in values.causes], low_income_guarantee=values.low_income_guarantee,
        status=values.status, **indicators)


def build_household(key: str, rows: list[tuple[int, Row]], villages: set[str],
                    seen: dict[str, int], quick: QuickCheck | None = None
                    ) -> tuple[HouseholdDraft | None, list[RowError]]:
    """A whole household from its rows, or None and every row reported (other rows as `household_rejected`).
    With `quick`, plainly valid rows take `quick_member`; the others (and every row without it) `check_member`."""
    errors: list[RowError] = []
    members: list[MemberDraft] = []
    for number, row in rows:
        if quick is not None and (draft := quick_member(number, row, quick)) is not None:
            members.append(draft)
            continue
        draft, row_errors = check_member(number, row)
        errors.extend(row_errors)
        if draft:
            members.append(draft)
    heads = [(n, r) for n, r in rows if r.get("relation", "").strip().lower() == "head"]
    household: HouseholdValues | None = None
    if len(heads) != 1:
        errors.append(RowError(rows[0][0], "relation", "head_not_member",
                               f"household {printable(key)} has {len(heads)} rows with relation head; it needs one"))
    else:
        household, head_errors = _household_row(heads[0], rows, villages, quick)
        errors.extend(head_errors)
    for m in members:
        if m.person_ref in seen:
            errors.append(RowError(m.row, "id_number", "person_already_registered",
                                   f"the same person is already in row {seen[m.person_ref]} of this file"))
    first: dict[str, int] = {}
    for i, m in enumerate(members):  # (members differ by row number: a member's first index is its own)
        if first.setdefault(m.person_ref, i) != i:
            errors.append(RowError(m.row, "id_number", "person_already_registered",
                                   "the same person appears twice in this household"))
    if errors or household is None:
        return None, errors + rejected_rows(key, [n for n, _ in rows], {e.row for e in errors})
    for m in members:
        seen[m.person_ref] = m.row
    return HouseholdDraft(
        key=key, rows=[n for n, _ in rows], village_code=household.village_code, status=household.status,
        annual_income=household.annual_income, income_year=household.income_year, causes=household.causes,
        indicators=household.indicators, low_income_guarantee=household.low_income_guarantee, members=members), []


def _household_row(head: tuple[int, Row], rows: list[tuple[int, Row]], villages: set[str],
                   quick: QuickCheck | None = None) -> tuple[HouseholdValues | None, list[RowError]]:
    """Household columns are read from the head's row; other rows may repeat them but not contradict them."""
    number, head_row = head
    try:  # the rows that repeat the head's cells exactly (most of them) are compared as one tuple each
        same = _HOUSEHOLD_CELLS(head_row)
        others = [(n, row) for n, row in rows if n != number and _HOUSEHOLD_CELLS(row) != same]
    except KeyError:  # a file without an optional household column
        others = [(n, row) for n, row in rows if n != number]
    errors = [RowError(n, column, "validation_error", f"differs from the head's row {number}")
              for n, row in others for column in HOUSEHOLD_COLUMNS
              if row.get(column, "") not in ("", head_row.get(column, ""))]
    household = quick_values(head_row, quick) if quick is not None else None
    if household is None:
        try:
            household = HouseholdValues.of(HouseholdRow.model_validate(_cells(head_row, HOUSEHOLD_COLUMNS)))
        except ValidationError as exc:
            return None, errors + _pydantic_errors(number, exc)
    if household.village_code not in villages:
        errors.append(RowError(number, "village_code", "invalid_division",
                               f"{household.village_code} is not a known village"))
    return household, errors


def rejected_rows(key: str, rows: list[int], reported: set[int]) -> list[RowError]:
    return [RowError(n, "household_key", "household_rejected",
                     f"household {printable(key)} was not imported because of errors in its other rows")
            for n in rows if n not in reported]
