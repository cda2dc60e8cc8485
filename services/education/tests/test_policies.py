"""PUT/GET /education/policies/{academic_year}."""

import httpx
from edu_support import READ, WRITE, token

AMOUNTS = {"preschool": "800.00", "boarding_primary": 1100, "boarding_junior": "1300.5", "senior": "2100.00",
           "secondary_vocational": "2200.00", "vocational_once": "3500.00"}


async def test_an_unset_year_reads_the_defaults(client: httpx.AsyncClient) -> None:
    answer = await client.get("/education/policies/2030-2031", headers=READ)
    assert answer.status_code == 200
    assert answer.json() == {"academic_year": "2030-2031", "is_default": True, "preschool": "750.00",
                             "boarding_primary": "1000.00", "boarding_junior": "1250.00", "senior": "2000.00",
                             "secondary_vocational": "2000.00", "vocational_once": "3000.00"}


async def test_a_set_policy_is_read_back_for_that_year_only(client: httpx.AsyncClient) -> None:
    answer = await client.put("/education/policies/2031-2032", json=AMOUNTS, headers=WRITE)
    assert answer.status_code == 200
    expected = {"academic_year": "2031-2032", "is_default": False, "preschool": "800.00",
                "boarding_primary": "1100.00", "boarding_junior": "1300.50", "senior": "2100.00",
                "secondary_vocational": "2200.00", "vocational_once": "3500.00"}
    assert answer.json() == expected
    assert (await client.get("/education/policies/2031-2032", headers=READ)).json() == expected
    again = await client.put("/education/policies/2031-2032", json={**AMOUNTS, "senior": "2150.00"}, headers=WRITE)
    assert again.status_code == 200
    assert (await client.get("/education/policies/2031-2032", headers=READ)).json()["senior"] == "2150.00"
    assert (await client.get("/education/policies/2032-2033", headers=READ)).json()["is_default"] is True


async def test_a_malformed_academic_year_is_a_validation_error_naming_the_field(client: httpx.AsyncClient) -> None:
    for year in ("2020-2022", "2020", "2020_2021", "2021-2020"):
        for answer in (await client.get(f"/education/policies/{year}", headers=READ),
                       await client.put(f"/education/policies/{year}", json=AMOUNTS, headers=WRITE)):
            assert answer.status_code == 422
            assert answer.headers["content-type"].startswith("application/problem+json")
            body = answer.json()
            assert body["code"] == "validation_error"
            assert [e["field"] for e in body["errors"]] == ["academic_year"]


async def test_bad_amounts_are_refused_and_nothing_is_stored(client: httpx.AsyncClient) -> None:
    cases = [({**AMOUNTS, "senior": "-1.00"}, "senior"), ({**AMOUNTS, "preschool": "750.001"}, "preschool"),
             ({**AMOUNTS, "boarding_junior": "a lot"}, "boarding_junior"),
             ({k: v for k, v in AMOUNTS.items() if k != "vocational_once"}, "vocational_once")]
    for body, field in cases:
        answer = await client.put("/education/policies/2033-2034", json=body, headers=WRITE)
        assert answer.status_code == 422
        assert answer.json()["code"] == "validation_error"
        assert field in [e["field"] for e in answer.json()["errors"]]
    assert (await client.get("/education/policies/2033-2034", headers=READ)).json()["is_default"] is True


async def test_policies_need_their_scopes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/education/policies/2020-2021")).status_code == 401
    assert (await client.get("/education/policies/2020-2021",
                             headers={"Authorization": "Bearer nonsense"})).json()["code"] == "unauthorized"
    forbidden = await client.get("/education/policies/2020-2021", headers=token("registry:read"))
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    put = await client.put("/education/policies/2034-2035", json=AMOUNTS, headers=READ)
    assert (put.status_code, put.json()["code"]) == (403, "forbidden")
    assert (await client.get("/education/policies/2034-2035", headers=READ)).json()["is_default"] is True
