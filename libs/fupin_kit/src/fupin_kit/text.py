"""Text received from callers. PostgreSQL `text` cannot hold U+0000, so a NUL is refused at the edge — a 422 naming
the field — instead of failing in the driver (a 500) or, in bulk intake, stopping a whole chunk."""

from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field

NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"
T = TypeVar("T", str, str | None)


def has_nul(value: str) -> bool:
    return NUL in value


def refuse_nul(value: T) -> T:
    if value is not None and has_nul(value):
        raise ValueError(NUL_MESSAGE)
    return value


def printable(value: str) -> str:
    """`value` fit to store and echo (a file name, a key in a message): a NUL shown as U+FFFD."""
    return value.replace(NUL, "\ufffd")


# A marker for `Annotated[str, NoNul]` beside other constraints (query parameters, optional fields).
NoNul = AfterValidator(refuse_nul)
# The same rule as a type; the pattern documents it in the OpenAPI schema, the validator gives the readable message.
Text = Annotated[str, NoNul, Field(json_schema_extra={"pattern": r"^[^\u0000]*$"})]
