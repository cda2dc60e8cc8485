"""Every table of the microcredit, imported by Alembic's env.py."""

from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
from microcredit.claims.models import InterestClaim, InterestClaimItem  # noqa: F401
from microcredit.households.models import Household, Person  # noqa: F401
from microcredit.loans.models import Loan, Repayment  # noqa: F401
from microcredit.policies.models import ProductPolicyRow  # noqa: F401
