"""Text received from callers: PostgreSQL `text` cannot hold U+0000, so a NUL is refused at the edge (422 naming
the field) instead of failing in the database (500) or, in bulk intake, stopping a whole chunk."""

from typing import Annotated

from pydantic import AfterValidator, Field

NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def has_nul(value: str) -> bool:
    return NUL in value


def refuse_nul(value: str) -> str:
    if has_nul(value):
        raise ValueError(NUL_MESSAGE)
    return value


# The pattern documents the rule in the OpenAPI schema; the validator gives the readable message.
NoNul = Annotated[str, AfterValidator(refuse_nul), Field(json_schema_extra={"pattern": r"^[^\u0000]*$"})]


def printable(value: str) -> str:
    """`value` fit to store and echo (a file name, a household key in a message): NUL shown as U+FFFD."""
    return value.replace(NUL, "\ufffd")
