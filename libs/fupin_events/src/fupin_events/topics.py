"""Every Kafka topic of the platform: its name, version, producer, consumers, payload model and retention.

This table is the single source for the dev runner's topic list, `deploy/k8s`'s KafkaTopics and ACLs, and the
AsyncAPI document. A topic's `version` changes only when its payload changes incompatibly (a field removed or
retyped); adding a field keeps it.
"""

from dataclasses import dataclass
from typing import Literal

from fupin_events import payloads as p

Retention = Literal["compacted", "forever", "default"]
HOUSEHOLD_CONSUMERS = ("microcredit", "education", "medical", "assistance", "welfare", "dashboard")


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    payload: type[p.Payload]
    consumers: tuple[str, ...] = ()
    retention: Retention = "default"
    version: int = 1
    summary: str = ""

    @property
    def type(self) -> str:
        """The CloudEvents `type` of its events."""
        return f"cn.fupin.{self.name}"

    @property
    def dlq(self) -> str:
        return dlq(self.name)


TOPICS: tuple[Topic, ...] = (
    Topic("household-registered", "registry", p.HouseholdSnapshot, HOUSEHOLD_CONSUMERS, "compacted",
          summary="County approval registered the household (建档立卡)."),
    Topic("exit-certified", "registry", p.HouseholdSnapshot, HOUSEHOLD_CONSUMERS, "compacted",
          summary="The household met the exit standard (脱贫)."),
    Topic("returned-to-poverty", "registry", p.HouseholdSnapshot, HOUSEHOLD_CONSUMERS, "compacted",
          summary="An exited household fell back (返贫)."),
    Topic("household-removed", "registry", p.HouseholdSnapshot, HOUSEHOLD_CONSUMERS, "compacted",
          summary="The household was wrongly identified and is removed."),
    Topic("household-status-changed", "registry", p.HouseholdStatusChanged, ("dashboard",), "compacted",
          summary="A household became identified, town_verified or rejected (no snapshot topic says so)."),
    Topic("division-updated", "registry", p.DivisionUpdated, ("assistance", "dashboard"), "compacted",
          summary="A division was created or changed (subject = its code)."),
    Topic("division-exited", "registry", p.DivisionExited, ("assistance", "dashboard"), "forever",
          summary="A poor village or county exited (subject = its code)."),
    Topic("loan-disbursed", "microcredit", p.LoanDisbursed, ("dashboard",),
          summary="A bank disbursed a poverty-alleviation microloan."),
    Topic("interest-subsidy-claimed", "microcredit", p.InterestSubsidyClaimed, ("finance", "dashboard"),
          summary="A bank's quarterly interest-subsidy claim, to be paid by finance."),
    Topic("risk-compensation-claimed", "microcredit", p.RiskCompensationClaimed, ("finance", "dashboard"),
          summary="A defaulted loan's risk compensation, to be paid by finance."),
    Topic("grant-awarded", "education", p.GrantAwarded, ("finance", "dashboard"),
          summary="An education grant, to be paid by finance."),
    Topic("settlement-completed", "medical", p.SettlementCompleted, ("finance", "dashboard"),
          summary="A one-stop settlement; finance pays assistance and supplementary to the hospital."),
    Topic("settlement-reversed", "medical", p.SettlementReversed, ("finance", "dashboard"),
          summary="A settlement was reversed; finance reverses its payment."),
    Topic("payment-completed", "finance", p.PaymentCompleted, ("education", "assistance", "welfare", "dashboard"),
          "forever",
          summary="A payment was made or reversed."),
    Topic("funds-allocated", "finance", p.FundsAllocated, ("dashboard",), "forever",
          summary="Money was allocated into a programme account (subject = the allocation id)."),
    Topic("helper-assigned", "assistance", p.HelperAssigned,
          summary="A helper (帮扶责任人) was paired with a household."),
    Topic("helper-released", "assistance", p.HelperReleased,
          summary="A helper's pairing ended."),
    Topic("plan-measure-completed", "assistance", p.PlanMeasureCompleted,
          summary="A household plan's measure (因户施策) was completed."),
    Topic("assessment-completed", "assistance", p.AssessmentCompleted,
          summary="A county's annual assessment (考核) was computed (subject = the county code)."),
    Topic("benefit-due", "welfare", p.BenefitDue, ("finance", "dashboard"),
          summary="A welfare benefit is due; finance pays it."),
    Topic("benefit-cancelled", "welfare", p.BenefitCancelled, ("finance", "dashboard"),
          summary="A welfare benefit was cancelled; finance reverses it while still pending."),
    Topic("relocation-completed", "welfare", p.RelocationCompleted,
          summary="A relocated household moved in (易地扶贫搬迁)."),
)
_BY_NAME = {t.name: t for t in TOPICS}


def topic(name: str) -> Topic:
    """The topic called `name` (KeyError for an unknown one)."""
    return _BY_NAME[name]


def topic_names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def payload_model(name: str) -> type[p.Payload]:
    return _BY_NAME[name].payload


def dlq(name: str) -> str:
    """The dead-letter topic of `name`."""
    return f"{name}.dlq"
