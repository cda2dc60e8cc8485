"""Every table of the medical service, imported by Alembic's env.py."""

from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
from medical.admissions.models import Admission  # noqa: F401
from medical.hospitals.models import Hospital  # noqa: F401
from medical.persons.models import Household, Person  # noqa: F401
from medical.policies.models import YearPolicy  # noqa: F401
from medical.settlements.models import Settlement, YearAccumulator  # noqa: F401
