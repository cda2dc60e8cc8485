"""Every table of the welfare service, imported by Alembic's env.py."""

from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
from welfare.benefits.models import Benefit, Run  # noqa: F401
from welfare.cases.models import Case, CaseAssessment  # noqa: F401
from welfare.households.models import Household, Member  # noqa: F401
from welfare.policies.models import WelfarePolicyRow  # noqa: F401
from welfare.rangers.models import RangerPost, RangerQuota  # noqa: F401
from welfare.relocations.models import Relocation  # noqa: F401
