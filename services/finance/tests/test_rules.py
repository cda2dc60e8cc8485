"""Pure rules, no database: the 2% floor and growth (seed §五(十五)), balanced entries, FIFO lineage, event payloads."""

import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from finance.budgets.rules import DEFAULT_FLOOR_RATIO, DEFAULT_MIN_GROWTH_RATE, assess_special_fund_budget, format_ratio
from finance.divisions import city_of, county_of_village, is_jurisdiction, village_prefix
from finance.events import handlers
from finance.ledger.rules import Piece, Posting, fifo_take, is_balanced, merge_pieces
from finance.payments import rules as payment_rules
from fupin_events.payloads import BenefitDue
from fupin_kit.events.consumer import BatchHandler

D = Decimal


def assess(revenue: str, special: str, previous: str | None):  # type: ignore[no-untyped-def]
    return assess_special_fund_budget(
        general_budget_revenue=D(revenue), special_fund_budget=D(special),
        previous_special_fund_budget=None if previous is None else D(previous),
        floor_ratio=DEFAULT_FLOOR_RATIO, min_growth_rate=DEFAULT_MIN_GROWTH_RATE)


def test_exactly_two_percent_meets_the_floor() -> None:
    result = assess("1000000.00", "20000.00", None)
    assert result.floor_amount == D("20000.00") and result.meets_floor is True


def test_one_fen_under_two_percent_misses_the_floor() -> None:
    assert assess("1000000.00", "19999.99", None).meets_floor is False


def test_floor_compares_the_exact_amount_not_the_rounded_one() -> None:
    # 2% of 100.25 is 2.005: rounded for display to 2.01, and 2.00 is below the exact floor.
    result = assess("100.25", "2.00", None)
    assert result.floor_amount == D("2.01") and result.meets_floor is False
    assert assess("100.25", "2.01", None).meets_floor is True


def test_printed_floor_is_the_least_budget_that_meets_it() -> None:
    # 2% of 100.21 is 2.0042: 2.00 misses it, so the floor printed is 2.01 (rounded up), never 2.00.
    result = assess("100.21", "2.00", None)
    assert result.floor_amount == D("2.01") and result.meets_floor is False
    assert assess("100.21", "2.01", None).meets_floor is True


def test_shrinking_rate_is_rounded_down_too() -> None:
    # -1/3 prints -0.3334: rounded toward minus infinity, the printed rate stays at or below the real one
    assert assess("1000000.00", "2.00", "3.00").growth_rate == D("-0.3334")


def test_growth_of_exactly_ten_percent_meets_the_minimum() -> None:
    result = assess("1000000.00", "22000.00", "20000.00")
    assert result.growth_rate == D("0.1000") and result.meets_growth is True


def test_growth_one_fen_short_of_ten_percent_misses() -> None:
    result = assess("1000000.00", "21999.99", "20000.00")
    assert result.meets_growth is False and result.growth_rate == D("0.0999")  # rounded down: never overstated


def test_no_previous_year_means_growth_unknown() -> None:
    result = assess("1000000.00", "22000.00", None)
    assert result.growth_rate is None and result.meets_growth is None


def test_growth_from_zero_has_no_rate_and_meets() -> None:
    result = assess("1000000.00", "1.00", "0.00")
    assert result.growth_rate is None and result.meets_growth is True


def test_shrinking_budget_has_negative_growth() -> None:
    result = assess("1000000.00", "18000.00", "20000.00")
    assert result.growth_rate == D("-0.1000") and result.meets_growth is False


def test_custom_policy_values_are_used() -> None:
    result = assess_special_fund_budget(general_budget_revenue=D("1000.00"), special_fund_budget=D("25.00"),
                                        previous_special_fund_budget=D("20.00"), floor_ratio=D("0.025"),
                                        min_growth_rate=D("0.25"))
    assert result.floor_amount == D("25.00") and result.meets_floor and result.meets_growth


def test_ratios_print_as_the_contract_writes_them() -> None:
    assert format_ratio(D("0.0200")) == "0.02" and format_ratio(D("0.1000")) == "0.10"
    assert format_ratio(D("0.0250")) == "0.025" and format_ratio(D("1")) == "1.00"


def test_entries_balance_only_with_equal_debits_and_credits() -> None:
    assert is_balanced([Posting(1, debit=D("5.00")), Posting(2, credit=D("5.00"))])
    assert is_balanced([Posting(1, debit=D("5.00")), Posting(2, credit=D("2.00")), Posting(3, credit=D("3.00"))])
    assert not is_balanced([Posting(1, debit=D("5.00")), Posting(2, credit=D("4.99"))])
    assert not is_balanced([Posting(1, debit=D("5.00"))])
    assert not is_balanced([Posting(1, debit=D("5.00"), credit=D("5.00")), Posting(2)])
    assert not is_balanced([Posting(1, debit=D("-5.00")), Posting(2, credit=D("-5.00"))])


def test_fifo_takes_the_oldest_lots_first() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    taken = fifo_take([(1, a, D("30.00")), (2, b, D("50.00")), (3, a, D("10.00"))], D("45.50"))
    assert [(t.lot_id, t.source_fund_id, t.amount) for t in taken] == [(1, a, D("30.00")), (2, b, D("15.50"))]


def test_fifo_refuses_more_than_the_lots_hold() -> None:
    with pytest.raises(ValueError):
        fifo_take([(1, uuid.uuid4(), D("1.00"))], D("1.01"))


def test_pieces_merge_per_source_fund() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    merged = merge_pieces([Piece(a, D("1.00")), Piece(b, D("2.00")), Piece(a, D("0.50"))])
    assert merged == [Piece(a, D("1.50")), Piece(b, D("2.00"))]


def test_division_codes() -> None:
    assert is_jurisdiction("610723") and not is_jurisdiction("61072") and not is_jurisdiction("061072")
    assert county_of_village("610723101201") == "610723"
    assert city_of("610723") == "610700"
    assert village_prefix("610700") == "6107" and village_prefix("610723") == "610723"
    assert village_prefix("610000") == "61" and village_prefix("610723101") == "610723101"


def ordered(payload: type[BaseModel], rule: Callable[[Any], Any], data: dict[str, Any]) -> Any:
    """A topic's payment order(s) from its event's data, as the consumer's `prepare` makes them."""
    return rule(payload.model_validate(data))


def test_payments_are_made_from_the_county_of_the_village() -> None:
    order = ordered(payment_rules.GrantAwarded, payment_rules.grant_order, {
        "grant_id": "g1", "household_id": "h1", "county_code": "999999", "village_code": "610723101201",
        "amount": "750.00", "person_ref": "x"})
    assert order.county_code == "610723" and order.program == "education_grants" and order.amount == D("750.00")
    assert order.payee == "household:h1"


def test_settlement_pays_assistance_plus_supplementary_to_the_hospital() -> None:
    order = ordered(payment_rules.SettlementCompleted, payment_rules.settlement_order, {
        "settlement_id": "s1", "county_code": "610723", "village_code": "610723101201", "hospital_code": "H01",
        "medical_assistance": "875.70", "supplementary": "14375.30", "amount": "15251.00"})
    assert order.amount == D("15251.00") and order.payee == "hospital:H01" and order.program == "medical_assistance"


def test_interest_claim_pays_one_item_per_loan_with_a_subsidy() -> None:
    orders = ordered(payment_rules.InterestSubsidyClaimed, payment_rules.interest_subsidy_orders, {
        "claim_id": "c1", "bank_code": "B001", "period": "2020Q1", "subsidy_total": "10.00", "items": [
            {"loan_id": "l1", "county_code": "610723", "village_code": "610723101201", "subsidy": "10.00"},
            {"loan_id": "l2", "county_code": "610724", "village_code": "610724101201", "subsidy": "0.00"}]})
    assert [(o.item_reference, o.county_code, o.amount, o.payee) for o in orders] == [
        ("l1", "610723", D("10.00"), "bank:B001")]


def test_malformed_payloads_are_refused() -> None:
    with pytest.raises(ValidationError):
        ordered(payment_rules.GrantAwarded, payment_rules.grant_order,
                {"grant_id": "g1", "household_id": "h1", "amount": "750.00"})
    with pytest.raises(ValidationError):
        ordered(payment_rules.GrantAwarded, payment_rules.grant_order,
                {"grant_id": "g1", "household_id": "h1", "county_code": "610723", "amount": "-1.00"})
    with pytest.raises(ValidationError):
        ordered(payment_rules.RiskCompensationClaimed, payment_rules.risk_compensation_order,
                {"loan_id": "l1", "bank_code": "B 1", "county_code": "610723", "compensation": "1.00"})


# ---- payment order (issue 11 item 7): oldest first, skipping what does not fit, until a skipped one is a barrier

def waiting(*amounts: str, paid_out: str = "0") -> list[payment_rules.Waiting]:
    return [payment_rules.Waiting(i, D(a), payment_rules.barrier_at(D(paid_out), D(a))) for i, a in enumerate(amounts)]


def test_plan_pays_oldest_first_while_they_fit() -> None:
    assert payment_rules.plan_payments(D("100.00"), D("0"), waiting("60.00", "40.00", "0.01")) == [0, 1]


def test_plan_skips_a_payment_that_does_not_fit_and_pays_smaller_ones_behind_it() -> None:
    assert payment_rules.plan_payments(D("100.00"), D("0"), waiting("500.00", "60.00", "40.00")) == [1, 2]


def test_plan_exact_fit_is_paid() -> None:
    assert payment_rules.plan_payments(D("500.00"), D("0"), waiting("500.00", "1.00")) == [0]


def test_plan_a_skipped_payment_becomes_a_barrier_once_overtaken_by_its_own_amount() -> None:
    # 1000 waits with barrier_at 500; 300 + 199.99 overtake it (499.99 < 500), 0.01 more makes 500.00: barrier
    assert payment_rules.plan_payments(D("1000.00") - D("0.01"), D("0"),
                                       [payment_rules.Waiting("big", D("1000.00"), D("500.00")),
                                        *waiting("300.00", "199.99", "0.01", "0.01")]) == [0, 1, 2]
    assert payment_rules.barrier_at(D("40.00"), D("500.00")) == D("540.00")


def test_plan_one_fen_short_of_the_barrier_still_overtakes() -> None:
    chosen = payment_rules.plan_payments(D("1000.00"), D("0"), [payment_rules.Waiting("big", D("2000.00"), D("500.00")),
                                                               *waiting("499.99", "0.01", "0.01")])
    assert chosen == [0, 1]


def test_plan_an_older_barrier_stops_everything() -> None:
    assert payment_rules.plan_payments(D("100.00"), D("500.00"), waiting("1.00"), older_barrier=D("500.00")) == []
    assert payment_rules.plan_payments(D("100.00"), D("499.99"), waiting("1.00", "1.00"),
                                       older_barrier=D("500.00")) == [0]


def test_plan_a_barrier_is_paid_first_once_the_money_covers_it() -> None:
    queue = [payment_rules.Waiting("big", D("500.00"), D("500.00")), *waiting("5.00")]
    assert payment_rules.plan_payments(D("505.00"), D("540.00"), queue) == ["big", 0]
    assert payment_rules.plan_payments(D("504.99"), D("540.00"), queue) == ["big"]
    assert payment_rules.plan_payments(D("499.99"), D("540.00"), queue) == []


def test_plan_zero_amounts_are_always_paid() -> None:
    assert payment_rules.plan_payments(D("0.00"), D("0"), waiting("0.00")) == [0]


def test_benefit_kinds_map_to_their_programme_accounts() -> None:
    base = {"benefit_id": "b1", "household_id": str(uuid.uuid4()), "county_code": "610723",
            "village_code": "610723100201", "amount": "10.00"}
    for kind, program in (("minimum_living", "minimum_living"), ("temporary_assistance", "temporary_assistance"),
                          ("eco_ranger", "eco_rangers"), ("relocation", "relocation")):
        order = ordered(BenefitDue, payment_rules.benefit_order, {**base, "kind": kind})
        assert order.program == program and order.county_code == "610723" and order.reference == "b1"
        assert order.payee == f"household:{base['household_id']}" and order.amount == D("10.00")
    with pytest.raises(ValidationError):
        ordered(BenefitDue, payment_rules.benefit_order, {**base, "kind": "pension"})
    with pytest.raises(Exception, match="amount"):
        ordered(BenefitDue, payment_rules.benefit_order, {**base, "kind": "relocation", "amount": "-0.01"})
    with pytest.raises(Exception, match="amount"):
        ordered(BenefitDue, payment_rules.benefit_order, {**base, "kind": "relocation", "amount": "1000000000000.00"})


def test_a_benefit_due_read_from_its_bytes_is_the_prepared_event() -> None:
    """The batch's fast path (`read`) gives what `prepare` gives from the parsed envelope; what it cannot read
    raises, so the record takes the per-record path (which dead-letters it as before)."""
    data = {"benefit_id": "b1", "kind": "eco_ranger", "case_id": None, "household_id": str(uuid.uuid4()),
            "county_code": "610723", "village_code": "610723100201", "month": "2020-03", "amount": "833.33"}
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "welfare", "type": "cn.fupin.benefit-due",
             "subject": data["household_id"], "time": "2020-03-01T00:00:00+00:00", "data": data}
    handler = handlers.on_benefit_due
    assert handler.read is not None
    assert handler.read(json.dumps(event).encode()) == (event["id"], handler.prepare(event))
    for bad in ({**data, "amount": "-1.00"}, {**data, "kind": "pension"}):
        with pytest.raises(Exception):  # noqa: B017 (a validation error or a PoisonEvent, as prepare raises)
            handler.read(json.dumps({**event, "data": bad}).encode())


@pytest.mark.parametrize(("topic", "data"), [
    ("grant-awarded", {"grant_id": "g1", "household_id": "h1", "county_code": "610723",
                       "village_code": "610723100201", "amount": "750.00", "kind": "preschool"}),
    ("settlement-completed", {"settlement_id": "s1", "hospital_code": "H-1", "county_code": "610723",
                              "medical_assistance": "100.10", "supplementary": "20.00"}),
    ("interest-subsidy-claimed", {"claim_id": "c1", "bank_code": "B1", "items": [
        {"loan_id": "l1", "village_code": "610723100201", "subsidy": "12.34"},
        {"loan_id": "l2", "county_code": "610724", "subsidy": "0.00"}]}),
    ("risk-compensation-claimed", {"loan_id": "l1", "bank_code": "B1", "village_code": "610723100201",
                                   "compensation": "7000.00"}),
])
def test_every_ordering_topic_reads_its_bytes_as_prepare_reads_the_event(topic: str, data: dict[str, object]) -> None:
    """The batch's fast path of each topic that orders payments, like `benefit-due`'s above; a record it cannot read
    raises, so the record takes the per-record path."""
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "bank", "type": f"cn.fupin.{topic}",
             "time": "2020-03-01T00:00:00+00:00", "data": data}
    handler = handlers.HANDLERS[topic]
    assert isinstance(handler, BatchHandler) and handler.read is not None
    assert handler.read(json.dumps(event).encode()) == (event["id"], handler.prepare(event))
    for bad in ({k: v for k, v in event.items() if k != "id"}, {**event, "data": {}}, {**event, "source": None}):
        with pytest.raises(Exception):  # noqa: B017 (a validation error, as prepare raises)
            handler.read(json.dumps(bad).encode())


def test_payment_completed_data_of_a_batch_is_the_models_dump() -> None:
    """The batch's `payment-completed` payloads, built without the model, are exactly the model's JSON dump (a field
    added to `PaymentCompleted` shows here)."""
    from finance.events.published import completed, completed_data
    from finance.payments.settle import Row

    paid_at = dt.datetime(2020, 3, 1, 4, 5, 6, 789000, tzinfo=dt.UTC)
    rows = [Row(id=uuid.uuid4(), seq=1, reference="b1", item_reference="", program="minimum_living",
                county_code="610723", village_code="610723100201", payee="household:h1", amount=D("833.3"),
                status="paid", account_id=1, payee_account_id=2, barrier_at=None, paid_at=paid_at),
            Row(id=uuid.uuid4(), seq=2, reference="c1", item_reference="l1", program="loan_interest_subsidy",
                county_code="610723", village_code=None, payee="bank:B1", amount=D("0.00"), status="reversed",
                account_id=1, payee_account_id=3, barrier_at=None),
            Row(id=uuid.uuid4(), seq=3, reference="g1", item_reference="", program="education_grants",
                county_code="610723", village_code=None, payee="household:h2", amount=D("1.00"), status="paid",
                account_id=1, payee_account_id=4, barrier_at=None, paid_at=paid_at.replace(microsecond=0))]
    assert completed_data(rows) == [completed(p).model_dump(mode="json") for p in rows]


def test_a_batch_has_one_journal_entry_per_account_and_recorder_each_payee_once() -> None:
    from finance.payments.settle import Row, entry_groups

    def row(account: int, payee: int, by: str = "event:education") -> Row:
        return Row(id=uuid.uuid4(), seq=0, reference="r", item_reference="", program="education_grants",
                   county_code="610723", village_code=None, payee=f"household:{payee}", amount=D("1.00"),
                   status="pending_funds", account_id=account, payee_account_id=payee, barrier_at=None,
                   recorded_by=by)

    a1, a2, a3, b1, a1_again, a1_by_other = row(1, 10), row(1, 11), row(1, 12), row(2, 10), row(1, 10), \
        row(1, 10, "event:welfare")
    groups = entry_groups([a1, a2, a3, b1, a1_again, a1_by_other])
    # payee 10 twice on account 1 by one recorder: its second payment goes to a second entry, so (entry, payee)
    # names one payment (its lineage lots, its reversal)
    assert [[p.id for p in g] for g in groups] == [[a1.id, a2.id, a3.id], [b1.id], [a1_again.id], [a1_by_other.id]]
