"""Every table of the registry, imported by Alembic's env.py."""

from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
from registry.divisions.models import Division, DivisionExit  # noqa: F401
from registry.exits.models import AnnualReview, ExitDecision  # noqa: F401
from registry.households.models import Household, Member, StatusChange  # noqa: F401
from registry.imports.models import ImportJob, ImportRowError  # noqa: F401
from registry.policies.models import Policy  # noqa: F401
from registry.verification.models import Objection, Verification  # noqa: F401
