"""The contracts table is complete and its models round-trip the payloads as contract §6 writes them."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from fupin_events import TOPICS, payload_model, topic, topic_names
from fupin_events.payloads import BenefitDue, HouseholdSnapshot, PaymentCompleted

CONTRACT_TOPICS = {
    "household-registered", "exit-certified", "returned-to-poverty", "household-removed", "division-exited",
    "loan-disbursed", "interest-subsidy-claimed", "risk-compensation-claimed", "grant-awarded",
    "settlement-completed", "settlement-reversed", "payment-completed",
    "division-updated", "helper-assigned", "helper-released", "plan-measure-completed", "assessment-completed",
    "benefit-due", "benefit-cancelled", "relocation-completed",
}
# Topics of the team's own design (contract §0: topics beyond those named are the team's), each for the war map.
TEAM_TOPICS = {"household-status-changed", "funds-allocated"}


def test_every_contract_topic_is_in_the_table_once():
    assert set(topic_names()) == CONTRACT_TOPICS | TEAM_TOPICS
    assert len(TOPICS) == len(CONTRACT_TOPICS | TEAM_TOPICS)


def test_retention_follows_the_contract():
    for name in ("household-registered", "exit-certified", "returned-to-poverty", "household-removed",
                 "division-updated"):
        assert topic(name).retention == "compacted"
    assert topic("division-exited").retention == "forever"
    assert topic("payment-completed").retention == "forever"


def household(**overrides):
    data = {
        "household_id": str(uuid.uuid4()), "status": "registered", "village_code": "610723100001",
        "town_code": "610723100", "county_code": "610723", "causes": ["illness"],
        "members": [{"member_id": str(uuid.uuid4()), "person_ref": "a" * 64, "birth_date": "1999-02-17",
                     "relation": "head", "labor": "full", "school_stage": None, "boarding": False}],
        "occurred_at": "2026-11-30T10:00:00+00:00",
    }
    return data | overrides


def test_household_snapshot_round_trips_and_ignores_added_fields():
    data = household(added_later="x")
    snapshot = HouseholdSnapshot.model_validate(data)
    assert snapshot.members[0].birth_date == dt.date(1999, 2, 17)
    dumped = snapshot.model_dump(mode="json")
    assert "added_later" not in dumped and dumped["members"][0]["person_ref"] == "a" * 64


def test_a_masked_number_field_is_not_part_of_the_household_snapshot():
    member = HouseholdSnapshot.model_validate(household()).members[0].model_dump()
    assert "masked_id_number" not in member


@pytest.mark.parametrize("bad", [{"village_code": "6107231"}, {"status": "unknown"}, {"members": [{}]}])
def test_malformed_households_are_refused(bad):
    with pytest.raises(ValidationError):
        HouseholdSnapshot.model_validate(household(**bad))


def test_money_travels_as_two_place_strings():
    payment = PaymentCompleted(payment_id="p1", reference="g1", program="education_grants", payee="household:x",
                               amount=Decimal("750"), status="paid", county_code="610723")
    assert payment.model_dump(mode="json")["amount"] == "750.00"
    assert BenefitDue.model_validate({"benefit_id": "b", "kind": "relocation", "household_id": str(uuid.uuid4()),
                                      "county_code": "610723", "village_code": "610723100001", "month": None,
                                      "amount": 100000}).amount == Decimal("100000")


def test_every_payload_model_is_a_pydantic_model_with_a_json_schema():
    for t in TOPICS:
        schema = payload_model(t.name).model_json_schema()
        assert schema["type"] == "object" and schema["properties"]
