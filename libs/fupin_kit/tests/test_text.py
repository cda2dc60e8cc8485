from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from fupin_kit.text import NoNul, Text, printable


class Body(BaseModel):
    name: Text
    note: Annotated[str | None, NoNul] = None


def test_text_without_nul_passes() -> None:
    assert Body(name="张三", note=None).name == "张三"


@pytest.mark.parametrize("fields", [{"name": "a\x00b"}, {"name": "ok", "note": "\x00"}])
def test_nul_is_refused_naming_the_field(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as refused:
        Body(**fields)
    assert "NUL" in str(refused.value)


def test_printable_replaces_nul() -> None:
    assert printable("a\x00b") == "a\ufffdb"
