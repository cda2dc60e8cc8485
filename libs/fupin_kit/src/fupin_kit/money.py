"""Money is Decimal in yuan with two places; JSON carries it as a string ("750.00"), input may be a number."""

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from annotated_types import GroupedMetadata
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic import Field as PydanticField
from sqlalchemy import Column, Numeric
from sqlmodel import Field as SQLField

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


# --- The field factory: every decimal of the services (amounts, rates, shares, points) is built here. ---------------

Shown = Literal["fixed", "min2", "normal"]
_PLACE_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def render_decimal(value: Decimal, shown: Shown, places: int) -> str:
    """A decimal as JSON text: "fixed" exactly `places` places ("0.0300"); "min2" at least two places, more only
    when they carry digits ("4.35", "6.00", "3.915"); "normal" no trailing zeros ("0.85", "1")."""
    if shown == "fixed":
        return f"{value:.{places}f}"
    if shown == "min2":
        text = format(value.normalize(), "f")
        whole, _, decimals = text.partition(".")
        return f"{whole}.{decimals.ljust(2, '0')}"
    return format(value.quantize(Decimal(1).scaleb(-places)).normalize(), "f")


class DecimalField(GroupedMetadata):
    """The metadata of one decimal field (validation, bounds, JSON rendering): `Annotated[Decimal, decimal(...)]`."""

    def __init__(self, metadata: list[Any]) -> None:
        self._metadata = metadata

    def __iter__(self) -> Iterator[Any]:
        return iter(self._metadata)


def decimal(*, places: int, ge: Decimal | int | None = None, le: Decimal | int | None = None,
                 gt: Decimal | int | None = None, lt: Decimal | int | None = None, max_digits: int | None = None,
                 shown: Shown = "fixed", shown_places: int | None = None, invalid: str | None = None,
                 out_of_range: str | None = None, json_schema: dict[str, Any] | None = None) -> DecimalField:
    """The pydantic field of a decimal field: input a JSON string or number, output a JSON string.

    With `invalid` (the message for anything that is not a number) the field checks its own bounds and answers the
    service's own messages; without it, pydantic's constraints (`ge`, `le`, `decimal_places`...) answer theirs.
    `shown_places` (default `places`) is what "fixed" and "normal" rendering round to."""
    out = places if shown_places is None else shown_places
    serializer = PlainSerializer(lambda value: render_decimal(value, shown, out), return_type=str)
    metadata: list[Any] = []
    if invalid is None:
        metadata.append(PydanticField(ge=ge, le=le, gt=gt, lt=lt, max_digits=max_digits, decimal_places=places))
    else:
        metadata.append(BeforeValidator(_bounded_parser(places=places, ge=ge, le=le, gt=gt, lt=lt, invalid=invalid,
                                                        out_of_range=out_of_range or invalid)))
    metadata.append(serializer)
    if json_schema is not None:
        metadata.append(WithJsonSchema(json_schema))
    return DecimalField(metadata)


def _bounded_parser(*, places: int, ge: Decimal | int | None, le: Decimal | int | None, gt: Decimal | int | None,
                    lt: Decimal | int | None, invalid: str, out_of_range: str) -> Any:
    step = Decimal(1).scaleb(-places)
    too_precise = f"must have at most {_PLACE_WORDS.get(places, str(places))} decimal places"

    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or value is None:
            raise ValueError(invalid)
        try:
            parsed = Decimal(str(value).strip())
        except ArithmeticError as exc:
            raise ValueError(invalid) from exc
        if not parsed.is_finite():
            raise ValueError(out_of_range)
        if ((ge is not None and parsed < ge) or (le is not None and parsed > le)
                or (gt is not None and parsed <= gt) or (lt is not None and parsed >= lt)):
            raise ValueError(out_of_range)
        if parsed != parsed.quantize(step):
            raise ValueError(too_precise)
        return parsed

    return parse


def numeric(precision: int, scale: int, *, nullable: bool = False, **column: Any) -> Any:
    """A NUMERIC(precision, scale) column of a table (a fresh Column each call), never float.

    `default=` is the Python-side default of the field; other keywords go to the Column (e.g. `server_default`)."""
    field: dict[str, Any] = {}
    if "default" in column:
        field["default"] = column.pop("default")
    elif nullable:
        field["default"] = None
    return SQLField(sa_column=Column(Numeric(precision, scale), nullable=nullable, **column), **field)


def money_column(*, nullable: bool = False, **column: Any) -> Any:
    """Yuan with two places: NUMERIC(14,2) (holds up to 999,999,999,999.99, the kit's `MAX_AMOUNT` bound)."""
    return numeric(14, 2, nullable=nullable, **column)
