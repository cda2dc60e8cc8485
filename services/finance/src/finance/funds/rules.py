"""Allocation rules as pure functions."""

from decimal import Decimal

ALLOCATED, PENDING_APPROVAL, REJECTED = "allocated", "pending_approval", "rejected"


def needs_second_approval(amount: Decimal, threshold: Decimal | None) -> bool:
    """Maker-checker (issue 4, 资金在阳光下运行): an allocation above the year's threshold moves money only once a
    second client approves it; exactly the threshold, or no threshold at all, moves it at once."""
    return threshold is not None and amount > threshold
