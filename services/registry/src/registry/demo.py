"""Demo data for `make up`: a Hanzhong-like city (610700) with three counties, towns and villages, a few thousand
households loaded through the gateway by the importer itself, then moved through every status by the real routes."""

import asyncio
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from fupin_kit.gateway_client import bounded
from registry.client import RegistryClient
from registry.synthetic import city_divisions, households, write_file

log = logging.getLogger("registry.demo")
MEMBERS = 8000
# Historical statuses straight from the file; the API walks the `identified` ones through verification below.
STATUS_MIX = {"identified": 0.55, "registered": 0.25, "exited": 0.12, "returned": 0.08}


async def _household_ids(registry: RegistryClient, heads: list[str]) -> list[str]:
    answers = await _bounded([registry.call("POST", "/registry/person-lookups", json={"id_number": n})
                              for n in heads])
    return [a.json()["household_id"] for a in answers]


async def _bounded(calls: list[Any], limit: int = 16) -> list[Any]:
    return await bounded(calls, limit)


def _verification(level: str, approved: bool) -> dict[str, Any]:
    return {"level": level, "approved": approved, "officer": f"{'镇' if level == 'town' else '县'}长(演示)",
            "note": "入户核查" if approved else "核查不符合识别标准"}


async def _walk_statuses(registry: RegistryClient, ids: list[str], rng: random.Random) -> None:
    """Town and county sign-off, refusals, objections, removal, exit attempts and a return."""
    town_ok, town_no, rest = ids[:90], ids[90:100], ids[100:]
    post = registry.call
    await _bounded([post("POST", f"/registry/households/{h}/verifications", json=_verification("town", True))
                    for h in town_ok])
    await _bounded([post("POST", f"/registry/households/{h}/verifications", json=_verification("town", False))
                    for h in town_no])
    objected = town_ok[60:70]
    objections = await _bounded([post("POST", f"/registry/households/{h}/objections",
                                      json={"reason": "群众反映家庭收入情况不实"}) for h in objected])
    await _bounded([post("POST", f"/registry/households/{h}/objections/{o.json()['objection_id']}/resolution",
                         json={"upheld": i % 2 == 0, "note": "公示期核实"})
                    for i, (h, o) in enumerate(zip(objected[:6], objections[:6], strict=True))])
    county_ok, county_no = town_ok[:50], town_ok[50:58]
    await _bounded([post("POST", f"/registry/households/{h}/verifications", json=_verification("county", True))
                    for h in county_ok])
    await _bounded([post("POST", f"/registry/households/{h}/verifications", json=_verification("county", False))
                    for h in county_no])
    await _bounded([post("POST", f"/registry/households/{h}/removal", json={"reason": "家庭成员有财政供养人员"})
                    for h in county_ok[:5]])
    reviewed = county_ok[5:35]
    await _bounded([post("POST", f"/registry/households/{h}/annual-reviews", json={
        "income_year": 2020, "annual_income": f"{rng.uniform(9000, 30000):.2f}",
        "indicators": {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
                       "housing_safe": True, "drinking_water_safe": True}}) for h in reviewed])
    await _bounded([post("POST", f"/registry/households/{h}/exit", json={}, ok=(200, 422)) for h in reviewed])
    await _bounded([post("POST", f"/registry/households/{h}/return", json={"reason": "因病返贫"}, ok=(200, 409))
                    for h in reviewed[:4]])
    await _bounded([post("POST", f"/registry/households/{h}/exit", json={}, ok=(200, 422, 409)) for h in rest[:20]])


async def load(gateway_url: str) -> None:
    """Load the demo city through the gateway with the gov-portal dev client; about 20 s on a laptop."""
    started = time.monotonic()
    rng = random.Random()
    async with httpx.AsyncClient(base_url=gateway_url, timeout=120) as http:
        registry = await RegistryClient.connect(http)
        await registry.put_divisions([{"code": d.code, **d.body()} for d in city_divisions()])
        families = list(households(MEMBERS, statuses=STATUS_MIX, income_year=2019))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "demo-city.csv"
            write_file(path, iter(families))
            accepted = await registry.upload(path)
        job = await registry.wait_import(accepted["import_id"])
        if job["state"] != "done":
            raise RuntimeError(f"the demo import failed: {job.get('failure')}")
        identified = [f[0]["id_number"] for f in families if f[0]["status"] == "identified"][:160]
        await _walk_statuses(registry, await _household_ids(registry, identified), rng)
        for county in ("610723", "610724"):
            await registry.call("POST", f"/registry/divisions/{county}/exit", json={}, ok=(200, 409, 422))
    log.info("demo city loaded: %d households in %.1f s", job["households_created"], time.monotonic() - started)


if __name__ == "__main__":
    import sys

    asyncio.run(load(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
