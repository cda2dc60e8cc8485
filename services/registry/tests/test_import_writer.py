"""The bulk importer's quick paths give exactly what the per-row models give (no database): the member of a plainly
valid row, the household snapshot and status payloads, and the outbox envelope."""

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest

from fupin_events.payloads import HouseholdSnapshot, HouseholdStatusChanged
from fupin_kit import clock
from fupin_kit.events.envelope import cloud_event
from registry.config import get_settings
from registry.events.published import household_snapshot, status_changed
from registry.households.models import Status
from registry.imports.drafts import (
    HOUSEHOLD_COLUMNS,
    HouseholdDraft,
    HouseholdRow,
    QuickCheck,
    _cells,
    build_household,
    check_member,
    quick_household,
    quick_member,
)
from registry.imports.parsing import Row
from registry.imports.service import group_rows
from registry.imports.writer import event_records, instant, snapshot_data, status_data
from registry.synthetic import city_divisions, households

VILLAGES = {d.code for d in city_divisions() if d.level == "village"}


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The registry's settings as in the other suites (the test profile: its dev pseudonym key)."""
    monkeypatch.setenv("FUPIN_PROFILE", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def quick() -> QuickCheck:
    return QuickCheck(get_settings().pseudonym_key.get_secret_value().encode(), clock.today())


def same_member(a: object, b: object) -> bool:
    left, right = dataclasses.asdict(a), dataclasses.asdict(b)  # type: ignore[call-overload]
    left.pop("id"), right.pop("id")
    return bool(left == right)


def rows(members: int, **options: object) -> list[tuple[int, Row]]:
    families = list(households(members, seed=11, **options))  # type: ignore[arg-type]
    return [(n, {k: str(v) for k, v in row.items()}) for n, row in
            enumerate((m for f in families for m in f), start=2)]


def test_quick_member_is_check_member_for_plainly_valid_rows() -> None:
    numbered = rows(400)
    for number, row in numbered:
        fast = quick_member(number, row, quick())
        slow, errors = check_member(number, row)
        assert fast is not None and slow is not None and errors == []
        assert same_member(fast, slow)


@pytest.mark.parametrize("change", [
    {"name": ""}, {"name": "王" * 51}, {"relation": "Head"}, {"relation": "cousin"}, {"labor": "lazy"},
    {"health": "fine"}, {"school_stage": "college"}, {"disability_grade": "5"}, {"disability_grade": "01"},
    {"disability_grade": "x"}, {"boarding": "maybe"}, {"id_number": "61072319700101123"},
    {"id_number": "６１０７２３１９７００１０１１２３Ｘ"}, {"id_number": "610723197002301230"}, {"name": "a\x00b"},
    {"causes": "illness\x00"}, {"id_number": "bad"},
])
def test_quick_member_leaves_every_doubtful_row_to_check_member(change: dict[str, str]) -> None:
    number, row = rows(1)[0]
    assert quick_member(number, {**row, **change}, quick()) is None


def test_quick_member_reads_optional_cells_as_the_model_does() -> None:
    number, row = rows(1)[0]
    for change in ({"health": "", "school_stage": "", "disability_grade": "", "boarding": ""},
                   {"health": "disabled", "disability_grade": "2", "boarding": "是", "school_stage": "senior"},
                   {"boarding": "TRUE"}, {"boarding": "0"}, {"id_number": row["id_number"].lower()},
                   {"id_number": f" {row['id_number']} "}):
        changed = {**row, **change}
        fast, (slow, errors) = quick_member(number, changed, quick()), check_member(number, changed)
        assert fast is not None and slow is not None and errors == [], change
        assert same_member(fast, slow), change


def test_a_check_digit_x_and_a_future_birth_date() -> None:
    number, row = rows(1)[0]
    with_x = next(f"61072319850101{n:03d}X" for n in range(1000)
                  if (1 - 2 * int(f"61072319850101{n:03d}", 13)) % 11 == 10)
    changed = {**row, "id_number": with_x}
    fast, (slow, _) = quick_member(number, changed, quick()), check_member(number, changed)
    assert fast is not None and slow is not None and same_member(fast, slow)
    tomorrow = clock.today() + dt.timedelta(days=1)
    body = f"610723{tomorrow:%Y%m%d}001"
    future = body + ("X" if (c := (1 - 2 * int(body, 13)) % 11) == 10 else str(c))
    assert quick_member(number, {**row, "id_number": future}, quick()) is None


def test_quick_household_is_the_household_model_for_plainly_valid_rows() -> None:
    heads = [row for _, row in rows(300, statuses={"registered": 1, "identified": 1, "exited": 1})
             if row["relation"] == "head"]
    changes: list[dict[str, str]] = [
        {}, {"status": ""}, {"status": "Registered"}, {"low_income_guarantee": ""}, {"low_income_guarantee": "是"},
        {"housing_safe": "0"}, {"causes": "illness|disability，illness"}, {"annual_income": "12"},
        {"annual_income": "0.5"}, {"income_year": "1990"}]
    for head in heads:
        for change in changes:
            row = {**head, **change}
            fast = quick_household(row, quick())
            assert fast is not None, change
            slow = HouseholdRow.model_validate(_cells(row, HOUSEHOLD_COLUMNS))
            assert fast.model_dump() == slow.model_dump(), change
            assert [type(c) for c in fast.causes] == [type(c) for c in slow.causes]


@pytest.mark.parametrize("change", [
    {"village_code": "61072310120"}, {"village_code": "６１０７２３１０１２０１"}, {"annual_income": "-1"},
    {"annual_income": "1e3"}, {"annual_income": "12.345"}, {"annual_income": "12."}, {"annual_income": ""},
    {"annual_income": "1000000000000"}, {"income_year": "1989"}, {"income_year": str(clock.today().year + 1)},
    {"income_year": "２０１９"}, {"causes": ""}, {"causes": "illness;laziness"}, {"food_clothing_secure": ""},
    {"housing_safe": "maybe"}, {"low_income_guarantee": "x"}, {"status": "verified"}, {"status": "exit_pending"},
    {"causes": "illness\x00"},
])
def test_quick_household_leaves_every_doubtful_row_to_the_model(change: dict[str, str]) -> None:
    head = next(row for _, row in rows(10) if row["relation"] == "head")
    assert quick_household({**head, **change}, quick()) is None


def drafts(members: int, status: str) -> list[HouseholdDraft]:
    families = group_rows(rows(members, statuses={status: 1}))
    built = [build_household(key, family, VILLAGES, {}, quick())[0] for key, family in families.items()]
    assert all(built)
    return [d for d in built if d is not None]


def test_a_file_checked_quickly_or_slowly_gives_the_same_households_and_errors() -> None:
    families = group_rows(rows(300))
    keys = list(families)
    families[keys[1]][1][1]["id_number"] = "61072319700101123"
    families[keys[2]][0][1]["relation"] = "child"
    for key, family in families.items():
        fast, fast_errors = build_household(key, family, VILLAGES, {}, quick())
        slow, slow_errors = build_household(key, family, VILLAGES, {})
        assert fast_errors == slow_errors
        assert (fast is None) == (slow is None)
        if fast is not None and slow is not None:
            assert all(same_member(a, b) for a, b in zip(fast.members, slow.members, strict=True))
            assert dataclasses.replace(fast, id=slow.id, members=slow.members) == slow


def test_snapshot_data_is_the_household_snapshot_model() -> None:
    at = dt.datetime.now(dt.UTC)
    for draft in drafts(60, "registered"):
        data = snapshot_data(draft, instant(at))
        expected = household_snapshot(draft, draft.members, sequence=1)
        assert {**data, "occurred_at": None} == {**expected, "occurred_at": None}
        assert list(data) == list(expected)
        assert HouseholdSnapshot.model_validate(data).model_dump(mode="json") == data
        assert HouseholdSnapshot.model_validate(data).occurred_at == at


def test_status_data_is_the_status_changed_model() -> None:
    at = dt.datetime.now(dt.UTC)
    for status in ("identified", "town_verified"):
        draft = drafts(10, status)[0]
        data = status_data(draft, instant(at))
        expected = status_changed(household_id=draft.id, status=draft.status, previous=None,
                                  village_code=draft.village_code, occurred_at=at)
        assert data == expected and list(data) == list(expected)
        assert HouseholdStatusChanged.model_validate(data).model_dump(mode="json") == data


def test_event_records_are_the_kit_envelope() -> None:
    now = dt.datetime.now(dt.UTC)
    batch = drafts(30, "registered")[:3] + drafts(10, "identified")[:2]
    batch[1].status = Status.exited
    records = event_records(batch, now=now, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    assert [r[1] for r in records] == ["household-registered", "exit-certified", "household-registered",
                                       "household-status-changed", "household-status-changed"]
    for (event_id, topic, key, payload), draft in zip(records, batch, strict=True):
        envelope = json.loads(payload)
        expected = cloud_event(source="registry", topic=topic, subject=str(draft.id), data=envelope["data"],
                               event_id=event_id, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
        assert {**envelope, "time": None} == {**expected, "time": None} and list(envelope) == list(expected)
        assert dt.datetime.fromisoformat(envelope["time"]) == now
        assert key == str(draft.id) and isinstance(event_id, uuid.UUID)
    assert "traceparent" not in json.loads(event_records(batch[:1], now=now, traceparent=None)[0][3])


def test_csv_cells_are_stripped_and_short_rows_padded() -> None:
    from registry.imports.parsing import COLUMNS, read_rows

    header = ",".join(COLUMNS)
    full = ",".join(f" {c} " for c in COLUMNS)
    content = f"{header}\n{full},extra\n H1 ,610723101201\n,\n".encode()
    parsed = list(read_rows(content, "csv"))
    assert parsed[0] == (2, {c: c for c in COLUMNS})
    assert parsed[1] == (3, {c: {"household_key": "H1", "village_code": "610723101201"}.get(c, "") for c in COLUMNS})
    assert len(parsed) == 2  # a row of blank cells is skipped
