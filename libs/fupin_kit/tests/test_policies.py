"""The year-policy store: a year without a row answers the default with is_default; put creates, then replaces."""

from dataclasses import asdict, dataclass
from decimal import Decimal

from sqlmodel import SQLModel

from fupin_kit.db import Database
from fupin_kit.money import money_column, numeric
from fupin_kit.policies import PolicyStore, YearPolicyRow


class KitPolicyRow(YearPolicyRow, table=True):
    __tablename__ = "kit_test_policies"

    cap: Decimal = money_column()
    rate: Decimal = numeric(5, 4)


class OtherPolicyRow(YearPolicyRow, table=True):  # a second table from the same mixin: its own columns
    __tablename__ = "kit_test_other_policies"

    cap: Decimal = money_column()


@dataclass(frozen=True)
class KitPolicy:
    cap: Decimal = Decimal("50000.00")
    rate: Decimal = Decimal("0.0435")


STORE: PolicyStore[int, KitPolicy] = PolicyStore(
    KitPolicyRow, default=lambda year: KitPolicy(cap=Decimal(year)),
    from_row=lambda row: KitPolicy(cap=row.cap, rate=row.rate), to_row=asdict)


def test_the_mixin_gives_each_table_its_own_columns() -> None:
    assert isinstance(SQLModel.metadata.tables["kit_test_policies"].c.updated_at.type.timezone, bool)
    assert SQLModel.metadata.tables["kit_test_other_policies"].c.updated_at is not \
        SQLModel.metadata.tables["kit_test_policies"].c.updated_at
    assert not SQLModel.metadata.tables["kit_test_policies"].c.updated_at.nullable


async def test_default_then_created_then_replaced(db: Database) -> None:
    async with db.session() as session:
        stored = await STORE.get(session, 2031)
        assert (stored.key, stored.policy, stored.is_default) == (2031, KitPolicy(cap=Decimal(2031)), True)

        stored, created = await STORE.put(session, 2031, KitPolicy(Decimal("10.00"), Decimal("0.5")), actor="a")
        assert created and not stored.is_default
        stored, created = await STORE.put(session, 2031, KitPolicy(Decimal("20.00"), Decimal("0.25")), actor="b")
        assert not created
        await session.commit()

    async with db.session() as session:
        stored = await STORE.get(session, 2031)
        assert stored.policy == KitPolicy(Decimal("20.00"), Decimal("0.2500")) and not stored.is_default
        row = await STORE.row(session, 2031)
        assert row.updated_by == "b" and row.updated_at is not None
        policy_of = await STORE.table_of(session)
        assert policy_of(2031).cap == Decimal("20.00") and policy_of(2032).cap == Decimal(2032)
