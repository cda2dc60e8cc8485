"""Per-client token buckets: one client over its limit gets 429 with Retry-After, the others pass."""


from conftest import bearer

from gateway.clients import RateLimit
from gateway.ratelimit import TokenBuckets

BANK = bearer("microcredit:eligibility", client_id="bank-demo", bank_code="B001")
OTHER_BANK = bearer("microcredit:eligibility", client_id="bank-other", bank_code="B002")


async def test_a_client_over_its_limit_gets_429_while_another_passes(gateway_with) -> None:  # type: ignore[no-untyped-def]
    limits = {"bank-demo": {"per_second": 0.2, "burst": 3}}
    async with gateway_with(rate_limits=limits) as http:
        first = [await http.get("/microcredit/loans/1", headers=BANK) for _ in range(3)]
        over = await http.get("/microcredit/loans/1", headers=BANK)
        others = [await http.get("/microcredit/loans/1", headers=OTHER_BANK) for _ in range(10)]

    assert [a.status_code for a in first] == [200, 200, 200]
    assert over.status_code == 429
    assert over.headers["content-type"] == "application/problem+json"
    assert over.json()["code"] == "rate_limited"
    assert 1 <= int(over.headers["retry-after"]) <= 5
    assert {a.status_code for a in others} == {200}


async def test_the_default_limit_comes_from_the_environment_settings(gateway_with) -> None:  # type: ignore[no-untyped-def]
    # A refill of one token per 100 s: the third call finds the bucket empty however slow the machine is (at 1/s, a
    # loaded CI machine took over a second for the first two calls and the third found a new token).
    async with gateway_with(rate_limit_per_second=0.01, rate_limit_burst=2) as http:
        answers = [await http.get("/education/enrollments/1", headers=bearer("education:read")) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]


def test_bucket_refills_at_its_rate_and_reports_whole_seconds() -> None:
    now = [100.0]
    buckets = TokenBuckets(RateLimit(per_second=0.5, burst=1), clock=lambda: now[0])

    assert buckets.take("a") == 0
    assert buckets.take("a") == 2  # half a token per second: two seconds to the next one
    assert buckets.take("b") == 0  # another key has its own bucket
    now[0] += 2.0
    assert buckets.take("a") == 0


def test_retry_after_is_at_least_one_second() -> None:
    now = [0.0]
    buckets = TokenBuckets(RateLimit(per_second=1000, burst=1), clock=lambda: now[0])

    buckets.take("a")
    assert buckets.take("a") == 1
