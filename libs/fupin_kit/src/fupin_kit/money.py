"""Money is Decimal in yuan with two places; JSON carries it as a string ("750.00"), input may be a number."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("1e12")  # NUMERIC(14,2) holds up to 999,999,999,999.99


def round_fen(amount: Decimal) -> Decimal:
    """Round half-up to the fen."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def _parse(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a decimal amount in yuan")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("must be a decimal amount in yuan") from exc
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount >= MAX_AMOUNT:  # checked before quantizing: 1e30 has more digits than the decimal context holds
        raise ValueError("is too large")
    if amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise ValueError("must have at most two decimal places")
    return amount.quantize(FEN)


def format_money(amount: Decimal) -> str:
    return f"{amount.quantize(FEN):.2f}"


Money = Annotated[
    Decimal,
    BeforeValidator(_parse),
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["750.00"]}),
]
