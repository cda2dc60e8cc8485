"""Demo data for the war map (`make up`, dev profile): six more counties of the demo city with towns and villages
whose rural populations are set so the map shows every colour at every level (red ≥ 3%, amber ≥ 1%, green below),
their households imported through the registry like the registry's own demo. Additive: the registry's demo counties
are left as they are; only the city's population is set to the sum of its counties' (the registry's demo leaves it
0, which gives the city no incidence)."""

import asyncio
import logging
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger("dashboard.demo")
CITY = "610700"
# Hanzhong's other districts and counties (codes of GB/T 2260) with the colour each should show.
COUNTIES = (("610702", "汉台区", "red"), ("610703", "南郑区", "amber"), ("610722", "城固县", "green"),
            ("610725", "勉县", "red"), ("610726", "宁强县", "amber"), ("610727", "略阳县", "green"))
TOWN_COLOURS = {"red": ("red", "red", "red"), "amber": ("red", "amber", "green"),
                "green": ("green", "green", "amber")}
VILLAGES_PER_TOWN = 4
# the incidence a village of each colour is given
RATES = {"red": 0.06, "amber": 0.02, "green": 0.005}
MEMBERS = 4000
STATUSES = {"registered": 0.8, "exited": 0.2}


def plan() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Counties, towns and villages (without populations yet) and each village's colour."""
    divisions: list[dict[str, Any]] = []
    colours: dict[str, str] = {}
    for code, name, colour in COUNTIES:
        divisions.append({"code": code, "name": name, "level": "county", "parent_code": CITY, "poor": True})
        for t, town_colour in enumerate(TOWN_COLOURS[colour], start=1):
            town = f"{code}{100 + t:03d}"
            divisions.append({"code": town, "name": f"{name}第{t}镇", "level": "town", "parent_code": code,
                              "poor": False})
            for v in range(1, VILLAGES_PER_TOWN + 1):
                village = f"{town}{200 + v:03d}"
                # one village in four takes the next colour, so a town's grid is not all one colour
                colours[village] = town_colour if v < VILLAGES_PER_TOWN else \
                    {"red": "amber", "amber": "green", "green": "amber"}[town_colour]
                divisions.append({"code": village, "name": f"{name}{t}镇{v}村", "level": "village",
                                  "parent_code": town, "poor": v % 2 == 1})
    return divisions, colours


def populations(divisions: list[dict[str, Any]], colours: dict[str, str],
                poor_by_village: dict[str, int]) -> None:
    """Village population from its poor persons and colour; towns and counties sum their villages."""
    totals: dict[str, int] = defaultdict(int)
    for d in divisions:
        if d["level"] == "village":
            poor = poor_by_village.get(d["code"], 0)
            d["population"] = max(int(poor / RATES[colours[d["code"]]]), 500)
            totals[d["code"][:9]] += d["population"]
            totals[d["code"][:6]] += d["population"]
    for d in divisions:
        if d["level"] != "village":
            d["population"] = totals[d["code"]]


async def _rebalance(registry: Any, divisions: list[dict[str, Any]], colours: dict[str, str]) -> None:
    """Set the populations from the registry's own poor-person counts (whatever the import left) and PUT the
    divisions again, then the city's population as the sum of all its counties'."""
    from registry.synthetic import COUNTIES as REGISTRY_DEMO_COUNTIES

    answers = await asyncio.gather(*(registry.call("GET", f"/registry/divisions/{v}") for v in colours))
    poor = {v: int(a.json()["stats"]["poor_persons"]) for v, a in zip(colours, answers, strict=True)}
    populations(divisions, colours, poor)
    await registry.put_divisions(divisions)
    total = sum(d["population"] for d in divisions if d["level"] == "county")
    for code, _ in REGISTRY_DEMO_COUNTIES:
        answer = await registry.call("GET", f"/registry/divisions/{code}", ok=(200, 404))
        if answer.status_code == 200:
            total += int(answer.json()["population"])
    city = (await registry.call("GET", f"/registry/divisions/{CITY}")).json()
    await registry.call("PUT", f"/registry/divisions/{CITY}", json={
        "name": city["name"], "level": "city", "parent_code": None, "poor": city["poor"], "population": total})


async def load(gateway_url: str, *, rebalance_only: bool = False) -> None:
    from registry.client import RegistryClient
    from registry.synthetic import households, write_file

    started = time.monotonic()
    divisions, colours = plan()
    async with httpx.AsyncClient(base_url=gateway_url, timeout=120) as http:
        registry = await RegistryClient.connect(http)
        first = COUNTIES[0][0]
        exists = (await registry.call("GET", f"/registry/divisions/{first}", ok=(200, 404))).status_code == 200
        if exists and not rebalance_only:
            log.info("war-map demo: county %s exists already, nothing loaded", first)
            return
        if not exists:
            families = list(households(MEMBERS, seed=random.randrange(1 << 30), villages=sorted(colours),
                                       statuses=STATUSES))
            populations(divisions, colours, {})  # placeholders until the households are in
            await registry.put_divisions(divisions)
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "warmap-demo.csv"
                write_file(path, iter(families))
                job = await registry.wait_import((await registry.upload(path))["import_id"])
            if job["state"] != "done":
                raise RuntimeError(f"the war-map demo import failed: {job.get('failure')}")
        await _rebalance(registry, divisions, colours)
    log.info("war-map demo loaded: %d counties in %.1f s", len(COUNTIES), time.monotonic() - started)


if __name__ == "__main__":
    import sys

    # `python -m dashboard.demo [GATEWAY_URL] [--rebalance]`: --rebalance only resets the populations
    urls = [a for a in sys.argv[1:] if not a.startswith("--")]
    asyncio.run(load(urls[0] if urls else "http://127.0.0.1:8000", rebalance_only="--rebalance" in sys.argv))
