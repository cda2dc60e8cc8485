"""Registry events → the household and person read model, kept by the kit (`fupin_kit.events.households`): a poll
batch per transaction, ordered by the registry's sequence; a malformed snapshot is dead-lettered. Events about
households this service never heard of are normal."""

from fupin_kit.events.households import HOUSEHOLD_TOPICS, HouseholdReadModel
from medical.persons.models import Household, Person

READ_MODEL = HouseholdReadModel(households=Household, members=Person)

HANDLERS = READ_MODEL.handlers()

__all__ = ["HANDLERS", "HOUSEHOLD_TOPICS", "READ_MODEL"]
