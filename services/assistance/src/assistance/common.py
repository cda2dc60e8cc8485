"""Shared bits of the routers: ids, path types (the scopes are in `assistance.access`)."""

import uuid
from typing import Annotated

from fastapi import Path

from fupin_kit.errors import NotFound

YearPath = Annotated[int, Path(ge=2000, le=2100)]
CountyPath = Annotated[str, Path(pattern=r"^\d{6}$")]


def new_id() -> str:
    return str(uuid.uuid4())


def not_found(name: str, value: str) -> NotFound:
    """`404 <name>_not_found` (contract §7)."""
    return NotFound(f"{name}_not_found", f"{name.replace('_', ' ')} {value} does not exist")
