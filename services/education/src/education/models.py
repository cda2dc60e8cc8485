"""Every table of the education service, imported by Alembic's env.py."""

from education.enrollments.models import Enrollment  # noqa: F401
from education.grants.models import Grant  # noqa: F401
from education.households.models import Household, HouseholdMember  # noqa: F401
from education.policies.models import GrantPolicyRecord  # noqa: F401
from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
