"""Relocation (易地扶贫搬迁): the one-off subsidy on move-in."""

from decimal import Decimal

from fupin_kit.money import round_fen


def relocation_subsidy(per_person: Decimal, persons: int) -> Decimal:
    return round_fen(per_person * persons)
