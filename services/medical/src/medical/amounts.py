"""Money as this service accepts it: the kit's Money, bounded so every sum still fits NUMERIC(14,2)."""

from typing import Annotated

from pydantic import Field

from fupin_kit.money import Money
from medical.columns import MAX_AMOUNT

Amount = Annotated[Money, Field(le=MAX_AMOUNT)]
