"""Public disclosure (阳光运行, seed §五(十五) 保障资金在阳光下运行): money paid per programme and village in a year.

Only amounts, programmes and division codes: no payee, no household, no person.
"""

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from finance.divisions import village_prefix
from fupin_kit.money import format_money

# A payment counts in the year (China Standard Time) it was paid; reversed payments are not money paid. An allocation
# counts once its money moved: at once, or when approved (maker-checker); pending and refused ones moved nothing.
_PAID = text("""
SELECT coalesce(village_code, county_code) AS village_code, program, count(*) AS payments, sum(amount) AS amount
FROM payments
WHERE status = 'paid' AND coalesce(village_code, county_code) LIKE :prefix
  AND extract(year FROM paid_at AT TIME ZONE 'Asia/Shanghai') = :year
GROUP BY 1, 2 ORDER BY 1, 2
""")
_ALLOCATED = text("""
SELECT jurisdiction_code, program, sum(amount) AS amount FROM allocations
WHERE status = 'allocated' AND jurisdiction_code LIKE :prefix
  AND extract(year FROM coalesce(decided_at, created_at) AT TIME ZONE 'Asia/Shanghai') = :year
GROUP BY 1, 2 ORDER BY 1, 2
""")


async def disclosure(session: AsyncSession, *, division_code: str, year: int) -> dict[str, Any]:
    params = {"prefix": village_prefix(division_code) + "%", "year": year}
    rows = (await session.exec(_PAID, params=params)).all()  # type: ignore[call-overload]
    programs: dict[str, dict[str, Any]] = {}
    villages: dict[str, dict[str, Any]] = {}
    total = Decimal("0.00")
    for village_code, program, count, amount in rows:
        total += amount
        entry = programs.setdefault(program, {"program": program, "payments": 0, "amount": Decimal("0.00")})
        entry["payments"] += count
        entry["amount"] += amount
        village = villages.setdefault(village_code, {"village_code": village_code, "amount": Decimal("0.00"),
                                                     "programs": []})
        village["amount"] += amount
        village["programs"].append({"program": program, "payments": count, "amount": format_money(amount)})
    allocated = (await session.exec(_ALLOCATED, params=params)).all()  # type: ignore[call-overload]
    return {
        "division_code": division_code, "year": year, "total_paid": format_money(total),
        "programs": [{**p, "amount": format_money(p["amount"])} for p in programs.values()],
        "villages": [{**v, "amount": format_money(v["amount"])} for v in villages.values()],
        "allocations": [{"jurisdiction_code": j, "program": p, "amount": format_money(a)} for j, p, a in allocated],
    }
