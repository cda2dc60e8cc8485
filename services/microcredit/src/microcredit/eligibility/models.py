"""The eligibility answer given to banks: the decision, reasons, amounts and a masked ID, nothing else."""

from typing import Literal

from pydantic import BaseModel

from fupin_kit.money import Money

Reason = Literal["not_registered_poor", "age_out_of_range", "no_labor_capacity", "cap_reached",
                 "household_in_default"]


class EligibilityOut(BaseModel):
    eligible: bool
    reasons: list[Reason]
    max_amount: Money
    available_amount: Money
    max_term_months: int
    guarantee_required: Literal[False] = False
    collateral_required: Literal[False] = False
    interest_subsidy: Literal["full"] = "full"
    benchmark_rate: str
    masked_id_number: str
