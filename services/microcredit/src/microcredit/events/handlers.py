"""Consumers of the registry's household events (registered, exit-certified, returned, removed): the kit's household
read model (`fupin_kit.events.households`) keeps `households` and `persons`, a poll batch per transaction; a
malformed snapshot is dead-lettered, an older sequence never overwrites a newer one."""

from fupin_kit.events.households import HOUSEHOLD_TOPICS, HouseholdReadModel
from microcredit.households.models import Household, Person

READ_MODEL = HouseholdReadModel(households=Household, members=Person)

HANDLERS = READ_MODEL.handlers()

__all__ = ["HANDLERS", "HOUSEHOLD_TOPICS", "READ_MODEL"]
