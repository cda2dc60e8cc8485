"""CloudEvents 1.0 in structured JSON mode: the envelope of every message value (contract §6)."""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class CloudEvent(BaseModel):
    """The envelope as it travels; `data` is parsed by the topic's payload model (`fupin_events.payload_model`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: str
    source: str
    type: str
    subject: str
    time: dt.datetime
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    @property
    def topic(self) -> str:
        """`cn.fupin.<topic>` → `<topic>`."""
        return self.type.removeprefix("cn.fupin.")
