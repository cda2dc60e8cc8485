"""The generator writes valid, unique people; the parser reads what Excel users in China produce (no database)."""

from pathlib import Path

from fupin_kit import clock
from fupin_kit.ids import validate_resident_id
from registry.imports.drafts import build_household
from registry.imports.parsing import COLUMNS, read_rows
from registry.imports.service import group_rows
from registry.synthetic import city_divisions, households


def test_generated_people_are_valid_unique_and_plausible() -> None:
    families = list(households(3000, seed=7))
    members = [m for f in families for m in f]
    assert len(members) == 3000
    numbers = [m["id_number"] for m in members]
    assert len(set(numbers)) == len(numbers)
    assert all(validate_resident_id(n) == n for n in numbers)
    assert all(f[0]["relation"] == "head" for f in families)
    heads_born = [int(f[0]["id_number"][6:10]) for f in families]
    assert min(heads_born) >= clock.today().year - 80 and max(heads_born) <= clock.today().year - 27


def test_divisions_fit_the_code_rules() -> None:
    divisions = city_divisions()
    codes = {d.code: d for d in divisions}
    for d in divisions:
        if d.level in ("town", "village"):
            assert d.code.startswith(d.parent_code or "x") and codes[d.parent_code or ""].level in ("county", "town")
    assert sum(d.level == "county" for d in divisions) == 3


def test_gbk_csv_with_chinese_booleans_builds_a_household() -> None:
    [family] = list(households(1, seed=3))
    villages = {family[0]["village_code"]}
    header = ",".join(COLUMNS)
    row = dict(family[0], food_clothing_secure="是", compulsory_education_ok="是", basic_medical_ok="否",
               housing_safe="1", drinking_water_safe="yes", causes="illness|lack_skills")
    content = (header + "\n" + ",".join(str(row.get(c, "")) for c in COLUMNS) + "\n").encode("gb18030")
    rows = list(read_rows(content, "csv"))
    assert rows[0][0] == 2 and rows[0][1]["name"] == family[0]["name"]
    [(key, members)] = group_rows(rows).items()
    draft, errors = build_household(key, members, villages, {})
    assert errors == [] and draft is not None
    assert draft.indicators["basic_medical_ok"] is False and draft.causes == ["illness", "lack_skills"]


def test_household_chunks_are_group_rows_in_chunks_however_the_file_is_ordered(tmp_path: Path) -> None:
    from registry.imports import service
    from registry.imports.parsing import household_sizes, read_file_rows

    families = list(households(60, seed=5))
    rows = [m for f in families for m in f]
    rows = rows[::2] + rows[1::2] + [{**rows[0], "household_key": "", "relation": "head"}]  # interleaved, one keyless
    path = tmp_path / "mixed.csv"
    path.write_text(",".join(COLUMNS) + "\n" + "".join(",".join(str(r.get(c, "")) for c in COLUMNS) + "\n"
                                                     for r in rows), encoding="utf-8")
    expected = list(group_rows(list(read_file_rows(path, "csv"))).items())
    sizes = household_sizes(path, "csv")
    assert list(sizes) == [key for key, _ in expected] and sum(sizes.values()) == len(rows)
    for size in (1, 7, 1000):
        chunks = list(service.household_chunks(read_file_rows(path, "csv"), sizes, size=size))
        assert [len(c) for c in chunks[:-1]] == [size] * (len(chunks) - 1)
        assert [household for chunk in chunks for household in chunk] == expected
