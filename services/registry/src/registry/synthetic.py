"""A synthetic city for intake tests, the demo and the benchmark: `python -m registry.synthetic --members N --out FILE`.

Valid resident ID numbers (GB 11643 check character via python-stdnum), plausible ages per relation, incomes around
the poverty line, causes weighted like a real survey. Writes CSV, or XLSX when FILE ends in .xlsx, plus
FILE.divisions.json with the city's divisions (PUT them before importing)."""

import csv
import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from stdnum.cn import ric

from fupin_kit import clock
from registry.imports.parsing import COLUMNS

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉兵建国红梅志文斌海波"
CAUSES = {"illness": 30, "disability": 12, "education": 10, "lack_skills": 14, "lack_labor": 9, "lack_funds": 12,
          "disaster": 3, "lack_land": 3, "lack_water": 2, "transport": 3, "self_motivation": 1, "other": 1}
# Hanzhong-like code space (陕西省汉中市): counties with Chinese names; towns and villages numbered under them.
CITY = ("610700", "汉中市(演示)")
COUNTIES = (("610723", "洋县"), ("610724", "西乡县"), ("610728", "镇巴县"))
BIRTHPLACES = ("610721", "610722", "610723", "610724", "610725", "610726", "610727", "610728", "610729", "610730",
               "610102", "610302", "610402", "610502", "610602", "610802", "610902", "611002")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    parent_code: str | None
    poor: bool
    population: int

    def body(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "parent_code": self.parent_code, "poor": self.poor,
                "population": self.population}


def city_divisions(*, towns_per_county: int = 4, villages_per_town: int = 5, city: tuple[str, str] = CITY,
                   counties: tuple[tuple[str, str], ...] = COUNTIES, population: int = 2000) -> list[Division]:
    """Parents before children, so they can be PUT in order."""
    out = [Division(city[0], city[1], "city", None, False, 0)]
    for county_code, county_name in counties:
        out.append(Division(county_code, county_name, "county", city[0], True,
                            population * towns_per_county * villages_per_town))
        for t in range(1, towns_per_county + 1):
            town = f"{county_code}{100 + t:03d}"
            out.append(Division(town, f"{county_name}第{t}镇", "town", county_code, False,
                                population * villages_per_town))
            for v in range(1, villages_per_town + 1):
                out.append(Division(f"{town}{200 + v:03d}", f"{county_name}{t}镇{v}村", "village", town,
                                    v % 2 == 1, population))
    return out


class IdFactory:
    """Unique valid ID numbers; birthplaces spread over many counties so repeated runs rarely collide."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self, born: dt.date) -> str:
        while True:
            body = f"{self.rng.choice(BIRTHPLACES)}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")  # stdnum expects the check position present
            if number not in self.used:
                self.used.add(number)
                return number


def _born(rng: random.Random, age: int, today: dt.date) -> dt.date:
    return today - dt.timedelta(days=age * 365 + rng.randrange(365))


def _stage(age: int, rng: random.Random) -> str | None:
    for upper, stage in ((3, None), (6, "preschool"), (12, "primary"), (15, "junior")):
        if age < upper:
            return stage
    if age < 18:
        return rng.choice(["senior", "secondary_vocational"])
    if age < 22 and rng.random() < 0.3:
        return rng.choice(["higher_vocational", "university"])
    return None


def _member(rng: random.Random, ids: IdFactory, relation: str, age: int, surname: str,
            today: dt.date) -> dict[str, Any]:
    health = rng.choices(["healthy", "chronic", "serious", "disabled"], [70, 18, 7, 5])[0]
    stage = _stage(age, rng)
    labor = "none" if age < 16 or age > 70 or health in ("serious",) else (
        "partial" if health != "healthy" or age > 60 else "full")
    return {"relation": relation, "name": surname + "".join(rng.choices(GIVEN, k=rng.choice([1, 2]))),
            "id_number": ids.new(_born(rng, age, today)), "health": health,
            "disability_grade": rng.randint(1, 4) if health == "disabled" else "", "labor": labor,
            "school_stage": stage or "", "boarding": str(stage in ("primary", "junior") and rng.random() < 0.4).lower()}


def _family(rng: random.Random, ids: IdFactory, today: dt.date) -> list[dict[str, Any]]:
    surname = rng.choice(SURNAMES)
    head_age = rng.randint(28, 78)
    members = [_member(rng, ids, "head", head_age, surname, today)]
    if rng.random() < 0.8:
        members.append(_member(rng, ids, "spouse", max(20, head_age + rng.randint(-5, 3)), rng.choice(SURNAMES),
                               today))
    for _ in range(rng.choices([0, 1, 2, 3], [15, 35, 35, 15])[0]):
        if head_age < 60:
            members.append(_member(rng, ids, "child", max(0, head_age - rng.randint(20, 35)), surname, today))
        else:
            members.append(_member(rng, ids, "grandchild", rng.randint(1, 16), surname, today))
    if head_age < 50 and rng.random() < 0.25:
        members.append(_member(rng, ids, "parent", min(95, head_age + rng.randint(22, 30)), surname, today))
    return members


def households(members: int, *, seed: int | None = None, villages: list[str] | None = None,
               statuses: dict[str, float] | None = None, income_year: int = 2019) -> Iterator[list[dict[str, Any]]]:
    """Rows (one per member) household by household until `members` rows are written."""
    rng = random.Random(seed)
    ids = IdFactory(rng)
    villages = villages or [d.code for d in city_divisions() if d.level == "village"]
    statuses = statuses or {"identified": 1.0}
    today = clock.today()
    written, number = 0, 0
    run = f"{rng.randrange(16**6):06x}"
    while written < members:
        number += 1
        family = _family(rng, ids, today)[: members - written]
        if family[0]["relation"] != "head":
            break
        size = len(family)
        per_capita = rng.lognormvariate(8.25, 0.35)  # median ≈ 3800 yuan: some above, most near the line
        shared = {
            "household_key": f"H{run}-{number:07d}", "village_code": rng.choice(villages),
            "annual_income": f"{per_capita * size:.2f}", "income_year": income_year,
            "causes": ";".join(dict.fromkeys(rng.choices(list(CAUSES), list(CAUSES.values()),
                                                         k=rng.choice([1, 1, 2, 3])))),
            "food_clothing_secure": "true", "compulsory_education_ok": str(rng.random() < 0.95).lower(),
            "basic_medical_ok": str(rng.random() < 0.93).lower(), "housing_safe": str(rng.random() < 0.9).lower(),
            "drinking_water_safe": str(rng.random() < 0.95).lower(),
            "low_income_guarantee": str(rng.random() < 0.2).lower(),
            "status": rng.choices(list(statuses), list(statuses.values()))[0],
        }
        yield [{**shared, **m} for m in family]
        written += size


def write_file(path: Path, rows: Iterator[list[dict[str, Any]]]) -> int:
    """Write households to CSV or XLSX (by suffix); returns the number of member rows."""
    count = 0
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("members")
        sheet.append(list(COLUMNS))
        for family in rows:
            for member in family:
                sheet.append([str(member.get(c, "")) for c in COLUMNS])
                count += 1
        workbook.save(path)
        return count
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
        writer.writeheader()
        for family in rows:
            writer.writerows(family)
            count += len(family)
    return count


def main(members: int = typer.Option(..., "--members", min=1, help="how many member rows"),
         out: Path = typer.Option(..., "--out", help="CSV, or XLSX when the name ends in .xlsx"),
         seed: int | None = typer.Option(None, help="random seed for a reproducible file"),
         status: str = typer.Option("identified", help="status column: one status, or weights like "
                                    "'identified=0.6,registered=0.3,exited=0.1'")) -> None:
    weights = {part.split("=")[0]: float(part.split("=")[1]) if "=" in part else 1.0 for part in status.split(",")}
    count = write_file(out, households(members, seed=seed, statuses=weights))
    divisions_file = out.with_name(out.name + ".divisions.json")
    divisions_file.write_text(json.dumps([{"code": d.code, **d.body()} for d in city_divisions()],
                                         ensure_ascii=False, indent=1))
    typer.echo(f"wrote {count} members to {out} and the divisions to {divisions_file}")


if __name__ == "__main__":
    typer.run(main)
