"""The kit's China Standard Time clock (fupin_kit.clock), re-exported for the welfare run's module until it imports
the kit's directly; nothing else in welfare imports this."""

from fupin_kit.clock import CHINA_STANDARD_TIME as CHINA
from fupin_kit.clock import today

__all__ = ["CHINA", "today"]
