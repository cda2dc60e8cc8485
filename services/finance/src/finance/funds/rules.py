"""Allocation rules as pure functions."""

from decimal import Decimal

ALLOCATED, PENDING_APPROVAL, REJECTED = "allocated", "pending_approval", "rejected"


def threshold_change_needs_approval(current: Decimal | None, new: Decimal | None) -> bool:
    """Maker-checker on the checker itself (issue 12): a change that loosens an existing threshold (removing it, or
    raising it) would let its maker allocate unchecked, so it waits for a second client; setting a first threshold,
    keeping it or lowering it (stricter) applies at once."""
    if current is None:
        return False
    return new is None or new > current


def needs_second_approval(amount: Decimal, threshold: Decimal | None) -> bool:
    """Maker-checker (issue 4, 资金在阳光下运行): an allocation above the year's threshold moves money only once a
    second client approves it; exactly the threshold, or no threshold at all, moves it at once."""
    return threshold is not None and amount > threshold
