"""Test helpers: play the registry and finance on the real Kafka topics with chosen event times, and wait until the
service's read models hold what was published."""

import asyncio
import datetime as dt
import json
import random
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from fupin_events.payloads import DivisionExited, DivisionUpdated, HouseholdMember, HouseholdSnapshot, PaymentCompleted

TOPIC_OF_STATUS = {"registered": "household-registered", "exited": "exit-certified",
                   "returned": "returned-to-poverty", "removed": "household-removed"}
CHINA = dt.timezone(dt.timedelta(hours=8))


def fresh_county() -> str:
    """A random county code (6 digits) that no other test uses."""
    return f"9{random.randint(0, 99999):05d}"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A moment on `day` in China Standard Time."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CHINA)


class Upstream:
    def __init__(self, producer: AIOKafkaProducer, dsn: str) -> None:
        self.producer = producer
        self.dsn = dsn
        self.sequence = 0

    async def send(self, topic: str, subject: str, data: dict[str, Any], *, time: dt.datetime | None = None,
                   source: str = "registry") -> str:
        event_id = str(uuid.uuid4())
        event = {"specversion": "1.0", "id": event_id, "source": source, "type": f"cn.fupin.{topic}",
                 "subject": subject, "time": (time or dt.datetime.now(dt.UTC)).isoformat(),
                 "datacontenttype": "application/json", "data": data}
        await self.producer.send_and_wait(topic, json.dumps(event).encode(), key=subject.encode())
        return event_id

    async def fetchval(self, sql: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    async def wait_for(self, sql: str, *args: Any, expect: Any = True, timeout: float = 40.0) -> None:
        async with asyncio.timeout(timeout):
            while await self.fetchval(sql, *args) != expect:
                await asyncio.sleep(0.1)

    # --- registry ---------------------------------------------------------------------------------------------

    async def division(self, code: str, level: str, *, parent: str | None = None, poor: bool = True,
                       population: int = 1000, wait: bool = True) -> str:
        data = DivisionUpdated(division_code=code, level=level, parent_code=parent, poor=poor,  # type: ignore[arg-type]
                               population=population).model_dump(mode="json")
        await self.send("division-updated", code, data)
        if wait:
            await self.wait_for("SELECT poor = $2 FROM divisions WHERE code = $1", code, poor)
        return code

    async def county_with_villages(self, villages: int = 2, *, poor: bool = True) -> tuple[str, list[str]]:
        """A fresh county, one town, `villages` villages, all known to the service."""
        county = fresh_county()
        town = f"{county}001"
        await self.division(county, "county", parent=county[:4] + "00", poor=poor, wait=False)
        await self.division(town, "town", parent=county, poor=poor, wait=False)
        codes = [f"{town}{i + 1:03d}" for i in range(villages)]
        for code in codes:
            await self.division(code, "village", parent=town, poor=poor, wait=False)
        for code in [county, town, *codes]:
            await self.wait_for("SELECT count(*) FROM divisions WHERE code = $1", code, expect=1)
        return county, codes

    async def division_exit(self, code: str, on: dt.date, level: str = "village") -> None:
        data = DivisionExited(division_code=code, level=level, poverty_incidence="0.0100",  # type: ignore[arg-type]
                              threshold="0.0200").model_dump(mode="json")
        event_id = await self.send("division-exited", code, data, time=at(on))
        await self.wait_for("SELECT count(*) FROM division_exits WHERE event_id = $1", event_id, expect=1)

    async def household(self, village: str, status: str = "registered", *, household_id: str | None = None,
                        causes: tuple[str, ...] = ("illness", "lack_skills"), on: dt.date | None = None,
                        wait: bool = True) -> str:
        """Publish a household snapshot in `status` (on the topic of that status), dated `on` (CST)."""
        household_id = household_id or str(uuid.uuid4())
        self.sequence += 1
        moment = at(on) if on else dt.datetime.now(dt.UTC)
        snapshot = HouseholdSnapshot(
            household_id=uuid.UUID(household_id), status=status, village_code=village,  # type: ignore[arg-type]
            town_code=village[:9], county_code=village[:6], causes=list(causes), occurred_at=moment,
            sequence=self.sequence,
            members=[HouseholdMember(member_id=uuid.uuid4(), person_ref=uuid.uuid4().hex,
                                     birth_date=dt.date(1980, 1, 1), relation="head", labor="full")])
        event_id = await self.send(TOPIC_OF_STATUS[status], household_id, snapshot.model_dump(mode="json"),
                                   time=moment)
        if wait:
            await self.wait_for("SELECT count(*) FROM household_events WHERE event_id = $1", event_id, expect=1)
        return household_id

    # --- finance ----------------------------------------------------------------------------------------------

    async def payment(self, county: str, amount: str, *, paid_on: dt.date, status: str = "paid",
                      payment_id: str | None = None, on: dt.date | None = None) -> str:
        payment_id = payment_id or str(uuid.uuid4())
        data = PaymentCompleted(payment_id=payment_id, reference=f"ref-{payment_id}", program="industry",
                                payee=f"county:{county}", amount=amount, status=status,  # type: ignore[arg-type]
                                county_code=county, paid_at=at(paid_on)).model_dump(mode="json")
        await self.send("payment-completed", f"ref-{payment_id}", data, time=at(on or paid_on), source="finance")
        column = "paid_on" if status == "paid" else "reversed_on"
        await self.wait_for(f"SELECT {column} IS NOT NULL FROM payments WHERE payment_id = $1", payment_id)
        return payment_id
