"""Every table of the finance service, imported by Alembic's env.py."""

from finance.budgets.models import BudgetPolicy, JurisdictionYear  # noqa: F401
from finance.funds.models import Allocation, Fund, FundComponent  # noqa: F401
from finance.ledger.models import Account, JournalEntry, JournalLine, Lot  # noqa: F401
from finance.payments.models import Payment, SettlementReversal  # noqa: F401
from fupin_kit.events.models import IdempotencyRecord, InboxEvent, OutboxEvent  # noqa: F401
