"""The events welfare publishes (contract v2 §8), built with fupin_events' models; subject = the household id."""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import BenefitCancelled, BenefitDue, RelocationCompleted
from fupin_kit.events.outbox import copy_events, enqueue
from welfare.benefits.models import Benefit
from welfare.config import COMPONENT


def benefit_due_payload(benefit: Benefit) -> BenefitDue:
    return BenefitDue.model_validate(dict(
        benefit_id=str(benefit.benefit_id), kind=benefit.kind,
        case_id=str(benefit.case_id) if benefit.case_id else None, household_id=benefit.household_id,
        county_code=benefit.county_code, village_code=benefit.village_code, month=benefit.month,
        amount=benefit.amount))


async def benefit_due(session: AsyncSession, benefit: Benefit) -> None:
    await enqueue(session, source=COMPONENT, topic="benefit-due", subject=benefit.household_id,
                  data=benefit_due_payload(benefit).model_dump(mode="json"))


async def benefits_due(raw: asyncpg.Connection, rows: Sequence[Mapping[str, Any]], *, month: str) -> None:
    """The monthly run's `benefit-due` events (`welfare.benefits.run`), one COPY for all of them in the caller's
    transaction. Each payload is the model validated from the row (pydantic's validation is cheaper than
    `model_construct`) and dumped JSON-ready, so the kit does not convert it again."""
    await copy_events(raw, [("benefit-due", r["household_id"], BenefitDue.model_validate({
        "benefit_id": str(r["benefit_id"]), "kind": r["kind"], "case_id": str(r["case_id"]),
        "household_id": r["household_id"], "county_code": r["county_code"], "village_code": r["village_code"],
        "month": month, "amount": r["amount"]}).model_dump(mode="json")) for r in rows],
        source=COMPONENT, json_ready=True)


async def benefit_cancelled(session: AsyncSession, benefit: Benefit) -> None:
    payload = BenefitCancelled.model_validate(dict(benefit_id=str(benefit.benefit_id),
                                                   household_id=benefit.household_id,
                                                   reason_code="household_removed"))
    await enqueue(session, source=COMPONENT, topic="benefit-cancelled", subject=benefit.household_id,
                  data=payload.model_dump(mode="json"))


async def relocation_completed(session: AsyncSession, *, relocation_id: str, household_id: str, county_code: str,
                               village_code: str, destination_village_code: str, persons: int,
                               moved_in_on: dt.date, benefit_id: str) -> None:
    payload = RelocationCompleted.model_validate(dict(
        relocation_id=relocation_id, household_id=household_id, county_code=county_code, village_code=village_code,
        destination_village_code=destination_village_code, persons=persons, moved_in_on=moved_in_on,
        benefit_id=benefit_id))
    await enqueue(session, source=COMPONENT, topic="relocation-completed", subject=household_id,
                  data=payload.model_dump(mode="json"))
