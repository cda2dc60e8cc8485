"""Every table of the assistance service, imported by Alembic's env.py."""

from assistance.assessment.models import Assessment, MisuseFinding, Summons, Target  # noqa: F401
from assistance.helpers.models import Helper, Pairing  # noqa: F401
from assistance.plans.models import Measure  # noqa: F401
from assistance.policies.models import PolicyRow  # noqa: F401
from assistance.readmodels.models import Division, DivisionExit, Household, HouseholdEvent, Payment  # noqa: F401
from assistance.teams.models import Attendance, Team, TeamMember, Unit, VillagePairing  # noqa: F401
from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
