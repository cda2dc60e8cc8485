"""`funds-allocated` (the war map's `allocated`): published through the outbox when an allocation's money moves, at
once or when a checker approves it; an allocation waiting for approval or refused moves nothing and publishes
nothing."""

from typing import Any

import httpx
from conftest import KAFKA, new_county, receive
from test_allocation_approval import decide, request, year_with_threshold

from fupin_events.payloads import FundsAllocated
from fupin_kit.testing import events_about

TOPIC = "funds-allocated"


async def published(subjects: set[str], count: int) -> dict[str, dict[str, Any]]:
    """The funds-allocated events about `subjects`, by subject: the first `count` of them, and every other one about
    them on the topic once those arrived (its partitions read to their ends)."""
    return {r.key: r.event for r in await events_about(KAFKA, TOPIC, subjects, count, timeout=20, drain=True)}


async def test_allocations_publish_when_their_money_moves(client: httpx.AsyncClient) -> None:
    year = await year_with_threshold(client, "100.00")
    county = new_county()
    fund = await receive(client, county, "1000.00", year=year)
    at_once = await request(client, fund["fund_id"], "100.00", program="medical_assistance")
    refused = await request(client, fund["fund_id"], "300.00")
    assert (await decide(client, refused["allocation_id"], False)).json()["status"] == "rejected"
    waiting = await request(client, fund["fund_id"], "200.00")
    approved = await request(client, fund["fund_id"], "150.00", program="education_grants")
    assert (await decide(client, approved["allocation_id"], True)).json()["status"] == "allocated"

    ids = {a["allocation_id"] for a in (at_once, refused, waiting, approved)}
    events = await published(ids, 2)  # at once and approved, and nothing about the others before them
    assert refused["allocation_id"] not in events and waiting["allocation_id"] not in events
    first = FundsAllocated.model_validate(events[at_once["allocation_id"]]["data"])
    assert (first.jurisdiction_code, first.program, str(first.amount), first.year) == (
        county, "medical_assistance", "100.00", year)
    assert str(first.fund_id) == fund["fund_id"]
    second = events[approved["allocation_id"]]
    assert second["source"] == "finance" and second["type"] == f"cn.fupin.{TOPIC}"
    assert second["data"]["amount"] == "150.00" and second["data"]["program"] == "education_grants"
    # the checker's queue still holds the one waiting; approving it later publishes it then
    assert (await decide(client, waiting["allocation_id"], True)).status_code == 200
    assert waiting["allocation_id"] in await published({waiting["allocation_id"]}, 1)
